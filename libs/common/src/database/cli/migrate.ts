#!/usr/bin/env node
/*
 * npm run migrate -- [up | down [N|all] | status | check] [--env-file PATH]
 *
 * up      apply pending migrations (default)
 * down    revert the last N migrations (default 1; `all` reverts everything)
 * status  list migrations and whether each is applied
 * check   apply pending migrations, then exit 1 listing any SQL TypeORM would still run to make
 *         the database match the entities (entities and migrations must agree exactly)
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { ConfigError, databaseEnv, parseConfig } from '../../config/env';
import { advisoryLocks } from '../advisory-locks';
import { createDataSource } from '../data-source';
import { migrationStatus, schemaDrift } from '../drift';

/** Serializes concurrent migrate runs (parallel CI jobs, several services starting at once). */
const MIGRATION_LOCK_KEY = advisoryLocks.migrations;

class CliError extends Error {}

function loadDatabaseUrl(envFile: string | undefined): string {
  if (envFile) {
    // Node 20's loadEnvFile exits the process on a missing file instead of throwing.
    if (!existsSync(envFile)) throw new CliError(`env file ${envFile} does not exist`);
    try {
      // Values already in the environment win over the file.
      process.loadEnvFile(envFile);
    } catch (error) {
      throw new CliError(`cannot read env file ${envFile}: ${(error as Error).message}`);
    }
  }
  const { DATABASE_URL } = parseConfig({ DATABASE_URL: databaseEnv.DATABASE_URL });
  return DATABASE_URL;
}

async function withDataSource(
  envFile: string | undefined,
  run: (dataSource: DataSource) => Promise<void>,
): Promise<void> {
  const dataSource = createDataSource(loadDatabaseUrl(envFile), {
    poolMax: 2,
    statementTimeoutMs: 0,
    applicationName: 'bible-migrate',
    logging: ['warn'],
  });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await run(dataSource);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}

async function up(dataSource: DataSource): Promise<number> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  for (const m of applied) console.log(`applied  ${m.name}`);
  return applied.length;
}

function parseCount(value: string): number | 'all' {
  if (value === 'all') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer or "all"');
  return n;
}

const program = new Command('migrate')
  .description('Apply, revert and verify the database schema (reads DATABASE_URL)')
  .option('--env-file <path>', 'load variables from this file (exported values win)');

const envFile = () => program.opts<{ envFile?: string }>().envFile;

program
  .command('up', { isDefault: true })
  .description('apply pending migrations')
  .action(() =>
    withDataSource(envFile(), async (ds) => {
      const n = await up(ds);
      console.log(n === 0 ? 'schema is up to date' : `${n} migration(s) applied`);
    }),
  );

program
  .command('down')
  .description('revert the last N migrations')
  .argument('[count]', 'number of migrations, or "all"', parseCount, 1)
  .action((count: number | 'all') =>
    withDataSource(envFile(), async (ds) => {
      const appliedBefore = (await migrationStatus(ds)).filter((m) => m.applied).reverse();
      const todo = count === 'all' ? appliedBefore.length : Math.min(count, appliedBefore.length);
      for (let i = 0; i < todo; i++) {
        await ds.undoLastMigration({ transaction: 'each' });
        console.log(`reverted ${appliedBefore[i].name}`);
      }
      if (todo === 0) console.log('nothing to revert');
    }),
  );

program
  .command('status')
  .description('list migrations')
  .action(() =>
    withDataSource(envFile(), async (ds) => {
      const states = await migrationStatus(ds);
      for (const m of states) console.log(`${m.applied ? 'applied ' : 'pending '} ${m.name}`);
      const pending = states.filter((m) => !m.applied).length;
      console.log(pending === 0 ? 'schema is up to date' : `${pending} pending migration(s)`);
    }),
  );

program
  .command('check')
  .description('apply pending migrations, then fail if entities and schema differ')
  .action(() =>
    withDataSource(envFile(), async (ds) => {
      await up(ds);
      const drift = await schemaDrift(ds);
      if (drift.length === 0) {
        console.log('schema matches the entities');
        return;
      }
      console.error(`schema drift: ${drift.length} statement(s) would be needed:`);
      for (const statement of drift) console.error(`  ${statement};`);
      process.exitCode = 1;
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof CliError) {
    console.error(`migrate: ${error.message}`);
  } else {
    console.error('migrate failed:', error);
  }
  process.exitCode = 1;
});
