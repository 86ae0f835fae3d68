// Shared setup of the sync e2e suites: a freshly migrated test database with a small fixture,
// the gateway and sync-service as processes, a private Redis database index, and helpers.
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { freshTestDataSource, insertBaseContent } from '@bible/common/database/testing';
import type { ResponseBody } from '@bible/client';
import { type RunningService, apiClient, startService, testEnv, tokenFor } from '@bible/testing';

export type Api = ReturnType<typeof apiClient>;

// Request and response shapes come from the client generated from the OpenAPI document.
export type Page = ResponseBody<'getV1SyncChanges'>;
export type Change = Page['changes'][number];
export type PushResponse = ResponseBody<'postV1SyncPush'>;
export type MutationResult = PushResponse['results'][number];
export type { Mutation } from '@bible/client';

export interface SyncStack {
  env: Record<string, string>;
  gateway: RunningService;
  sync: RunningService;
  db: Pool;
  redis: Redis;
  api(sub: string, role?: 'user' | 'editor' | 'admin'): Promise<Api>;
  anonymous: Api;
  stop(): Promise<void>;
}

/** The stack's Redis URL pointed at a database index of its own (BullMQ keys stay separate). */
function privateRedisUrl(url: string, index: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${index}`;
  return parsed.toString();
}

/** Verses `fx-1` ... `fx-<count>` in chapter `fx-chapter` (John, bible version `bv`). */
export const FIXTURE_VERSES = 300;

/**
 * Resets and migrates the test database, inserts the base fixture, and starts gateway and
 * sync-service with sync-friendly settings (high sync rate limit, fast relay and maintenance).
 */
export async function startSyncStack(overrides: Record<string, string> = {}): Promise<SyncStack> {
  const ds = await freshTestDataSource();
  await insertBaseContent(ds);
  await ds.query(`
    INSERT INTO chapters (id, chapter_number, book_id, total_verses) VALUES ('fx-chapter', 2, 'john', ${FIXTURE_VERSES});
    INSERT INTO verses (id, chapter_id, verse_number)
      SELECT 'fx-' || n, 'fx-chapter', n FROM generate_series(1, ${FIXTURE_VERSES}) n;`);
  await ds.destroy();

  const base = testEnv();
  // Flushed below: scripts/run-tests.mjs gives each integration lane its own index.
  const redisUrl = privateRedisUrl(base.REDIS_URL, Number(process.env.SYNC_TEST_REDIS_DB ?? 13));
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  await redis.flushdb();
  const env = testEnv({
    REDIS_URL: redisUrl,
    RATE_LIMIT_SYNC_PER_USER_HOUR: '1000000',
    SYNC_RELAY_INTERVAL_MS: '50',
    SYNC_MAINTENANCE_INTERVAL_MS: '300',
    SYNC_STATS_INTERVAL_MS: '200',
    ...overrides,
  });
  const [gateway, sync] = await Promise.all([
    startService('api-gateway', env),
    startService('sync-service', env),
  ]);
  const db = new Pool({ connectionString: env.DATABASE_URL, max: 8, application_name: 'sync-e2e' });
  const tokens = new Map<string, Api>();
  return {
    env,
    gateway,
    sync,
    db,
    redis,
    anonymous: apiClient(gateway.url),
    async api(sub, role = 'editor') {
      const k = `${sub}/${role}`;
      if (!tokens.has(k))
        tokens.set(k, apiClient(gateway.url, await tokenFor(env.JWT_SECRET, sub, role)));
      return tokens.get(k) as Api;
    },
    async stop() {
      await Promise.all([gateway.stop('SIGTERM'), sync.stop('SIGTERM')]);
      await db.end();
      await redis.flushdb().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** A published text version `id` with verse texts `<id>-1..count` on verses fx-1..count. */
export async function seedTextVersion(
  db: Pool,
  id: string,
  count: number,
  status = 'published',
): Promise<string[]> {
  await db.query(
    `INSERT INTO text_versions (id, language_entity_id, bible_version_id, name, publish_status)
     VALUES ($1, 'eng', 'bv', $1, $2)`,
    [id, status],
  );
  await db.query(
    `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, publish_status)
     SELECT $1 || '-' || n, 'fx-' || n, $1, 'text ' || n, 'published' FROM generate_series(1, $2::int) n`,
    [id, count],
  );
  return Array.from({ length: count }, (_, i) => `${id}-${i + 1}`);
}

/** An audio version with one 60 s media file `<id>-mf` and timings for fx-1..3. */
export async function seedAudioVersion(
  db: Pool,
  id: string,
): Promise<{ mediaFile: string; timings: string[] }> {
  await db.query(
    `INSERT INTO audio_versions (id, language_entity_id, bible_version_id, name, publish_status)
     VALUES ($1, 'eng', 'bv', $1, 'published')`,
    [id],
  );
  await db.query(
    `INSERT INTO media_files (id, language_entity_id, audio_version_id, chapter_id, duration_seconds)
     VALUES ($1 || '-mf', 'eng', $1, 'fx-chapter', 60)`,
    [id],
  );
  await db.query(
    `INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
     SELECT $1 || '-t' || n, $1 || '-mf', 'fx-' || n, (n - 1) * 10, 10 FROM generate_series(1, 3) n`,
    [id],
  );
  return { mediaFile: `${id}-mf`, timings: [1, 2, 3].map((n) => `${id}-t${n}`) };
}

/** The row as the server holds it now (jsonb, like change_log and push results). */
export async function serverRow(
  db: Pool,
  table: string,
  id: string,
): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(t.*) AS row FROM ${table} t WHERE id = $1`,
    [id],
  );
  return rows[0]?.row ?? null;
}

export async function startSession(api: Api, deviceId = 'device'): Promise<string> {
  const res = await api.post<{ sessionId: string }>('/v1/sync/sessions', { deviceId });
  if (res.status !== 201) throw new Error(`session: ${res.status} ${res.text}`);
  return res.body.sessionId;
}

/** Pulls every page after `cursor` (following nextCursor until hasMore is false). */
export async function pullAll(
  api: Api,
  scope: { textVersionId?: string; audioVersionId?: string },
  cursor?: string,
  limit = 1_000,
): Promise<{ changes: Change[]; cursor: string; pages: number }> {
  const changes: Change[] = [];
  let next = cursor;
  let pages = 0;
  for (;;) {
    const q = new URLSearchParams({
      ...scope,
      limit: String(limit),
      ...(next && { cursor: next }),
    });
    const res = await api.get<Page>(`/v1/sync/changes?${q.toString()}`);
    if (res.status !== 200) throw new Error(`pull: ${res.status} ${res.text}`);
    pages++;
    changes.push(...res.body.changes);
    next = res.body.nextCursor;
    if (!res.body.hasMore) return { changes, cursor: next, pages };
  }
}

export function at(msFromNow = 0): string {
  return new Date(Date.now() + msFromNow).toISOString();
}
