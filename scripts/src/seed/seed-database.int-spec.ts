// The seed against the test database and the real object store: full content, true audio
// metadata, and a second run that changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseBuffer } from 'music-metadata';
import { Client } from 'pg';
import { parseConfig, s3Env } from '@bible/common/config/env';
import { requireTestDatabaseUrl, resetTestDatabase } from '@bible/common/database/testing';
import { createS3Client } from '@bible/storage';
import { runSeed, type SeedSummary } from './run-seed';
import { AUDIO_VERSION, TEXT_VERSION } from './seed-content';

/** Row count of every public table (except the migrations table) and change_log's high mark. */
async function snapshot(db: Client): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await db.query<{ n: string; touched: string | null }>(
      `SELECT count(*) AS n, max(xmin::text::bigint)::text AS touched FROM ${name}`,
    );
    out[name] = `${rows[0].n} rows, last write ${rows[0].touched}`;
  }
  const { rows } = await db.query<{ max: string | null }>(
    `SELECT max(id)::text AS max FROM change_log`,
  );
  out['change_log.max_id'] = rows[0].max ?? 'none';
  return out;
}

async function hashObject(s3: S3Client, bucket: string, key: string) {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.Body as Readable) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex'), contentType: res.ContentType };
}

void describe('seed', () => {
  const databaseUrl = requireTestDatabaseUrl();
  const s3Config = parseConfig(s3Env);
  let db: Client;
  let first: SeedSummary;

  before(async () => {
    await resetTestDatabase(databaseUrl);
    first = await runSeed({ databaseUrl, s3: s3Config, migrate: true });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  after(async () => {
    await db?.end();
  });

  void it('seeds the whole Bible structure, the WEB text and the narrated Gospel of John', () => {
    assert.deepEqual(first.counts, {
      books: 66,
      chapters: 1189,
      verses: 31095,
      verseTexts: 31095,
      mediaFiles: 21,
      verseTimings: 879,
    });
    assert.equal(first.changes.verse_texts.inserted, 31095);
  });

  void it('publishes the versions, texts and media files', async () => {
    const { rows } = await db.query<{ drafts: number }>(
      `SELECT (SELECT count(*) FROM verse_texts WHERE publish_status <> 'published')
            + (SELECT count(*) FROM media_files WHERE publish_status <> 'published')
            + (SELECT count(*) FROM text_versions WHERE publish_status <> 'published')
            + (SELECT count(*) FROM audio_versions WHERE publish_status <> 'published') AS drafts`,
    );
    assert.equal(Number(rows[0].drafts), 0);
  });

  void it('times every verse of John once, contiguously and inside its file', async () => {
    const { rows } = await db.query<{
      chapter_id: string;
      file_duration: number;
      verse_number: number;
      start: number;
      duration: number;
    }>(
      `SELECT f.chapter_id, f.duration_seconds AS file_duration, v.verse_number,
              t.start_time_seconds AS start, t.duration_seconds AS duration
         FROM media_files_verses t
         JOIN media_files f ON f.id = t.media_file_id
         JOIN verses v ON v.id = t.verse_id
        WHERE f.audio_version_id = $1
        ORDER BY f.chapter_id, t.start_time_seconds`,
      [AUDIO_VERSION.id],
    );
    const { rows: johnVerses } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM verses v JOIN chapters c ON c.id = v.chapter_id WHERE c.book_id = 'john'`,
    );
    assert.equal(rows.length, Number(johnVerses[0].n));
    let previous: (typeof rows)[number] | undefined;
    for (const r of rows) {
      assert.ok(r.duration >= 2 - 1e-9, 'at least 2 s per verse');
      assert.ok(r.start + r.duration <= r.file_duration, 'inside the file');
      if (previous?.chapter_id === r.chapter_id) {
        assert.ok(Math.abs(previous.start + previous.duration - r.start) < 1e-6, 'contiguous');
        assert.ok(r.verse_number > previous.verse_number, 'in verse order');
      } else {
        assert.equal(r.start, 0);
      }
      previous = r;
    }
  });

  void it('attributes every change to the seed', async () => {
    const { rows } = await db.query<{ source: string; by: string; n: string }>(
      `SELECT change_source AS source, changed_by AS by, count(*) AS n FROM change_log GROUP BY 1, 2`,
    );
    assert.deepEqual(
      rows.map((r) => [r.source, r.by, Number(r.n)]),
      [['seed', 'system', 31095 + 21 + 879 + 2]],
    );
  });

  void it('stores each audio file with the size and sha256 recorded in media_files', async () => {
    const s3 = createS3Client(s3Config);
    try {
      const { rows } = await db.query<{
        remote_path: string;
        file_size: string;
        sha256: string;
        duration_seconds: number;
      }>(
        `SELECT remote_path, file_size, sha256, duration_seconds FROM media_files WHERE audio_version_id = $1`,
        [AUDIO_VERSION.id],
      );
      assert.equal(rows.length, 21);
      for (const row of rows) {
        const stored = await hashObject(s3, s3Config.S3_BUCKET, row.remote_path);
        assert.equal(stored.size, Number(row.file_size), row.remote_path);
        assert.equal(stored.sha256, row.sha256, row.remote_path);
        assert.equal(stored.contentType, 'audio/mpeg');
      }
      // Duration is true too: decode one stored file.
      const sample = rows[0];
      const body = await s3.send(
        new GetObjectCommand({ Bucket: s3Config.S3_BUCKET, Key: sample.remote_path }),
      );
      const bytes = await body.Body!.transformToByteArray();
      const { format } = await parseBuffer(bytes, { mimeType: 'audio/mpeg' }, { duration: true });
      assert.ok(Math.abs((format.duration ?? 0) - sample.duration_seconds) < 1e-6);
    } finally {
      s3.destroy();
    }
  });

  void it('changes nothing when run again', async () => {
    const before = await snapshot(db);
    const second = await runSeed({ databaseUrl, s3: s3Config });
    assert.deepEqual(await snapshot(db), before);
    assert.deepEqual(second.counts, first.counts);
    for (const [table, change] of Object.entries(second.changes)) {
      assert.deepEqual(change, { inserted: 0, updated: 0 }, table);
    }
    assert.equal(second.objects.uploaded, 0);
    assert.equal(second.audio.generated, 0);
  });

  void it('repairs seeded rows that were edited or soft-deleted', async () => {
    await db.query(`UPDATE verse_texts SET deleted_at = now() WHERE id = $1`, [
      `${TEXT_VERSION.id}-john-3-16`,
    ]);
    await db.query(
      `UPDATE media_files SET bitrate = 1 WHERE audio_version_id = $1 AND chapter_id = 'john-3'`,
      [AUDIO_VERSION.id],
    );
    const third = await runSeed({ databaseUrl, s3: s3Config });
    assert.deepEqual(third.changes.verse_texts, { inserted: 0, updated: 1 });
    assert.deepEqual(third.changes.media_files, { inserted: 0, updated: 1 });
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM verse_texts WHERE deleted_at IS NULL AND text_version_id = $1`,
      [TEXT_VERSION.id],
    );
    assert.equal(Number(rows[0].n), 31095);
  });
});
