import type { DataSource } from 'typeorm';
import { DATA_SOURCE, QueueName, maintenanceScheduleProvider, pgPool } from '@bible/common';
import { SYNC_CONFIG, type SyncConfig } from '../config';
import { SyncStats } from '../stats/sync-stats.service';
import { SyncMaintenance } from './sync-maintenance.service';

/**
 * The sync-service's periodic work as job schedulers on the sync-maintenance queue. Each
 * occurrence runs on one replica, and the queue's global concurrency of 1 keeps the tasks from
 * overlapping across replicas (what per-task advisory locks used to do); every run is bounded.
 */
export const syncSchedules = maintenanceScheduleProvider(
  QueueName.SyncMaintenance,
  [SYNC_CONFIG, DATA_SOURCE, SyncStats],
  (config: SyncConfig, dataSource: DataSource, stats: SyncStats) => {
    const maintenance = new SyncMaintenance(pgPool(dataSource), config);
    const every = config.SYNC_MAINTENANCE_INTERVAL_MS;
    const count = (run: () => Promise<number>) => async () => ({ rows: await run() });
    return {
      'compact-change-log': { every, run: count(() => maintenance.compactChangeLog()) },
      'expire-sessions': { every, run: count(() => maintenance.expireSessions()) },
      'fail-interrupted-mutations': { every, run: count(() => maintenance.failInterrupted()) },
      'prune-sync-queue': { every, run: count(() => maintenance.pruneQueue()) },
      'refresh-sync-health': { every: config.SYNC_STATS_INTERVAL_MS, run: () => stats.refresh() },
    };
  },
  { globalConcurrency: 1 },
);
