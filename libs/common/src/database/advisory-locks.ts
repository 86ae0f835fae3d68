/**
 * Every Postgres advisory lock key of the system, so two uses never collide. Periodic tasks take
 * none: each occurrence of a job scheduler runs on one replica (queues/maintenance.ts).
 */
export const advisoryLocks = {
  /** Session lock: serialises concurrent `npm run migrate` runs. */
  migrations: 7_242_253_001,
  /** Session lock held by the one sync-service replica that relays the change feed. */
  syncRelay: 7_242_253_101,
  /**
   * Seed of `hashtextextended(<user, client>, seed)`: transaction locks serialising the pushes of
   * one sync client. (Media uploads lock `hashtext('media_files:' || id)`, a 32-bit key space
   * that the 64-bit keys above stay out of.)
   */
  syncPushSeed: 7_242_253,
} as const;
