import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@bible/common';

let loadHealth: () => Promise<void> = async () => undefined;

/** Registers what loads the latest health figures into the gauges below before a scrape. */
export function onHealthScrape(load: () => Promise<void>): void {
  loadHealth = load;
}

const collectHealth = { collect: () => loadHealth() };

// ---- change-feed relay ----

export const relayLagSeconds = new Gauge({
  name: 'bible_sync_relay_lag_seconds',
  help: 'Age of the oldest committed change not yet relayed (0 when the relay is caught up).',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const feedLagSeconds = new Histogram({
  name: 'bible_sync_feed_lag_seconds',
  help: 'Per relayed change: time from its write (transaction start) to its relay.',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [metricsRegistry],
});

export const relayedChangesTotal = new Counter({
  name: 'bible_sync_relay_changes_total',
  help: 'Changes relayed from change_log (package invalidation and content.changed events).',
  registers: [metricsRegistry],
});

export const relayBatchDuration = new Histogram({
  name: 'bible_sync_relay_batch_duration_seconds',
  help: 'Time to read, publish and apply one relay batch.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const relayErrorsTotal = new Counter({
  name: 'bible_sync_relay_errors_total',
  help: 'Relay iterations that failed (retried with backoff).',
  registers: [metricsRegistry],
});

export const relayLeader = new Gauge({
  name: 'bible_sync_relay_leader',
  help: '1 when this replica holds the relay lock and relays the feed.',
  registers: [metricsRegistry],
});

export const packagesInvalidatedTotal = new Counter({
  name: 'bible_sync_packages_invalidated_total',
  help: 'Ready package generations marked stale by a relayed content change.',
  registers: [metricsRegistry],
});

export const compactedChangesTotal = new Counter({
  name: 'bible_sync_compacted_changes_total',
  help: 'change_log rows removed by retention.',
  registers: [metricsRegistry],
});

// ---- sync health (computed by a job scheduler, loaded from its Redis snapshot on scrape) ----

export const pendingMutations = new Gauge({
  name: 'bible_sync_pending_mutations',
  help: 'Pushed mutations stored but not yet applied.',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const failedMutations = new Gauge({
  name: 'bible_sync_failed_mutations',
  help: 'Mutations whose last attempt failed within the last hour (retryable by pushing them again).',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const oldestPendingSeconds = new Gauge({
  name: 'bible_sync_oldest_pending_seconds',
  help: 'Age of the oldest pending mutation (0 when none).',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const conflictRate = new Gauge({
  name: 'bible_sync_conflict_rate',
  help: 'Share of mutations processed in the last 24 h that ended as conflicts.',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const averageSyncSeconds = new Gauge({
  name: 'bible_sync_average_sync_seconds',
  help: 'Average duration of sync sessions completed in the last 24 h.',
  registers: [metricsRegistry],
  ...collectHealth,
});

export const openConflicts = new Gauge({
  name: 'bible_sync_open_conflicts',
  help: 'Conflicts not yet resolved.',
  registers: [metricsRegistry],
  ...collectHealth,
});
