// Property test of sync (issue #5): ten simulated offline clients make random edits, deletes and
// inserts, sync in random order (sometimes concurrently), lose responses and retry, replay pushes,
// resolve conflicts, while the server edits too. Afterwards every client holds exactly the
// server's state, every accepted update is in the change history, and nothing applied twice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type Api,
  type Change,
  type Mutation,
  type MutationResult,
  type PushResponse,
  type SyncStack,
  pullAll,
  seedAudioVersion,
  seedTextVersion,
  startSession,
  startSyncStack,
} from './sync-harness';
import { eventually } from '@bible/testing';

const CLIENTS = 10;
const RECORDS = 6;
const INSERT_SLOTS = 3;
const TEXTS = ['alpha', 'beta', 'gamma', 'delta'];

type Row = Record<string, unknown>;

interface Known {
  version: number;
  /** null: deleted (a tombstone). */
  row: Row | null;
}

type Command =
  | { kind: 'edit'; client: number; record: number; text: number }
  | { kind: 'status'; client: number; record: number; draft: boolean }
  | { kind: 'delete'; client: number; record: number }
  | { kind: 'insert'; client: number; slot: number; text: number }
  | { kind: 'timing'; client: number }
  | { kind: 'sync'; client: number; loseResponse: boolean; twice: boolean }
  | { kind: 'pull'; client: number }
  | { kind: 'together'; clients: number[] }
  | { kind: 'server'; record: number; text: number }
  | { kind: 'resolve'; client: number; choice: 'client_wins' | 'server_wins' | 'merged' };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const record = fc.integer({ min: 0, max: RECORDS - 1 });
const text = fc.integer({ min: 0, max: TEXTS.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('edit' as const), client, record, text }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('status' as const),
      client,
      record,
      draft: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), client, record }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      client,
      slot: fc.integer({ min: 0, max: INSERT_SLOTS - 1 }),
      text,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('timing' as const), client }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      client,
      loseResponse: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pull' as const), client }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('together' as const),
      clients: fc.uniqueArray(client, { minLength: 2, maxLength: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('server' as const), record, text }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      client,
      choice: fc.constantFrom('client_wins' as const, 'server_wins' as const, 'merged' as const),
    }),
  },
);

const key = (table: string, id: string) => `${table}/${id}`;

class SimClient {
  cursor: string | undefined;
  readonly known = new Map<string, Known>();
  outbox: Mutation[] = [];
  readonly conflicts: string[] = [];
  private n = 0;

  constructor(
    readonly name: string,
    readonly api: Api,
    readonly session: string,
    readonly skewMs: number,
    readonly scope: string,
    readonly ledger: Ledger,
  ) {}

  now(): string {
    return new Date(Date.now() + this.skewMs).toISOString();
  }

  private enqueue(m: Omit<Mutation, 'mutationId' | 'clientUpdatedAt'>): void {
    this.outbox.push({ ...m, mutationId: `${this.name}-${++this.n}`, clientUpdatedAt: this.now() });
  }

  edit(recordId: string, data: NonNullable<Mutation['data']>): void {
    const k = this.known.get(key('verse_texts', recordId));
    if (!k) return; // never seen: nothing to edit offline
    this.enqueue({
      table: 'verse_texts',
      recordId,
      operation: 'UPDATE',
      data,
      baseVersion: k.version,
    });
  }

  remove(recordId: string): void {
    const k = this.known.get(key('verse_texts', recordId));
    if (!k || !k.row) return;
    this.enqueue({ table: 'verse_texts', recordId, operation: 'DELETE', baseVersion: k.version });
  }

  insert(recordId: string, verseId: string, verseText: string): void {
    const k = this.known.get(key('verse_texts', recordId));
    if (k?.row) return this.edit(recordId, { verse_text: verseText });
    this.enqueue({
      table: 'verse_texts',
      recordId,
      operation: 'INSERT',
      data: {
        verse_id: verseId,
        text_version_id: this.scope,
        verse_text: verseText,
        publish_status: 'published',
      },
    });
  }

