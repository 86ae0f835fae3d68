import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { resetTestDatabase } from '@bible/common/database/testing';
import {
  MIGRATIONS_TABLE,
  SETTING_CHANGE_SOURCE,
  SETTING_USER_ID,
  createDataSource,
  migrations,
} from '@bible/common/database/index';
import { createS3Client, type S3Config } from '@bible/storage';
import { chapterId, loadBible, verseId, type BibleData } from './bible-data';
import { narrateChapter } from './narration';
import { ensureBucket, putIfChanged } from './object-store';
import { AUDIO_VERSION, SEED_USER, TEXT_VERSION, objectKey } from './seed-content';
import type { UpsertCount } from './upsert';
import { writeSeedRows, type NarratedChapterRow } from './write-rows';

/** Repository root (scripts/dist/seed → ../../..). */
const repoRoot = resolve(__dirname, '..', '..', '..');

export interface SeedOptions {
  databaseUrl: string;
  s3: S3Config;
  /** Default: data/bible-web.json.gz in the repository. */
  dataFile?: string;
  /** Where generated audio is cached. Default: .stack/cache/audio. */
  cacheDir?: string;
  /** Apply pending migrations first instead of refusing to run. */
  migrate?: boolean;
  log?: (message: string) => void;
}

export interface SeedSummary {
  counts: {
    books: number;
    chapters: number;
    verses: number;
    verseTexts: number;
    mediaFiles: number;
    verseTimings: number;
  };
  /** Rows inserted / updated per table by this run (all zero on a rerun). */
  changes: Record<string, UpsertCount>;
  audio: { generated: number; cached: number; bytes: number; seconds: number };
  objects: { uploaded: number; unchanged: number };
  timingsMs: { load: number; audio: number; upload: number; database: number; total: number };
}

async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function ensureSchema(databaseUrl: string, migrate: boolean, client: Client): Promise<void> {
  if (migrate) {
    const ds = createDataSource(databaseUrl, {
      poolMax: 1,
      statementTimeoutMs: 0,
      applicationName: 'bible-seed',
      logging: false,
    });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
  }
  const exists = await client.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [MIGRATIONS_TABLE],
  );
  const applied = new Set<string>();
  if (exists.rows[0].present) {
    const rows = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
    for (const r of rows.rows) applied.add(r.name);
  }
  const pending = migrations.map((m) => m.name).filter((name) => !applied.has(name));
  if (pending.length > 0) {
    throw new Error(
      `database schema is not up to date (${pending.length} pending migration(s)): run \`npm run migrate\` first`,
    );
  }
}

function narratedBook(bible: BibleData) {
  const book = bible.books.find((b) => b.osis === AUDIO_VERSION.book);
  if (!book) throw new Error(`the Bible data has no book ${AUDIO_VERSION.book}`);
  return book;
}

async function countRows(client: Client): Promise<SeedSummary['counts']> {
  const { rows } = await client.query<SeedSummary['counts']>(
    `SELECT
       (SELECT count(*)::int FROM books) AS books,
       (SELECT count(*)::int FROM chapters) AS chapters,
       (SELECT count(*)::int FROM verses) AS verses,
       (SELECT count(*)::int FROM verse_texts WHERE text_version_id = $1) AS "verseTexts",
       (SELECT count(*)::int FROM media_files WHERE audio_version_id = $2) AS "mediaFiles",
       (SELECT count(*)::int FROM media_files_verses v JOIN media_files f ON f.id = v.media_file_id
         WHERE f.audio_version_id = $2) AS "verseTimings"`,
    [TEXT_VERSION.id, AUDIO_VERSION.id],
  );
  return rows[0];
}

/** Milliseconds since the previous lap. */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
}

async function narrateBook(bible: BibleData, cacheDir: string): Promise<NarratedChapterRow[]> {
  const book = narratedBook(bible);
  return mapLimit(book.chapters, Math.max(1, Math.min(4, availableParallelism())), async (ch) => ({
    chapterNumber: ch.number,
    ...(await narrateChapter(
      join(cacheDir, AUDIO_VERSION.id),
      chapterId(book.osis, ch.number),
      `${book.name} ${ch.number}`,
      ch.verses.map((v) => ({ id: verseId(book.osis, ch.number, v.number), text: v.text })),
    )),
  }));
}

