// The reference offline client (libs/client) against the real services: several clients
// download and import a text package, make random offline edits, deletes and inserts, pull and
// push in random order while curators edit on the server, and update to a newer revision: one
// by the delta the server offers, one by that same delta file handed over offline, one (through
// the bible-client CLI) by asking the server itself. At the end every client's store equals, table
// by table, a full package freshly built at the server's head revision, and the verse texts equal
// Postgres's published rows. CLIENT_CONVERGENCE_SEED replays a run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { PACKAGE_TABLE_NAMES } from '@bible/package-format';
import { OfflineClient, type Status, createApiClient, ok } from '@bible/client';
import { type RunningService, repoRoot, startService, tokenFor } from '@bible/testing';
import { feedSettled } from '../support/feed-settled';
import { type SyncStack, seedTextVersion, startSyncStack } from './sync-harness';

const run = promisify(execFile);
const VERSION = 'ctv';
const RECORDS = 40;
const ROUNDS = 40;
const SEED = Number(process.env.CLIENT_CONVERGENCE_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Row = Record<string, unknown>;

/** Every package table but the metadata (which names the imported package), sorted by id. */
function storeTables(file: string): Record<string, Row[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, Row[]> = {};
    for (const table of PACKAGE_TABLE_NAMES) {
      if (table === 'package_metadata') continue;
      out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Row[];
    }
    return out;
  } finally {
    db.close();
  }
}