  timing(recordId: string): void {
    this.enqueue({
      table: 'media_files_verses',
      recordId,
      operation: 'UPDATE',
      data: { duration_seconds: 3 },
      baseVersion: 1,
    });
  }

  /** Applies a server row if it is newer than what the client knows (the version guard). */
  learn(
    table: string,
    recordId: string,
    version: number | undefined,
    row: Row | null | undefined,
    deleted = false,
  ): void {
    if (version === undefined || row === undefined) return;
    const k = key(table, recordId);
    const current = this.known.get(k);
    const tombstone =
      deleted || (row !== null && row.deleted_at !== null && row.deleted_at !== undefined);
    if (current && (version < current.version || (version === current.version && !tombstone)))
      return;
    this.known.set(k, { version, row: tombstone ? null : row });
  }

  async push(options: { loseResponse: boolean; twice: boolean }): Promise<void> {
    if (this.outbox.length === 0) return;
    const body = { sessionId: this.session, clientId: this.name, mutations: this.outbox };
    const send = async () => {
      const res = await this.api.post<PushResponse>('/v1/sync/push', body);
      assert.equal(res.status, 200, res.text);
      return res.body;
    };
    const responses = options.twice ? await Promise.all([send(), send()]) : [await send()];
    for (const response of responses) this.ledger.record(this.name, response.results);
    if (options.loseResponse) return; // the client never saw it: it will push the same mutations again
    const results = responses[0].results;
    const keep: Mutation[] = [];
    for (const [i, result] of results.entries()) {
      const m = this.outbox[i];
      assert.equal(result.mutationId, m.mutationId);
      if (result.result === 'rejected' && result.retryable) keep.push(m);
      if (result.result === 'conflict' && result.conflictId) this.conflicts.push(result.conflictId);
      if (result.serverRecord) this.learn(m.table, m.recordId, result.version, result.serverRecord);
    }
    this.outbox = keep;
  }

  async pull(): Promise<void> {
    const page = await pullAll(this.api, { textVersionId: this.scope }, this.cursor, 50);
    this.apply(page.changes);
    this.cursor = page.cursor;
  }

  apply(changes: Change[]): void {
    for (const c of changes) {
      this.learn(c.table, c.recordId, c.version ?? 0, c.data, c.operation === 'DELETE');
    }
  }

  async resolve(choice: 'client_wins' | 'server_wins' | 'merged'): Promise<void> {
    const id = this.conflicts.shift();
    if (!id) return;
    const res = await this.api.post<{
      serverRecord: Row | null;
      conflict: { table: string; recordId: string };
    }>(
      `/v1/sync/conflicts/${id}/resolve`,
      choice === 'merged'
        ? { resolution: choice, data: { verse_text: 'merged' } }
        : { resolution: choice },
    );
    assert.ok(res.status === 200 || res.status === 409, res.text);
    if (res.status === 200 && res.body.serverRecord) {
      const row = res.body.serverRecord;
      this.learn(res.body.conflict.table, res.body.conflict.recordId, Number(row.version), row);
    }
  }
}

/** Every push response seen, per (client, mutation): replays must repeat the first exactly. */
class Ledger {
  readonly first = new Map<string, MutationResult>();
  readonly replayMismatches: string[] = [];

  constructor(private readonly tally: Map<string, number>) {}

