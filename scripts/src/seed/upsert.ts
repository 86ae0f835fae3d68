import type { ClientBase } from 'pg';

export interface Column {
  name: string;
  /** Postgres element type used to unnest the parameter array, e.g. `text`, `int4`, `float8`. */
  type: string;
}

export interface UpsertCount {
  inserted: number;
  updated: number;
}

/**
 * Set-based "insert or update if different": one statement per table whatever the row count
 * (each column travels as one array parameter and is unnested). Rows whose values already match
 * are left untouched, so nothing is versioned or logged on a rerun. With `revive`, a row that was
 * soft-deleted is brought back (deleted_at cleared).
 */
export async function upsertRows(
  client: ClientBase,
  table: string,
  columns: Column[],
  rows: unknown[][],
  options: { key?: string[]; revive?: boolean } = {},
): Promise<UpsertCount> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const key = options.key ?? ['id'];
  const names = columns.map((c) => c.name);
  const updatable = names.filter((n) => !key.includes(n));
  const params = columns.map((_, i) => rows.map((r) => r[i]));
  const set = updatable.map((n) => `${n} = EXCLUDED.${n}`);
  let changed = `(${updatable.map((n) => `t.${n}`).join(', ')}) IS DISTINCT FROM (${updatable
    .map((n) => `EXCLUDED.${n}`)
    .join(', ')})`;
  if (options.revive) {
    set.push('deleted_at = NULL');
    changed = `(${changed} OR t.deleted_at IS NOT NULL)`;
  }
  const sql = `
    WITH written AS (
      INSERT INTO ${table} AS t (${names.join(', ')})
      SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})
      ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${set.join(', ')} WHERE ${changed}
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
           count(*) FILTER (WHERE NOT inserted)::int AS updated
      FROM written`;
  const result = await client.query<UpsertCount>(sql, params);
  return result.rows[0];
}
