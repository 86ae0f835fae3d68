import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The pg pool behind the TypeORM DataSource, for hot paths (sync push/pull, relay) that use raw
 * parameterised SQL with `{ rows, rowCount }` results and explicit transactions, without ORM
 * overhead on the hot push/pull paths.
 */
export function pgPool(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('the DataSource has no pg pool (not initialised?)');
  return pool;
}

/** Runs `work` in a transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