describe('reference offline clients converge', { timeout: 10 * 60_000 }, () => {
  let stack: SyncStack;
  let builder: RunningService;
  let curatorToken: string;
  const work = mkdtempSync(join(tmpdir(), 'client-e2e-'));
  const rand = random(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];

  before(async () => {
    stack = await startSyncStack({
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: '1000',
      // The fixture's package is tiny: its delta is mostly SQLite's fixed pages, which can come
      // near half of it. Deltas are what this test is about.
      PACKAGE_DELTA_MAX_SHARE: '1',
    });
    builder = await startService('package-builder', stack.env);
    await seedTextVersion(stack.db, VERSION, RECORDS);
    curatorToken = await tokenFor(stack.env.JWT_SECRET, 'curator', 'editor');
  });

  after(async () => {
    await builder?.stop('SIGTERM');
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** Requests the current full text package through the typed client and waits for it. */
  const currentPackage = async (): Promise<string> => {
    const api = createApiClient({ baseUrl: stack.gateway.url, token: curatorToken });
    const res = await api.POST('/v1/packages', {
      body: { packageType: 'text', languageEntityId: 'eng', textVersionId: VERSION },
    });
    const answer = ok(res, 'POST /v1/packages');
    if (!('jobId' in answer)) return answer.packageId; // 200: already built
    for (;;) {
      const job = ok(
        await api.GET('/v1/packages/jobs/{jobId}', { params: { path: { jobId: answer.jobId } } }),
        'job',
      );
      if (job.status === 'completed' && job.packageId) return job.packageId;
      assert.notEqual(job.status, 'failed', job.error);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const newClient = async (name: string): Promise<OfflineClient> =>
    new OfflineClient({
      dir: join(work, name),
      baseUrl: stack.gateway.url,
      token: await tokenFor(stack.env.JWT_SECRET, `client-${name}`, 'editor'),
      deviceId: `device-${name}`,
    });

  /** The bible-client CLI as a user would run it. */
  const cli = async (store: string, ...args: string[]): Promise<string> => {
    const token = await tokenFor(stack.env.JWT_SECRET, 'client-cli', 'editor');
    const { stdout } = await run(
      process.execPath,
      [join(repoRoot, 'libs/client/bin/bible-client.js'), '--store', store, ...args],
      { env: { ...process.env, BIBLE_SERVER: stack.gateway.url, BIBLE_TOKEN: token } },
    );
    return stdout;
  };

  const settled = () => feedSettled(stack.db);

  /** A curator's edit straight in Postgres (another tool writing content). */
  const serverEdit = async (n: number): Promise<void> => {
    await stack.db.query(
      `UPDATE verse_texts SET verse_text = $2, updated_at = now(), version = version + 1 WHERE id = $1`,
      [`${VERSION}-${n}`, `server ${n} ${Math.floor(rand() * 1e6)}`],
    );
  };

  it(`seed ${SEED}: edits, pulls, pushes and updates (server delta, delta file, CLI) end equal to a fresh full build`, async (t) => {
    await settled(); // the first package's revision covers the fixture
    const p1 = await currentPackage();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(newClient));

    // a: an interrupted download (the first half in a .part file) resumes with Range.
    const part = join(a.dir, 'downloads', `${p1}.bible.part`);
    const head = await fetch(`${stack.gateway.url}/v1/packages/${p1}/download`, {
      headers: { authorization: `Bearer ${curatorToken}`, range: 'bytes=0-4095' },
    });
    assert.equal(head.status, 206);
    writeFileSync(part, Buffer.from(await head.arrayBuffer()));
    writeFileSync(`${part}.etag`, head.headers.get('etag') ?? '');
    const resumed = await a.download(p1);
    assert.equal(resumed.resumedAt, 4096, 'a resumed after the bytes it had');
    await a.import(resumed.file, resumed.manifest);
    for (const client of [b, c]) {
      const { file, manifest } = await client.download(p1);
      await client.import(file, manifest);
    }
    const cliStore = join(work, 'cli');
    await cli(cliStore, 'download', p1, '--import');
    assert.equal((JSON.parse(await cli(cliStore, 'status')) as Status).packageId, p1);

    const ids = Array.from({ length: RECORDS }, (_, i) => `${VERSION}-${i + 1}`);
    const inserted = new Map<OfflineClient, number>();
    const randomStep = async (clients: OfflineClient[]): Promise<void> => {
      const client = pick(clients);
      const roll = rand();
      try {
        if (roll < 0.35)
          client.edit({
            table: 'verse_texts',
            recordId: pick(ids),
            operation: 'UPDATE',
            data: { verse_text: `edit ${Math.floor(rand() * 1e6)}` },
          });
        else if (roll < 0.42)
          client.edit({
            table: 'verse_texts',
            recordId: pick(ids),
            operation: 'UPDATE',
            data: { publish_status: rand() < 0.5 ? 'draft' : 'published' },
          });
        else if (roll < 0.47)
          client.edit({ table: 'verse_texts', recordId: pick(ids), operation: 'DELETE' });
        else if (roll < 0.52) {
          // Each client inserts on verses of its own (one text per verse and version).
          const n = (inserted.get(client) ?? 0) + 1;
          inserted.set(client, n);
          const verse = 100 + clients.indexOf(client) * 50 + n;
          client.edit({
            table: 'verse_texts',
            recordId: `${VERSION}-new-${verse}`,
            operation: 'INSERT',
            data: {
              verse_id: `fx-${verse}`,
              text_version_id: VERSION,
              verse_text: `new ${verse}`,
              publish_status: 'published',
            },
          });
        } else if (roll < 0.7) await client.push();
        else if (roll < 0.85) await client.pull();
        else await serverEdit(1 + Math.floor(rand() * RECORDS));
      } catch (error) {
        // Editing a record this client no longer holds (deleted or unpublished) is refused.
        if (!/is not in the store/.test((error as Error).message)) throw error;
      }
    };

    for (let i = 0; i < ROUNDS; i++) await randomStep([a, b, c]);
    await cli(cliStore, 'edit', 'verse_texts', `${VERSION}-7`, '--set', 'verse_text=from the cli');
    await cli(cliStore, 'push');
    for (const client of [a, b, c]) await client.push();
    for (const n of [3, 5, 8]) await serverEdit(n);
    await stack.db.query(
      `UPDATE verse_texts SET deleted_at = now(), version = version + 1 WHERE id = $1`,
      [`${VERSION}-9`],
    );

    // a asks the server and gets a delta; b applies a's delta file without asking anyone.
    const update = await a.update();
    assert.equal(update.upToDate, false);
    assert.ok(!update.upToDate && update.updateKind === 'delta', JSON.stringify(update));
    assert.ok(!update.upToDate && statSync(update.file).isFile(), 'the delta stays to hand on');
    const handedOver = join(work, 'sd-card.bible');
    if (!update.upToDate) copyFileSync(update.file, handedOver);
    await b.applyDeltaFile(handedOver);
    assert.equal(b.status().packageId, a.status().packageId);
    // the CLI client asks the server itself.
    await cli(cliStore, 'update');
    assert.equal(
      (JSON.parse(await cli(cliStore, 'status')) as Status).packageId,
      a.status().packageId,
    );

    for (let i = 0; i < ROUNDS; i++) await randomStep([a, b, c]);

    // Quiesce: everyone pushes; once the feed has settled, everyone pulls everything.
    for (const client of [a, b, c]) await client.push();
    await cli(cliStore, 'push');
    await serverEdit(11);
    await settled();
    // a updates again, by a delta from the package it rebuilt from the first one (unsigned, laid
    // out differently from the server's file: the delta names it by its rows).
    const second = await a.update();
    assert.ok(!second.upToDate && second.updateKind === 'delta', JSON.stringify(second));
    for (const client of [a, b, c]) await client.pull();
    await cli(cliStore, 'pull');

    const reference = await newClient('reference');
    const fresh = await reference.download(await currentPackage());
    await reference.import(fresh.file, fresh.manifest);
    const expected = storeTables(reference.storePath);
    if (!update.upToDate) t.diagnostic(`delta ${update.bytes} B, full ${fresh.bytes} B`);
    const { rows: server } = await stack.db.query<{ id: string; verse_text: string }>(
      `SELECT id, verse_text FROM verse_texts
        WHERE text_version_id = $1 AND deleted_at IS NULL AND publish_status = 'published' ORDER BY id`,
      [VERSION],
    );
    assert.deepEqual(
      expected.package_verse_texts.map((r) => ({ id: r.id, verse_text: r.verse_text })),
      server,
      'the fresh build holds what Postgres holds',
    );
    const clientStores: [string, string][] = [
      ...[a, b, c].map((x) => [x.dir, x.storePath] as [string, string]),
      [cliStore, join(cliStore, 'store.sqlite')],
    ];
    for (const [name, path] of clientStores) {
      assert.deepEqual(storeTables(path), expected, `${name} equals the server's content`);
    }
    for (const client of [a, b, c]) {
      const status = client.status();
      assert.equal(status.pending, 0, `${client.dir}: nothing left to push`);
      // Conflicts the server recorded for this client are the ones it recorded locally.
      const mine = ok(
        await createApiClient({
          baseUrl: stack.gateway.url,
          token: await tokenFor(
            stack.env.JWT_SECRET,
            `client-${client.dir.split('/').pop()}`,
            'editor',
          ),
        }).GET('/v1/sync/conflicts', { params: { query: { status: 'all', limit: 200 } } }),
        'conflicts',
      );
      assert.equal(status.conflicts, mine.items.length);
    }
  });
});
