import { injectTraceCarrier } from '../telemetry/otel';
import type { NewEvent } from './types';

/**
 * Anything that runs SQL in the caller's transaction: a pg `PoolClient` (sync push, relay) or a
 * TypeORM `EntityManager` (builder publish). Events must commit with the fact they report.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** Rows of a query result, whichever client ran it. */
export function rowsOf<T>(result: unknown): T[] {
  // pg answers { rows }, TypeORM's EntityManager the rows themselves.
  if (Array.isArray(result)) return result as T[];
  return (result as { rows?: T[] } | undefined)?.rows ?? [];
}

/**
 * Writes events in the caller's transaction, in the given order (one INSERT), and returns their
 * ids. The trace carrier defaults to the active context so a delivery continues the trace of the
 * request that caused the event.
 */
export async function recordEvents(db: Queryable, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const active = events.some((e) => !e.trace) ? injectTraceCarrier() : undefined;
  const carrier = active?.traceparent ? active : null;
  const rows = rowsOf<{ id: string }>(
    await db.query(
      `INSERT INTO events (type, data, user_id, trace)
       SELECT e.v->>'type', e.v->'data', e.v->>'userId', e.v->'trace'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, n)
        ORDER BY e.n
       RETURNING id`,
      [
        JSON.stringify(
          events.map((e) => ({
            type: e.type,
            data: e.data,
            userId: e.userId ?? null,
            trace: e.trace ?? carrier,
          })),
        ),
      ],
    ),
  );
  return rows.map((r) => r.id);
}

export async function recordEvent(db: Queryable, event: NewEvent): Promise<string> {
  const [id] = await recordEvents(db, [event]);
  return id;
}
