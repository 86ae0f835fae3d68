import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { AppError, DATA_SOURCE, ErrorCode, pgPool } from '@bible/common';

export { inTransaction } from '@bible/common';

/** A sync service that runs its SQL on the pg pool under the TypeORM DataSource. */
@Injectable()
export abstract class PgService {
  protected readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
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
