// Service-level test of the build service: PackageBuildService, its repository and the BullMQ
// worker built in process (@nestjs/testing) over the real test Postgres, Redis and object store,
// no HTTP and no other service, so a build rule that breaks fails in seconds. The process-level
// behaviour (gateway requests, SSE, crashes) is tests/src/e2e/packages.int-spec and friends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  InfraModule,
  type PackageBuildJob,
  QueueName,
  REDIS,
  parseConfig,
} from '@bible/common';
import { type PackageParams, packageKey } from '@bible/packages';
import { S3, type S3Handle, StorageModule } from '@bible/storage';
import { freshTestDataSource, insertBaseContent } from '@bible/common/database/testing';
import {
  createKeyring,
  generateSigningKeyPair,
  openPackage,
  verifyPackage,
} from '@bible/package-format';
import { testEnv } from '@bible/testing';
import { BUILDER_CONFIG, builderEnv } from '../config';
import { SIGNING_KEY } from '../signing/signing.module';
import { BuildWorker } from './build.worker';
import { type BuildContext, PackageBuildService, type Stage } from './package-build.service';
import { PublishRepository } from './publish.repository';
import { BuildWorkspace } from './workspace';

// Version ids unique to this run: package ids (and so object keys) never meet another suite's.
const run = randomBytes(4).toString('hex');
const TEXT = `tvb${run}`;
const AUDIO = `avb${run}`;
const AUDIO_MISSING = `avm${run}`;
const KEY_ID = 'builder-int-spec';
const keys = generateSigningKeyPair();

