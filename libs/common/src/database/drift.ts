import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './constants';

/**
 * Statements TypeORM's schema builder would run to make the database match the entities, plus a
 * note for every table no entity maps (the builder only inspects tables that entities name).
 * Empty means entities and applied migrations agree.
 */
export async function schemaDrift(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  const statements = sql.upQueries.map((q) => q.query);
  const mapped = new Set([MIGRATIONS_TABLE, ...dataSource.entityMetadatas.map((m) => m.tableName)]);
  const tables: { tablename: string }[] = await dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  for (const { tablename } of tables) {
    if (!mapped.has(tablename)) {
      statements.push(`-- table "${tablename}" exists but no entity maps it`);
    }
  }
  return statements;
}

export interface MigrationState {
  name: string;
  applied: boolean;
}

/** Every known migration with whether it has been applied, oldest first. */
export async function migrationStatus(dataSource: DataSource): Promise<MigrationState[]> {
  const exists: { present: boolean }[] = await dataSource.query(
    `SELECT to_regclass($1) IS NOT NULL AS present`,
    [MIGRATIONS_TABLE],
  );
  const applied = new Set<string>();
  if (exists[0]?.present) {
    const rows: { name: string }[] = await dataSource.query(
      `SELECT name FROM "${MIGRATIONS_TABLE}"`,
    );
    for (const row of rows) applied.add(row.name);
  }
  return dataSource.migrations
    .map((m) => m.name ?? m.constructor.name)
    .sort((a, b) => migrationTimestamp(a) - migrationTimestamp(b))
    .map((name) => ({ name, applied: applied.has(name) }));
}

function migrationTimestamp(name: string): number {
  return Number(/(\d{13})$/.exec(name)?.[1] ?? 0);
}
