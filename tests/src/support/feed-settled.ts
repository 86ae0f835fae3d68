import { eventually } from '@bible/testing';

interface Queryable {
  query<R>(sql: string): Promise<{ rows: R[] }>;
}

/**
 * Waits until the feed's horizon (the oldest transaction running anywhere in the cluster) has
 * passed the last write, so revisions and pulls include everything written so far: a change
 * becomes part of a package revision only when no older transaction can still commit.
 */
export function feedSettled(db: Queryable, timeoutMs = 120_000): Promise<boolean> {
  return eventually(
    async () =>
      (
        await db.query<{ ok: boolean }>(
          'SELECT change_log_safe_xmin() > (SELECT max(txid) FROM change_log) AS ok',
        )
      ).rows[0].ok,
    timeoutMs,
  );
}
