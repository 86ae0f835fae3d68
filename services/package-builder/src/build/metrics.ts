import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@bible/common';

export const buildsTotal = new Counter({
  name: 'bible_package_builds_total',
  help: 'Package build attempts by package type and outcome.',
  labelNames: ['type', 'status'] as const,
  registers: [metricsRegistry],
});

export const buildStageDuration = new Histogram({
  name: 'bible_package_build_duration_seconds',
  help: 'Package build time by stage (gather, database, audio, assemble, upload, total).',
  labelNames: ['stage'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
  registers: [metricsRegistry],
});

export const bytesBuilt = new Counter({
  name: 'bible_package_bytes_built_total',
  help: 'Bytes of finished packages uploaded to the object store.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

export const databaseRows = new Counter({
  name: 'bible_package_database_rows_total',
  help: 'Rows written into package databases.',
  registers: [metricsRegistry],
});

export const databaseWriteSeconds = new Counter({
  name: 'bible_package_database_write_seconds_total',
  help: 'Time spent writing rows into package databases (SQLite inserts only).',
  registers: [metricsRegistry],
});

export const queueWait = new Histogram({
  name: 'bible_queue_wait_seconds',
  help: 'Time jobs waited in the queue before a worker took them.',
  labelNames: ['queue'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
  registers: [metricsRegistry],
});
