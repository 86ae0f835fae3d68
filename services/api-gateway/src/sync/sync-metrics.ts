import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@bible/common';

/** Push outcomes: applied | rejected | conflict | ignored | failed (retryable) | replayed. */
export const pushMutationsTotal = new Counter({
  name: 'bible_sync_push_mutations_total',
  help: 'Pushed sync mutations by outcome (replayed: a repeated mutation answered from sync_queue).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const pushDuration = new Histogram({
  name: 'bible_sync_push_duration_seconds',
  help: 'Time to store and apply one push request.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const pullChangesTotal = new Counter({
  name: 'bible_sync_pull_changes_total',
  help: 'Changes delivered by GET /v1/sync/changes.',
  registers: [metricsRegistry],
});

export const pullDuration = new Histogram({
  name: 'bible_sync_pull_duration_seconds',
  help: 'Time to read one page of the change feed.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const cursorRejectionsTotal = new Counter({
  name: 'bible_sync_cursor_rejections_total',
  help: 'Pulls answered 409 SYNC_CURSOR_INVALID, by reason (malformed | future | expired).',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});
