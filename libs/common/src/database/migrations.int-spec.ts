// Migrations apply, revert completely and re-apply; afterwards TypeORM sees no difference between
// the entities and the database, and the migrate CLI reports the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import {
  CHANGE_LOG_TABLES,
  CHANGE_OPERATIONS,
  CHECK_STATUSES,
  CONFLICT_RESOLUTIONS,
  MIGRATIONS_TABLE,
  NOTIFICATION_STATUSES,
  PACKAGE_GENERATION_STATUSES,
  PACKAGE_REQUEST_STATUSES,
  PACKAGE_TYPES,
  PUBLISH_STATUSES,
  PUSH_PLATFORMS,
  SYNC_QUEUE_STATUSES,
  SYNC_SESSION_STATUSES,
  UPLOAD_STATUSES,
  USER_ROLES,
  WEBHOOK_DELIVERY_STATUSES,
} from './constants';
import { migrationStatus, schemaDrift } from './drift';
import { migrations } from './migrations';
import { freshTestDataSource, requireTestDatabaseUrl } from './testing';

const run = promisify(execFile);
const migrateCli = join(__dirname, 'cli', 'migrate.js');

async function ourTables(ds: DataSource): Promise<string[]> {
  const rows: { tablename: string }[] = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  return rows.map((r) => r.tablename);
}

/** Functions in public that no extension owns. */
async function ourFunctions(ds: DataSource): Promise<string[]> {
  const rows: { proname: string }[] = await ds.query(`
    SELECT p.proname FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1`);
  return rows.map((r) => r.proname);
}

void describe('database migrations', () => {
  let ds: DataSource;

  before(async () => {
    ds = await freshTestDataSource();
  });

  after(async () => {
    await ds?.destroy();
  });

  void it('apply every migration and leave no drift', async () => {
    const status = await migrationStatus(ds);
    assert.deepEqual(
      status.map((m) => m.applied),
      migrations.map(() => true),
    );
    assert.deepEqual(await schemaDrift(ds), []);
  });

  void it('create the trigram search indexes', async () => {
    const rows: { indexname: string }[] = await ds.query(
      `SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.indexname),
      [
        'idx_audio_versions_name_trgm',
        'idx_bible_versions_name_trgm',
        'idx_language_entities_name_trgm',
        'idx_text_versions_name_trgm',
      ],
    );
  });

  void it('install the change_log trigger on exactly the synced tables', async () => {
    const rows: { table: string }[] = await ds.query(`
      SELECT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE t.tgname ~ '_change_log_(insert|update|delete)$'
       GROUP BY 1 HAVING count(*) = 3 ORDER BY 1`);
    assert.deepEqual(
      rows.map((r) => r.table),
      [...CHANGE_LOG_TABLES].sort(),
    );
  });

  void it('enforce the same value sets as the TypeScript constants', async () => {
    const expected: Record<string, readonly string[]> = {
      chk_bible_versions_publish_status: PUBLISH_STATUSES,
      chk_audio_versions_publish_status: PUBLISH_STATUSES,
      chk_text_versions_publish_status: PUBLISH_STATUSES,
      chk_media_files_publish_status: PUBLISH_STATUSES,
      chk_verse_texts_publish_status: PUBLISH_STATUSES,
      chk_media_files_upload_status: UPLOAD_STATUSES,
      chk_media_files_check_status: CHECK_STATUSES,
      chk_users_role: USER_ROLES,
      chk_change_log_table_name: CHANGE_LOG_TABLES,
      chk_change_log_operation: CHANGE_OPERATIONS,
      chk_package_generations_status: PACKAGE_GENERATION_STATUSES,
      chk_package_generations_package_type: PACKAGE_TYPES,
      chk_package_requests_status: PACKAGE_REQUEST_STATUSES,
      chk_sync_sessions_status: SYNC_SESSION_STATUSES,
      chk_sync_queue_status: SYNC_QUEUE_STATUSES,
      chk_sync_queue_operation: CHANGE_OPERATIONS,
      chk_sync_conflicts_resolution: CONFLICT_RESOLUTIONS,
      chk_push_tokens_platform: PUSH_PLATFORMS,
      chk_notifications_status: NOTIFICATION_STATUSES,
      chk_webhook_deliveries_status: WEBHOOK_DELIVERY_STATUSES,
    };
    const rows: { conname: string; def: string }[] = await ds.query(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = ANY($1)`,
      [Object.keys(expected)],
    );
    assert.equal(rows.length, Object.keys(expected).length);
    for (const { conname, def } of rows) {
      const values = [...def.matchAll(/'([^']*)'::text/g)].map((m) => m[1]).sort();
      assert.deepEqual(values, [...expected[conname]].sort(), conname);
    }
  });

  void it('revert completely and apply again without drift', async () => {
    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    assert.deepEqual(await ourTables(ds), [MIGRATIONS_TABLE]);
    assert.deepEqual(await ourFunctions(ds), []);
    assert.ok((await migrationStatus(ds)).every((m) => !m.applied));

    const applied = await ds.runMigrations({ transaction: 'each' });
    assert.equal(applied.length, migrations.length);
    assert.deepEqual(await schemaDrift(ds), []);
  });

  void describe('migrate CLI', () => {
    const env = () => ({ ...process.env, DATABASE_URL: requireTestDatabaseUrl() });

    void it('check passes on a migrated database', async () => {
      const { stdout } = await run(process.execPath, [migrateCli, 'check'], { env: env() });
      assert.match(stdout, /schema matches the entities/);
    });

    void it('status lists every migration as applied', async () => {
      const { stdout } = await run(process.execPath, [migrateCli, 'status'], { env: env() });
      for (const m of migrations) assert.match(stdout, new RegExp(`applied\\s+${m.name}`));
    });

    void it('check exits 1 and prints the statements when the schema drifts', async () => {
      await ds.query(`CREATE INDEX idx_drift_probe ON books (name)`);
      try {
        await assert.rejects(
          run(process.execPath, [migrateCli, 'check'], { env: env() }),
          (error: { code: number; stderr: string }) => {
            assert.equal(error.code, 1);
            assert.match(error.stderr, /DROP INDEX "public"\."idx_drift_probe"/);
            return true;
          },
        );
      } finally {
        await ds.query(`DROP INDEX idx_drift_probe`);
      }
    });

    void it('rejects an invalid DATABASE_URL naming the variable', async () => {
      await assert.rejects(
        run(process.execPath, [migrateCli, 'status'], {
          env: { ...process.env, DATABASE_URL: 'not a url' },
        }),
        (error: { code: number; stderr: string }) => {
          assert.equal(error.code, 1);
          assert.match(error.stderr, /DATABASE_URL/);
          return true;
        },
      );
    });

    void it('down N reverts and up re-applies', async () => {
      const down = await run(process.execPath, [migrateCli, 'down', '2'], { env: env() });
      assert.equal(down.stdout.match(/^reverted /gm)?.length, 2);
      const up = await run(process.execPath, [migrateCli, 'up'], { env: env() });
      assert.equal(up.stdout.match(/^applied /gm)?.length, 2);
      assert.deepEqual(await schemaDrift(ds), []);
    });
  });
});
