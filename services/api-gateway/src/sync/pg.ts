import type { Pool, PoolClient } from 'pg';
import { AppError, ErrorCode } from '@bible/common';
import type { DataSource } from 'typeorm';

/**
 * The pg pool behind the TypeORM DataSource. Sync talks to Postgres through it directly: raw
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

/** Postgres error classes that mean "try again later", not "your request is wrong". */
const TRANSIENT_SQLSTATE = /^(08|53|57P|58|40001$|40P01$|55P03$|57014$)/;
const TRANSIENT_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** Turns a database outage or a transient database error into 503 + Retry-After (not a 500). */
export function translateDbError(error: unknown): never {
  if (error instanceof AppError) throw error;
  const e = error as { code?: string; message?: string };
  const transient =
    (typeof e.code === 'string' &&
      (TRANSIENT_SQLSTATE.test(e.code) || TRANSIENT_NODE.has(e.code))) ||
    /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(
      e.message ?? '',
    );
  if (transient) {
    throw new AppError(
      503,
      ErrorCode.ServiceUnavailable,
      'The database is unavailable, retry shortly',
      [],
      {
        'Retry-After': '2',
      },
    );
  }
  throw error;
}