  record(clientName: string, results: MutationResult[]): void {
    for (const r of results) {
      const k = `${clientName}/${r.mutationId}`;
      const seen = this.first.get(k);
      const count = (name: string) => this.tally.set(name, (this.tally.get(name) ?? 0) + 1);
      if (!seen || (seen.result === 'rejected' && seen.retryable)) {
        this.first.set(k, r);
        count(
          r.result === 'rejected'
            ? `rejected:${r.error?.code}`
            : r.merged
              ? 'applied:merged'
              : r.discarded
                ? 'applied:partly'
                : r.result,
        );
      } else if (JSON.stringify(sortKeys(seen)) !== JSON.stringify(sortKeys(r))) {
        this.replayMismatches.push(`${k}: ${JSON.stringify(seen)} then ${JSON.stringify(r)}`);
      } else {
        count('replayed');
      }
    }
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

describe('sync convergence (property test)', { timeout: 20 * 60_000 }, () => {
  let stack: SyncStack;
  let run = 0;
  /** Outcomes over all runs: the generated histories must exercise every rule. */
  const tally = new Map<string, number>();

  before(async () => {
    stack = await startSyncStack();
  });

  after(async () => {
    await stack?.stop();
  });

  it(`${CLIENTS} offline clients converge to the server state; no accepted update is lost or applied twice`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 40, maxLength: 90 }),
        fc.array(fc.integer({ min: -3_000, max: 3_000 }), {
          minLength: CLIENTS,
          maxLength: CLIENTS,
        }),
        async (commands, skews) => {
          run++;
          const scope = `tv-prop-${run}`;
          const records = await seedTextVersion(stack.db, scope, RECORDS);
          const { timings } = await seedAudioVersion(stack.db, `av-prop-${run}`);
          const ledger = new Ledger(tally);
          const clients: SimClient[] = [];
          for (let i = 0; i < CLIENTS; i++) {
            const api = await stack.api(`prop-user-${i}`, 'editor');
            const session = await startSession(api, `device-${i}`);
            clients.push(new SimClient(`prop-${run}-${i}`, api, session, skews[i], scope, ledger));
          }
          // Each client imports the current state (like a package) before going offline.
          await Promise.all(
            clients.map((c) =>
              eventually(async () => (await c.pull(), c.known.size >= RECORDS + 1), 60_000, 100),
            ),
          );

          const newId = (slot: number) => `${scope}-new-${slot}`;
          for (const cmd of commands) {
            switch (cmd.kind) {
              case 'edit':
                clients[cmd.client].edit(records[cmd.record], { verse_text: TEXTS[cmd.text] });
                break;
              case 'status':
                clients[cmd.client].edit(records[cmd.record], {
                  publish_status: cmd.draft ? 'draft' : 'published',
                });
                break;
              case 'delete':
                clients[cmd.client].remove(records[cmd.record]);
                break;
              case 'insert':
                clients[cmd.client].insert(
                  newId(cmd.slot),
                  `fx-${200 + cmd.slot}`,
                  TEXTS[cmd.text],
                );
                break;
              case 'timing':
                clients[cmd.client].timing(timings[0]);
                break;
              case 'sync':
                await clients[cmd.client].push(cmd);
                await clients[cmd.client].pull();
                break;
              case 'pull':
                await clients[cmd.client].pull();
                break;
              case 'together':
                await Promise.all(
                  cmd.clients.map(async (i) => {
                    await clients[i].push({ loseResponse: false, twice: false });
                    await clients[i].pull();
                  }),
                );
                break;
              case 'server':
                await stack.db.query(
                  `UPDATE verse_texts SET verse_text = $2 WHERE id = $1 AND deleted_at IS NULL`,
                  [records[cmd.record], `server ${TEXTS[cmd.text]}`],
                );
                break;
              case 'resolve':
                await clients[cmd.client].resolve(cmd.choice);
                break;
            }
          }

          // Everyone comes back online: push until nothing is pending, then pull to the head.
          for (let round = 0; round < 5 && clients.some((c) => c.outbox.length > 0); round++) {
            for (const c of clients) await c.push({ loseResponse: false, twice: false });
          }
          for (const c of clients)
            assert.deepEqual(c.outbox, [], `${c.name} has nothing left to push`);

          const server = await serverState(stack, scope);
          await Promise.all(
            clients.map((c) =>
              eventually(
                async () => {
                  await c.pull();
                  return sameState(c, server);
                },
                60_000,
                100,
              ).catch(() => {
                assert.deepEqual(describe_(c), describeServer(server), `${c.name} converged`);
              }),
            ),
          );

          // Replays answered exactly what the first attempt answered.
          assert.deepEqual(ledger.replayMismatches, []);

          // No change applied twice: one change_log row per applied (non no-op) mutation.
          const { rows: applied } = await stack.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM sync_queue
              WHERE client_id LIKE $1 AND status = 'applied' AND NOT coalesce((result->>'noop')::boolean, false)`,
            [`prop-${run}-%`],
          );
          const { rows: logged } = await stack.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM change_log WHERE text_version_id = $1 AND change_source = 'client_sync'`,
            [scope],
          );
          assert.equal(logged[0].n, applied[0].n, 'each applied mutation wrote exactly one change');
          const { rows: dupes } = await stack.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM (SELECT client_id, mutation_id FROM sync_queue WHERE client_id LIKE $1
              GROUP BY 1, 2 HAVING count(*) > 1) d`,
            [`prop-${run}-%`],
          );
          assert.equal(dupes[0].n, 0);

          // No accepted update lost: every applied result is a version in the record's history,
          // with exactly the content the client was told, and histories have no gaps.
          const { rows: history } = await stack.db.query<{
            record_id: string;
            record_version: number;
            new_data: Row | null;
          }>(
            `SELECT record_id, record_version, new_data FROM change_log
              WHERE text_version_id = $1 AND table_name = 'verse_texts' ORDER BY txid, id`,
            [scope],
          );
          const versions = new Map<string, Map<number, Row | null>>();
          for (const h of history) {
            const byVersion = versions.get(h.record_id) ?? new Map<number, Row | null>();
            byVersion.set(h.record_version, h.new_data);
            versions.set(h.record_id, byVersion);
          }
          for (const [recordId, byVersion] of versions) {
            const max = Math.max(...byVersion.keys());
            assert.equal(byVersion.size, max, `${recordId}: versions 1..${max} all in the history`);
          }
          let accepted = 0;
          for (const [k, result] of ledger.first) {
            if (result.result !== 'applied' || result.noop) continue;
            accepted++;
            const recordId = result.serverRecord?.id as string;
            if (!recordId?.startsWith(scope)) continue;
            assert.deepEqual(
              versions.get(recordId)?.get(result.version as number),
              result.serverRecord,
              `${k} is in the history`,
            );
          }
          assert.ok(
            accepted > 0 || commands.every((c) => c.kind !== 'edit'),
            'some updates were accepted',
          );
        },
      ),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 8), endOnFailure: true },
    );
    const seen = Object.fromEntries([...tally].sort());
    for (const outcome of [
      'applied',
      'applied:merged',
      'conflict',
      'ignored',
      'replayed',
      'rejected:SERVER_NEWER',
    ]) {
      assert.ok(
        (tally.get(outcome) ?? 0) > 0,
        `the runs exercised ${outcome}: ${JSON.stringify(seen)}`,
      );
    }
    console.log(`sync property outcomes over ${run} runs: ${JSON.stringify(seen)}`);
  });
});

interface ServerState {
  rows: Map<string, { version: number; row: Row | null }>;
}

async function serverState(stack: SyncStack, scope: string): Promise<ServerState> {
  const { rows } = await stack.db.query<{ k: string; version: number; row: Row }>(
    `SELECT 'verse_texts/' || id AS k, version, to_jsonb(v.*) AS row FROM verse_texts v WHERE text_version_id = $1
     UNION ALL
     SELECT 'text_versions/' || id, version, to_jsonb(t.*) FROM text_versions t WHERE id = $1`,
    [scope],
  );
  return {
    rows: new Map(
      rows.map((r) => [r.k, { version: r.version, row: r.row.deleted_at ? null : r.row }]),
    ),
  };
}

function sameState(c: SimClient, server: ServerState): boolean {
  return JSON.stringify(describe_(c)) === JSON.stringify(describeServer(server));
}

function describe_(c: SimClient): Record<string, unknown> {
  return Object.fromEntries(
    [...c.known].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]),
  );
}

function describeServer(server: ServerState): Record<string, unknown> {
  return Object.fromEntries(
    [...server.rows].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]),
  );
}
