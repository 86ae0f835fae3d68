import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one statement and returns its rows (those of RETURNING for data-modifying ones). Shared
 * queries take this instead of a driver, so the gateway (TypeORM) and the import CLI (pg Client)
 * run the same SQL.
 */
export type Sql = <T>(text: string, params: unknown[]) => Promise<T[]>;

/**
 * Rows of a data-modifying statement with RETURNING. TypeORM's postgres driver answers UPDATE and
 * DELETE with `[rows, rowCount]` but INSERT and SELECT with the rows; this evens that out.
 */
export async function returning<T>(
  runner: EntityManager | DataSource,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const result: unknown = await runner.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** `Sql` over a TypeORM manager or data source. */
export function typeormSql(runner: EntityManager | DataSource): Sql {
  return (text, params) => returning(runner, text, params);
}