/** Uploads what the store does not hold yet; returns how many objects were uploaded. */
async function uploadAudio(config: S3Config, narrated: NarratedChapterRow[]): Promise<number> {
  const s3 = createS3Client(config, 8);
  try {
    await ensureBucket(s3, config.S3_BUCKET);
    const results = await mapLimit(narrated, 4, (n) =>
      putIfChanged(s3, config.S3_BUCKET, {
        key: objectKey(chapterId(AUDIO_VERSION.book, n.chapterNumber)),
        file: n.file,
        size: n.size,
        sha256: n.sha256,
        contentType: 'audio/mpeg',
      }),
    );
    return results.filter(Boolean).length;
  } catch (error) {
    throw new Error(
      `object store upload to ${config.S3_ENDPOINT ?? 'S3'} bucket ${config.S3_BUCKET} failed: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    s3.destroy();
  }
}

/** All rows in one transaction, attributed to the seed in change_log. */
async function writeRows(
  client: Client,
  bible: BibleData,
  narrated: NarratedChapterRow[],
): Promise<Record<string, UpsertCount>> {
  await client.query('BEGIN');
  try {
    // One seed at a time.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('bible-seed'))`);
    await client.query('SELECT set_config($1, $2, true), set_config($3, $4, true)', [
      SETTING_CHANGE_SOURCE,
      'seed',
      SETTING_USER_ID,
      SEED_USER,
    ]);
    // A regenerated file and its new timings are checked together at commit.
    await client.query(
      'SET CONSTRAINTS media_files_verses_within_file, media_files_timings_within_file DEFERRED',
    );
    const changes = await writeSeedRows(client, bible, narrated);
    await client.query('COMMIT');
    return changes;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Seeds the WEB text, the Bible structure, users, and a synthetic narration of John (audio in
 * the object store, media files and verse timings in the database). Idempotent: a rerun uploads
 * nothing and writes no row.
 */
export async function runSeed(options: SeedOptions): Promise<SeedSummary> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const lap = stopwatch();
  const bible = await loadBible(options.dataFile ?? join(repoRoot, 'data', 'bible-web.json.gz'));
  const client = new Client({
    connectionString: options.databaseUrl,
    application_name: 'bible-seed',
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to the database (DATABASE_URL): ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    // Fail before generating or uploading anything if the schema is not there.
    await ensureSchema(options.databaseUrl, options.migrate ?? false, client);
    const load = lap();

    const narrated = await narrateBook(
      bible,
      options.cacheDir ?? join(repoRoot, '.stack', 'cache', 'audio'),
    );
    const generated = narrated.filter((n) => !n.fromCache).length;
    const audio = lap();
    log(`audio: ${narrated.length} chapter files (${generated} generated)`);

    const uploaded = await uploadAudio(options.s3, narrated);
    const upload = lap();
    log(`objects: ${uploaded} uploaded, ${narrated.length - uploaded} already stored`);

    const changes = await writeRows(client, bible, narrated);
    const counts = await countRows(client);
    const database = lap();

    return {
      counts,
      changes,
      audio: {
        generated,
        cached: narrated.length - generated,
        bytes: narrated.reduce((sum, n) => sum + n.size, 0),
        seconds: narrated.reduce((sum, n) => sum + n.durationSeconds, 0),
      },
      objects: { uploaded, unchanged: narrated.length - uploaded },
      timingsMs: { load, audio, upload, database, total: Math.round(performance.now() - started) },
    };
  } finally {
    await client.end();
  }
}

/**
 * Empties the database of a stack environment (a test or bench database, never the dev one),
 * migrates it and seeds it; audio comes from the cache and unchanged objects are not uploaded
 * again, so this takes seconds.
 */
export async function reseedDatabase(env: Record<string, string>): Promise<void> {
  await resetTestDatabase(env.DATABASE_URL);
  await runSeed({
    databaseUrl: env.DATABASE_URL,
    migrate: true,
    s3: {
      S3_ENDPOINT: env.S3_ENDPOINT,
      S3_REGION: env.S3_REGION,
      S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
      S3_BUCKET: env.S3_BUCKET,
      S3_FORCE_PATH_STYLE: true,
    },
    log: () => undefined,
  });
}
