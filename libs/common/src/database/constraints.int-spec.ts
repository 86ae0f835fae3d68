// Database-enforced rules: verse timings stay inside their media file, durations are positive,
// and every status column only accepts its documented values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { freshTestDataSource, insertBaseContent } from './testing';

interface PgError {
  code?: string;
  constraint?: string;
  driverError?: { code?: string; constraint?: string };
}

/** Asserts `sql` fails with a check violation naming `constraint`. */
async function rejectsCheck(ds: DataSource, sql: string, constraint: string): Promise<void> {
  await assert.rejects(ds.query(sql), (error: PgError) => {
    const pg = error.driverError ?? error;
    assert.equal(pg.code, '23514', `expected a check violation for: ${sql}`);
    assert.equal(pg.constraint, constraint);
    return true;
  });
}

void describe('database constraints', () => {
  let ds: DataSource;

  before(async () => {
    ds = await freshTestDataSource();
    await insertBaseContent(ds);
    await ds.query(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, duration_seconds)
        VALUES ('mf', 'eng', 'av1', 10);
      INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
        VALUES ('t1', 'mf', 'john-1-1', 0, 4), ('t2', 'mf', 'john-1-2', 4, 6);`);
  });

  after(async () => {
    await ds?.destroy();
  });

  void describe('verse timings', () => {
    void it('reject a timing that ends past the media file', async () => {
      await rejectsCheck(
        ds,
        `INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
         VALUES ('t3', 'mf', 'john-1-3', 9, 1.5)`,
        'media_files_verses_within_file',
      );
    });

    void it('accept a timing that ends exactly at the end of the file', async () => {
      await ds.query(`UPDATE media_files_verses SET duration_seconds = 6.0 WHERE id = 't2'`);
      const [{ n }] = await ds.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM media_files_verses WHERE media_file_id = 'mf'`,
      );
      assert.equal(n, 2);
    });

    void it('reject moving a timing past the end', async () => {
      await rejectsCheck(
        ds,
        `UPDATE media_files_verses SET start_time_seconds = 5 WHERE id = 't2'`,
        'media_files_verses_within_file',
      );
    });

    void it('reject timings on a file without a duration', async () => {
      await ds.query(`INSERT INTO media_files (id, language_entity_id, audio_version_id)
                      VALUES ('mf-pending', 'eng', 'av1')`);
      await rejectsCheck(
        ds,
        `INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
         VALUES ('tp', 'mf-pending', 'john-1-1', 0, 1)`,
        'media_files_verses_within_file',
      );
    });

    void it('reject shortening a media file below its timings', async () => {
      await rejectsCheck(
        ds,
        `UPDATE media_files SET duration_seconds = 9 WHERE id = 'mf'`,
        'media_files_verses_within_file',
      );
    });

    void it('allow replacing a file and its timings together when deferred', async () => {
      await ds.transaction(async (m) => {
        await m.query(
          `SET CONSTRAINTS media_files_verses_within_file, media_files_timings_within_file DEFERRED`,
        );
        await m.query(`UPDATE media_files SET duration_seconds = 8 WHERE id = 'mf'`);
        await m.query(`UPDATE media_files_verses SET duration_seconds = 4 WHERE id = 't2'`);
      });
      const [{ duration_seconds }] = await ds.query<{ duration_seconds: number }[]>(
        `SELECT duration_seconds FROM media_files WHERE id = 'mf'`,
      );
      assert.equal(duration_seconds, 8);
    });

    void it('ignore soft-deleted timings', async () => {
      await ds.query(`UPDATE media_files_verses SET deleted_at = now() WHERE id = 't2'`);
      await ds.query(`UPDATE media_files SET duration_seconds = 5 WHERE id = 'mf'`);
    });

    void it('require positive durations and non-negative start times', async () => {
      await rejectsCheck(
        ds,
        `UPDATE media_files_verses SET duration_seconds = 0 WHERE id = 't1'`,
        'chk_media_files_verses_duration_seconds',
      );
      await rejectsCheck(
        ds,
        `UPDATE media_files_verses SET start_time_seconds = -1 WHERE id = 't1'`,
        'chk_media_files_verses_start_time_seconds',
      );
      await rejectsCheck(
        ds,
        `UPDATE media_files SET duration_seconds = 0 WHERE id = 'mf-pending'`,
        'chk_media_files_duration_seconds',
      );
    });
  });

  void describe('media files', () => {
    void it('only publish completed uploads with size, duration and hash', async () => {
      await rejectsCheck(
        ds,
        `UPDATE media_files SET publish_status = 'published' WHERE id = 'mf-pending'`,
        'chk_media_files_published_upload',
      );
      await rejectsCheck(
        ds,
        `UPDATE media_files SET upload_status = 'completed' WHERE id = 'mf-pending'`,
        'chk_media_files_completed_upload',
      );
      await rejectsCheck(
        ds,
        `UPDATE media_files SET sha256 = 'not-a-hash' WHERE id = 'mf-pending'`,
        'chk_media_files_sha256',
      );
    });
  });

  void describe('status values', () => {
    const bad: [string, string][] = [
      [`UPDATE bible_versions SET publish_status = 'live'`, 'chk_bible_versions_publish_status'],
      [`UPDATE audio_versions SET publish_status = 'live'`, 'chk_audio_versions_publish_status'],
      [`UPDATE text_versions SET publish_status = 'live'`, 'chk_text_versions_publish_status'],
      [`UPDATE media_files SET publish_status = 'live'`, 'chk_media_files_publish_status'],
      [`UPDATE media_files SET upload_status = 'done'`, 'chk_media_files_upload_status'],
      [`UPDATE media_files SET check_status = 'ok'`, 'chk_media_files_check_status'],
      [`UPDATE media_files SET format = 'wav'`, 'chk_media_files_format'],
      [`UPDATE media_files SET media_type = 'image'`, 'chk_media_files_media_type'],
      [`UPDATE books SET testament = 'AP'`, 'chk_books_testament'],
      [
        `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, publish_status)
         VALUES ('vt-bad', 'john-1-1', 'tv1', 'x', 'live')`,
        'chk_verse_texts_publish_status',
      ],
      [`INSERT INTO users (id, role) VALUES ('u', 'root')`, 'chk_users_role'],
      [
        `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id,
           content_revision, status) VALUES ('p1', 'k', 'text', 'eng', 'r1', 'done')`,
        'chk_package_generations_status',
      ],
      [
        `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id,
           content_revision, status) VALUES ('p1', 'k', 'text', 'eng', 'r1', 'ready')`,
        'chk_package_generations_ready',
      ],
      [
        `INSERT INTO package_requests (package_key, params, status) VALUES ('k', '{}', 'running')`,
        'chk_package_requests_status',
      ],
      [
        `INSERT INTO sync_sessions (user_id, device_id, status) VALUES ('u', 'd', 'open')`,
        'chk_sync_sessions_status',
      ],
      [
        `INSERT INTO sync_queue (client_id, mutation_id, user_id, table_name, record_id, operation, status)
         VALUES ('c', 'm', 'u', 'verse_texts', 'r', 'UPDATE', 'done')`,
        'chk_sync_queue_status',
      ],
      [
        `INSERT INTO sync_queue (client_id, mutation_id, user_id, table_name, record_id, operation)
         VALUES ('c', 'm', 'u', 'verse_texts', 'r', 'UPSERT')`,
        'chk_sync_queue_operation',
      ],
      [
        `INSERT INTO sync_conflicts (user_id, table_name, record_id, resolution, resolved_at)
         VALUES ('u', 'verse_texts', 'r', 'manual', now())`,
        'chk_sync_conflicts_resolution',
      ],
      [
        `INSERT INTO push_tokens (user_id, token, platform) VALUES ('u', 't', 'windows')`,
        'chk_push_tokens_platform',
      ],
      [
        `INSERT INTO notifications (user_id, type, title, body, status)
         VALUES ('u', 't', 't', 'b', 'queued')`,
        'chk_notifications_status',
      ],
      [
        `INSERT INTO webhook_subscriptions (url, event_types, secret_encrypted)
         VALUES ('https://x.test/hook', '{package.built}', 's')`,
        'chk_webhook_subscriptions_event_types',
      ],
      [
        `INSERT INTO change_log (table_name, record_id, operation)
         VALUES ('verse_texts', 'r', 'UPSERT')`,
        'chk_change_log_operation',
      ],
    ];
    for (const [sql, constraint] of bad) {
      void it(`${constraint} rejects an unknown value`, async () => {
        await rejectsCheck(ds, sql, constraint);
      });
    }

    void it('accept the documented values', async () => {
      await ds.query(`
        INSERT INTO users (id, role) VALUES ('a', 'admin'), ('e', 'editor'), ('u', 'user');
        INSERT INTO sync_queue (client_id, mutation_id, user_id, table_name, record_id, operation, status)
          VALUES ('c', 'm1', 'u', 'verse_texts', 'r', 'DELETE', 'ignored');
        INSERT INTO webhook_subscriptions (url, event_types, secret_encrypted)
          VALUES ('https://x.test/hook', '{package.ready,sync.conflict}', 's');
        INSERT INTO push_tokens (user_id, token, platform) VALUES ('u', 't', 'android');`);
    });

    void it('keep (client_id, mutation_id) unique for idempotent pushes', async () => {
      await assert.rejects(
        ds.query(`INSERT INTO sync_queue (client_id, mutation_id, user_id, table_name, record_id, operation)
                  VALUES ('c', 'm1', 'u', 'verse_texts', 'r', 'UPDATE')`),
        (error: PgError) => (error.driverError ?? error).code === '23505',
      );
    });
  });
});