describe('PackageBuildService (in process, real Postgres and object store)', () => {
  let app: TestingModule;
  let builder: PackageBuildService;
  let db: DataSource;
  let s3: S3Handle;
  let queue: Queue<PackageBuildJob>;
  let queueConnection: Redis | undefined;
  let buildDir: string;
  const audio = randomBytes(48 * 1024);
  const audioKey = `test/package-build/${run}/john-1.mp3`;

  before(async () => {
    const env = testEnv();
    // The worker's queue is namespaced by the test database like every suite's.
    process.env.QUEUE_PREFIX = env.QUEUE_PREFIX;
    buildDir = await mkdtemp(join(tmpdir(), 'builder-int-'));
    const config = parseConfig(builderEnv, { ...env, BUILD_TMP_DIR: buildDir });

    const setup = await freshTestDataSource(env.DATABASE_URL);
    await insertBaseContent(setup);
    await setup.query(
      `INSERT INTO text_versions (id, language_entity_id, bible_version_id, name, publish_status)
         VALUES ($1, 'eng', 'bv', 'Builder text', 'published')`,
      [TEXT],
    );
    await setup.query(
      `INSERT INTO audio_versions (id, language_entity_id, bible_version_id, name, publish_status)
         VALUES ($1, 'eng', 'bv', 'Builder audio', 'published'),
                ($2, 'eng', 'bv', 'Builder audio, source lost', 'published')`,
      [AUDIO, AUDIO_MISSING],
    );
    await setup.query(
      `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, publish_status)
         VALUES ($1 || '-1', 'john-1-1', $1, 'In the beginning was the Word', 'published'),
                ($1 || '-2', 'john-1-2', $1, 'The same was in the beginning', 'published'),
                ($1 || '-3', 'john-1-3', $1, 'an editor''s unpublished draft', 'draft')`,
      [TEXT],
    );
    const sha256 = createHash('sha256').update(audio).digest('hex');
    await setup.query(
      `INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size,
              duration_seconds, sha256, format, upload_status, publish_status, chapter_id)
         VALUES ($1, 'eng', $2, $3, $4, 12.5, $5, 'mp3', 'completed', 'published', 'john-1'),
                ($6, 'eng', $7, $8, $4, 12.5, $5, 'mp3', 'completed', 'published', 'john-1')`,
      [
        `mf-${AUDIO}`,
        AUDIO,
        audioKey,
        audio.length,
        sha256,
        `mf-${AUDIO_MISSING}`,
        AUDIO_MISSING,
        `test/package-build/${run}/never-uploaded.mp3`,
      ],
    );
    await setup.destroy();

    app = await Test.createTestingModule({
      imports: [
        InfraModule.forRoot({
          serviceName: 'package-build-test',
          database: { url: env.DATABASE_URL, poolMax: 4, statementTimeoutMs: 10_000 },
          redisUrl: config.REDIS_URL,
        }),
        StorageModule.forRoot(config),
      ],
      providers: [
        { provide: BUILDER_CONFIG, useValue: config },
        { provide: SIGNING_KEY, useValue: { keyId: KEY_ID, privateKey: keys.privateKeyPem } },
        PackageBuildService,
        PublishRepository,
        BuildWorkspace,
        BuildWorker,
      ],
    }).compile();
    await app.init();
    builder = app.get(PackageBuildService);
    db = app.get<DataSource>(DATA_SOURCE);
    s3 = app.get<S3Handle>(S3);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: audioKey, Body: audio }));
    queueConnection = app.get<Redis>(REDIS).duplicate();
    queue = new Queue<PackageBuildJob>(QueueName.PackageBuild, {
      prefix: env.QUEUE_PREFIX,
      connection: queueConnection,
    });
  });

  after(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    // A connection handed to BullMQ stays the caller's to close.
    queueConnection?.disconnect();
    // The bucket is shared with the other suites: this run's objects go.
    if (s3) {
      for (const prefix of [
        `packages/eng-${TEXT}-`,
        `packages/eng-${AUDIO}-`,
        `test/package-build/${run}/`,
      ]) {
        const listed = await s3.client.send(
          new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }),
        );
        const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key }));
        if (objects.length > 0)
          await s3.client.send(
            new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: objects } }),
          );
      }
    }
    await app?.close();
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  });

  /**
   * A build sees change_log rows below the cluster's oldest running transaction only; waits until
   * every committed change is below it, so a revision never depends on other suites' timing.
   */
  async function settled(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const [row]: { ok: boolean }[] = await db.query(
        `SELECT COALESCE(max(txid), 0) < change_log_safe_xmin() AS ok FROM change_log`,
      );
      if (row.ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('change_log never settled below the safe xmin');
  }

  async function build(
    params: PackageParams,
    stages: Stage[] = [],
  ): Promise<Awaited<ReturnType<PackageBuildService['build']>>> {
    await settled();
    const ctx: BuildContext = {
      requestId: randomUUID(),
      jobId: `job-${randomUUID()}`,
      params,
      requestedBy: 'builder-test',
      onProgress: (stage) => {
        if (stages.at(-1) !== stage) stages.push(stage);
        return Promise.resolve();
      },
    };
    return builder.build(ctx);
  }

  async function download(objectKey: string): Promise<Buffer> {
    const object = await s3.client.send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: objectKey }),
    );
    return Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  }

  async function generation(packageId: string): Promise<{
    status: string;
    object_key: string;
    content_sha256: string;
    content_revision: string;
    size_bytes: string;
  }> {
    const rows: {
      status: string;
      object_key: string;
      content_sha256: string;
      content_revision: string;
      size_bytes: string;
    }[] = await db.query(
      `SELECT status, object_key, content_sha256, content_revision, size_bytes
         FROM package_generations WHERE package_id = $1`,
      [packageId],
    );
    assert.equal(rows.length, 1, `one package_generations row for ${packageId}`);
    return rows[0];
  }

  const textParams: PackageParams = {
    packageType: 'text',
    languageEntityId: 'eng',
    textVersionId: TEXT,
  };
  let firstTextPackage = '';

  it('publishes a signed text package holding exactly the published verses of the snapshot', async () => {
    const stages: Stage[] = [];
    const result = await build(textParams, stages);
    assert.equal(result.reused, false);
    assert.equal(result.packageIds.length, 1);
    const [packageId] = result.packageIds;
    firstTextPackage = packageId;
    assert.match(packageId, new RegExp(`^eng-${TEXT}-text-r\\d+$`));
    assert.deepEqual(stages, ['gather', 'audio', 'database', 'assemble', 'upload']);

    const row = await generation(packageId);
    assert.equal(row.status, 'ready');
    assert.equal(row.content_revision, result.revision);
    const bytes = await download(row.object_key);
    assert.equal(bytes.length, Number(row.size_bytes));
    const report = await verifyPackage(bytes, {
      keyring: createKeyring({ [KEY_ID]: keys.publicKeyPem }),
    });
    assert.equal(report.signature.verified, true);
    assert.equal(report.contentSha256, row.content_sha256);
    assert.equal(report.manifest.packageId, packageId);
    assert.equal(report.manifest.contentRevision, result.revision);
    assert.deepEqual(report.manifest.includesBooks, ['John']);
    assert.equal(report.manifest.includesTotalVerses, 2);

    const reader = await openPackage(bytes);
    const opened = await reader.openDatabase();
    try {
      const verses = opened.db
        .prepare(`SELECT id, verse_text FROM package_verse_texts ORDER BY id`)
        .all();
      const published: { id: string; verse_text: string }[] = await db.query(
        `SELECT id, verse_text FROM verse_texts
          WHERE text_version_id = $1 AND publish_status = 'published' ORDER BY id`,
        [TEXT],
      );
      assert.deepEqual(
        verses,
        published.map((v) => ({ ...v })),
      );
    } finally {
      await opened.close();
      await reader.close();
    }
  });

  it('answers a rebuild at the same revision with the published package, writing nothing', async () => {
    const before: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM package_generations`,
    );
    const result = await build(textParams);
    assert.equal(result.reused, true);
    assert.deepEqual(result.packageIds, [firstTextPackage]);
    const after: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM package_generations`,
    );
    assert.equal(after[0].n, before[0].n);
  });

  it('builds a new revision after an edit: it supersedes the old package, which goes stale', async () => {
    await db.query(
      `UPDATE verse_texts SET verse_text = 'In the beginning was the Word.' WHERE id = $1`,
      [`${TEXT}-1`],
    );
    const result = await build(textParams);
    assert.equal(result.reused, false);
    const [packageId] = result.packageIds;
    assert.notEqual(packageId, firstTextPackage);
    assert.equal((await generation(firstTextPackage)).status, 'stale');
    const row = await generation(packageId);
    const report = await verifyPackage(await download(row.object_key));
    assert.equal(report.manifest.supersedes, firstTextPackage);
  });

  it('puts the audio of the catalog in an audio package, byte for byte', async () => {
    const result = await build({
      packageType: 'audio',
      languageEntityId: 'eng',
      audioVersionId: AUDIO,
    });
    const row = await generation(result.packageIds[0]);
    const reader = await openPackage(await download(row.object_key));
    try {
      const index = reader.manifest.audioFileIndex;
      assert.equal(index.length, 1);
      assert.equal(index[0].mediaFileId, `mf-${AUDIO}`);
      assert.equal(index[0].sha256, createHash('sha256').update(audio).digest('hex'));
      const chunks: Buffer[] = [];
      for await (const chunk of reader.createAudioStream(0)) chunks.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(chunks), audio);
    } finally {
      await reader.close();
    }
  });

  it('refuses content that is no longer published, publishing nothing', async () => {
    await db.query(`UPDATE text_versions SET publish_status = 'draft' WHERE id = $1`, [TEXT]);
    try {
      const before: { n: number }[] = await db.query(
        `SELECT count(*)::int AS n FROM package_generations`,
      );
      await assert.rejects(build(textParams), /text_versions .* is no longer published/);
      const after: { n: number }[] = await db.query(
        `SELECT count(*)::int AS n FROM package_generations`,
      );
      assert.equal(after[0].n, before[0].n);
    } finally {
      await db.query(`UPDATE text_versions SET publish_status = 'published' WHERE id = $1`, [TEXT]);
    }
  });

  it('records a job whose audio source is lost as failed at once, with its reason and event', async () => {
    const params: PackageParams = {
      packageType: 'audio',
      languageEntityId: 'eng',
      audioVersionId: AUDIO_MISSING,
    };
    const key = packageKey(params);
    const jobId = `pkg-${key}-${run}`;
    await settled();
    const [request]: { id: string }[] = await db.query(
      `INSERT INTO package_requests (package_key, params, requested_by, job_id)
       VALUES ($1, $2, 'builder-test', $3) RETURNING id`,
      [key, JSON.stringify(params), jobId],
    );
    await queue.add('build', { packageKey: key, requestId: request.id }, { jobId, attempts: 3 });

    let row: { status: string; error: string | null } | undefined;
    for (let i = 0; i < 200; i++) {
      [row] = await db.query(`SELECT status, error FROM package_requests WHERE id = $1`, [
        request.id,
      ]);
      if (row?.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(row?.status, 'failed', 'a missing source fails the request without retries');
    assert.match(row?.error ?? '', new RegExp(`media file mf-${AUDIO_MISSING} .* is missing`));
    let state = '';
    for (let i = 0; i < 100 && state !== 'failed'; i++) {
      state = await queue.getJobState(jobId);
      if (state !== 'failed') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, 'failed');
    assert.equal(
      (await queue.getJob(jobId))?.attemptsMade,
      1,
      'a permanent failure is not retried',
    );

    const events: { data: { errorCode: string; requestIds: string[] } }[] = await db.query(
      `SELECT data FROM events WHERE type = 'package.failed' AND data->>'jobId' = $1`,
      [jobId],
    );
    assert.equal(events.length, 1);
    assert.equal(events[0].data.errorCode, 'AUDIO_MISSING');
    assert.deepEqual(events[0].data.requestIds, [request.id]);
    const generations: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM package_generations WHERE audio_version_id = $1`,
      [AUDIO_MISSING],
    );
    assert.equal(generations[0].n, 0);
    // Nothing of the failed attempt is left in the object store.
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `packages/eng-${AUDIO_MISSING}-` }),
    );
    assert.equal(listed.KeyCount ?? 0, 0);
  });
});
