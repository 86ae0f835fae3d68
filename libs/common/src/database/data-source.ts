import { DataSource, type LoggerOptions } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { MIGRATIONS_TABLE } from './constants';
import { entities } from './entities';
import { migrations } from './migrations';

export interface DataSourceFactoryOptions {
  /** Pool size (default 10). */
  poolMax?: number;
  /** Per-statement timeout in ms; 0 disables it (default 60 000). */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity (default `bible`). */
  applicationName?: string;
  /** TypeORM logging (default warnings and migration progress). */
  logging?: LoggerOptions;
}

/**
 * DataSource options with every entity and migration. The schema comes only from migrations:
 * `synchronize` and `migrationsRun` stay off and TypeORM never installs extensions (the stack
 * creates pg_trgm/pgcrypto as superuser; uuids default to the built-in gen_random_uuid()).
 */
export function dataSourceOptions(
  databaseUrl: string,
  options: DataSourceFactoryOptions = {},
): PostgresConnectionOptions {
  const poolMax = options.poolMax ?? 10;
  return {
    type: 'postgres',
    url: databaseUrl,
    entities,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    applicationName: options.applicationName ?? 'bible',
    poolSize: poolMax,
    logging: options.logging ?? ['warn', 'migration'],
    extra: {
      max: poolMax,
      statement_timeout: options.statementTimeoutMs ?? 60_000,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    },
  };
}

/** A new (not yet initialized) DataSource; call `initialize()` before use. */
export function createDataSource(
  databaseUrl: string,
  options: DataSourceFactoryOptions = {},
): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl, options));
}
