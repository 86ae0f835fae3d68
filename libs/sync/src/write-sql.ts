import { type Row, WRITE_POLICIES, type WriteKind } from './rules';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Only allow-listed tables and columns ever reach SQL text; values are always parameters. */
function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not an identifier: ${name}`);
  return `"${name}"`;
}

function writableTable(table: string): string {
  if (!WRITE_POLICIES[table]) throw new Error(`not a writable table: ${table}`);
  return identifier(table);
}

export interface Statement {
  text: string;
  values: unknown[];
}

/** The statement performing one decided write; every variant returns the row as jsonb. */
export function writeStatement(
  table: string,
  recordId: string,
  write: WriteKind,
  set: Row,
): Statement {
  const t = writableTable(table);
  const columns = Object.keys(set);
  const values = [recordId, ...columns.map((c) => set[c])];
  const assignments = columns.map((c, i) => `${identifier(c)} = $${i + 2}`);
  switch (write) {
    case 'insert':
      return {
        text: `INSERT INTO ${t} AS t ("id"${columns.map((c) => `, ${identifier(c)}`).join('')})
               VALUES ($1${columns.map((_, i) => `, $${i + 2}`).join('')}) RETURNING to_jsonb(t.*) AS row`,
        values,
      };
    case 'update':
      return {
        text: `UPDATE ${t} AS t SET ${assignments.join(', ')} WHERE t.id = $1 RETURNING to_jsonb(t.*) AS row`,
        values,
      };
    case 'undelete':
      return {
        text: `UPDATE ${t} AS t SET ${['"deleted_at" = NULL', ...assignments].join(', ')}
                WHERE t.id = $1 RETURNING to_jsonb(t.*) AS row`,
        values,
      };
    case 'delete':
      return {
        text: `UPDATE ${t} AS t SET "deleted_at" = now() WHERE t.id = $1 RETURNING to_jsonb(t.*) AS row`,
        values: [recordId],
      };
  }
}

/** Locks and reads the current rows of one table (jsonb, like change_log holds them). */
export function lockRowsStatement(table: string, ids: string[], lock: boolean): Statement {
  return {
    text: `SELECT t.id, to_jsonb(t.*) AS row FROM ${writableTable(table)} t WHERE t.id = ANY($1::text[])${
      lock ? ' FOR UPDATE' : ''
    }`,
    values: [ids],
  };
}

/**
 * Many updates of distinct rows of one table in one statement (one change_log trigger run):
 * `jsonb_populate_record(t, set)` overlays each row's own columns, typed by the table.
 */
export function batchUpdateStatement(table: string, items: { id: string; set: Row }[]): Statement {
  const t = writableTable(table);
  const columns = [...new Set(items.flatMap((i) => Object.keys(i.set)))].sort().map(identifier);
  if (columns.length === 0) throw new Error('a batch update needs columns');
  return {
    text: `UPDATE ${t} AS t SET (${columns.join(', ')}) =
             (SELECT ${columns.map((c) => `r.${c}`).join(', ')} FROM jsonb_populate_record(t, v.set) r)
             FROM jsonb_to_recordset($1::jsonb) AS v(id text, set jsonb)
            WHERE t.id = v.id RETURNING t.id, to_jsonb(t.*) AS row`,
    values: [JSON.stringify(items)],
  };
}

/** Soft-deletes distinct rows of one table in one statement. */
export function batchDeleteStatement(table: string, ids: string[]): Statement {
  return {
    text: `UPDATE ${writableTable(table)} AS t SET "deleted_at" = now()
            WHERE t.id = ANY($1::text[]) RETURNING t.id, to_jsonb(t.*) AS row`,
    values: [ids],
  };
}
