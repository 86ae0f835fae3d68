// Content catalog, audio ingest, verse timings, import CLI and publishing (issue #6), end to end:
// the gateway and a builder run as processes against real Postgres, MinIO and a private Redis
// (stopped at the end to show the catalog survives it), with the WEB seed plus a second
// translation imported by the CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Client } from 'pg';
import {
  type RunningService,
  type ThrowawayServer,
  apiClient,
  eventually,
  repoRoot,
  startService,
  throwawayRedis,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const LANGUAGE = 'enm-test';
const TEXT_VERSION = 'early-test';
const AUDIO_VERSION = 'early-test-audio';
const TITUS_VERSES = [16, 15, 15];
const fixtures = join(repoRoot, 'tests', 'fixtures', 'content');
const cli = join(repoRoot, 'scripts', 'dist', 'import', 'cli.js');

interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}
interface ErrorBody {
  error: string;
  details: { field: string; message: string }[];
}
interface MediaFile {
  id: string;
  objectKey: string;
  fileSize: number;
  durationSeconds: number;
  sha256: string;
  format: string;
  bitrate: number;
  sampleRate: number;
  publishStatus: string;
  uploadStatus: string;
}
interface JobStatus {
  status: string;
  packageId?: string;
  error?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function ffmpegTone(file: string, seconds: number, codec: 'mp3' | 'm4a', hz = 440): Buffer {
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi'],
    ...['-i', `sine=frequency=${hz}:duration=${seconds}`, '-ac', '1', '-ar', '22050'],
    ...(codec === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '32k'] : ['-c:a', 'aac', '-b:a', '32k']),
    ...['-y', file],
  ]);
  return readFileSync(file);
}

describe('content: catalog, ingest, timings, import, publishing', { timeout: 15 * 60_000 }, () => {
  let env: Record<string, string>;
  let redis: ThrowawayServer;
  let gateway: RunningService;
  let builder: RunningService;
  let db: Client;
  let s3: S3Client;
  let user: ReturnType<typeof apiClient>;
  let editor: ReturnType<typeof apiClient>;
  let editorToken = '';
  let expectedVerses = 0;
  let keyId = '';
  const work = mkdtempSync(join(tmpdir(), 'content-e2e-'));
  const prefix = `test-content-${randomUUID().slice(0, 8)}/media/`;
  const orphanKey = `${prefix}orphan-av/john-1-${randomUUID()}.mp3`;
  const foreignKey = `${prefix}orphan-av/not-ours.mp3`;
  let mp3: Buffer = Buffer.alloc(0);

  const runCli = (args: string[]) =>
    spawnSync(process.execPath, [cli, ...args, '--no-progress'], {
      cwd: repoRoot,
      env: { ...env, REDIS_URL: redis.url },
      encoding: 'utf8',
    });
  const lastChange = async () =>
    (await db.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM change_log`))
      .rows[0].id;
  const objectKeys = async () =>
    (
      (await s3.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: prefix })))
        .Contents ?? []
    ).map((o) => o.Key as string);
  const objectExists = async (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: key })).then(
      () => true,
      () => false,
    );
  const upload = (body: Buffer, query: string, contentType = 'audio/mpeg', token = editorToken) =>
    fetch(`${gateway.url}/v1/media-files?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body,
    }).then(async (res) => ({ status: res.status, body: await res.json() }));
  const putTimings = (id: string, body: string, contentType: string) =>
    fetch(`${gateway.url}/v1/media-files/${id}/verse-timings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${editorToken}`, 'content-type': contentType },
      body,
    }).then(async (res) => ({ status: res.status, body: await res.json() }));

  /** Status of a GET with a deadline (0 when it fails or times out); the body is consumed. */
  const statusOf = async (path: string, authorised = false) => {
    try {
      const res = await fetch(`${gateway.url}${path}`, {
        headers: authorised ? { authorization: `Bearer ${editorToken}` } : {},
        signal: AbortSignal.timeout(3_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };
  const buildPackage = async (request: Record<string, unknown>) => {
    const res = await user.post<{ jobId?: string; packageId?: string; status: string }>(
      '/v1/packages',
      request,
    );
    assert.ok(res.status === 200 || res.status === 202, res.text);
    if (res.status === 200) return res.body.packageId as string;
    const job = await eventually(
      async () => {
        const s = await user.get<JobStatus>(`/v1/packages/jobs/${res.body.jobId}`);
        return s.body.status === 'completed' || s.body.status === 'failed' ? s.body : undefined;
      },
      180_000,
      300,
    );
    assert.equal(job.status, 'completed', JSON.stringify(job));
    return job.packageId as string;
  };
  const verifyPackage = async (packageId: string) => {
    const res = await fetch(`${gateway.url}/v1/packages/${packageId}/download`, {
      headers: { authorization: `Bearer ${editorToken}` },
    });
    assert.equal(res.status, 200);
    const file = join(work, `${packageId}.bible`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return execFileSync(
      process.execPath,
      [
        join(repoRoot, 'libs/package-format/dist/cli.js'),
        'verify',
        file,
        '--public-key',
        `${keyId}=${join(work, 'public.pem')}`,
      ],
      { encoding: 'utf8' },
    );
  };

  before(async () => {
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    s3 = new S3Client({
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    });
    // An object a crashed upload left behind, for the sweeper.
    for (const Key of [orphanKey, foreignKey]) {
      await s3.send(
        new PutObjectCommand({ Bucket: env.S3_BUCKET, Key, Body: Buffer.from('orphan') }),
      );
    }
    redis = await throwawayRedis();
    const serviceEnv = {
      ...env,
      REDIS_URL: redis.url,
      MEDIA_OBJECT_PREFIX: prefix,
      MEDIA_MAX_BYTES: '200000',
      MEDIA_SWEEP_INTERVAL_MS: '1000',
      MEDIA_SWEEP_MIN_AGE_SECONDS: '20',
      CONTENT_CACHE_TTL_SECONDS: '300',
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: '1000',
    };
    [gateway, builder] = await Promise.all([
      startService('api-gateway', serviceEnv),
      startService('package-builder', serviceEnv),
    ]);
    user = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'content-user'));
    editorToken = await tokenFor(env.JWT_SECRET, 'content-editor', 'editor');
    editor = apiClient(gateway.url, editorToken);
    const keys = await user.get<{ keys: { keyId: string; publicKeyPem: string }[] }>(
      '/v1/packages/keys',
    );
    keyId = keys.body.keys[0].keyId;
    writeFileSync(join(work, 'public.pem'), keys.body.keys[0].publicKeyPem);

    // The second, complete translation: 65 books as Bible JSON (derived from the WEB with its
    // own wording, so search can tell the versions apart) plus 3 John as USFM (KJV).
    const web = JSON.parse(
      gunzipSync(readFileSync(join(repoRoot, 'data', 'bible-web.json.gz'))).toString('utf8'),
    ) as { books: { osis: string; chapters: { verses: { text: string }[] }[] }[] };
    const books = web.books
      .filter((b) => b.osis !== '3John')
      .map((b) => ({
        ...b,
        chapters: b.chapters.map((c) => ({
          ...c,
          verses: c.verses.map((v) => ({ ...v, text: v.text.replace(/\bgrace\b/g, 'favour') })),
        })),
      }));
    expectedVerses =
      books.reduce((n, b) => n + b.chapters.reduce((m, c) => m + c.verses.length, 0), 0) + 14;
    writeFileSync(
      join(work, 'early.json.gz'),
      gzipSync(JSON.stringify({ name: 'Early English Test Bible', source: 'test', books })),
    );
    // One book of audio: Titus 1-3, a quarter second per verse, and its timings.
    mkdirSync(join(work, 'audio'));
    const rows = ['file,verse,start,end'];
    TITUS_VERSES.forEach((verses, i) => {
      const name = `Titus_00${i + 1}.mp3`;
      ffmpegTone(join(work, 'audio', name), verses * 0.25 + 0.5, 'mp3', 300 + i * 100);
      for (let v = 1; v <= verses; v++) {
        rows.push(`${name},${v},${((v - 1) * 0.25).toFixed(2)},${(v * 0.25).toFixed(2)}`);
      }
    });
    writeFileSync(join(work, 'timings.csv'), rows.join('\n') + '\n');
    mp3 = ffmpegTone(join(work, 'tone.mp3'), 4, 'mp3');
  });

  after(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), builder?.stop('SIGKILL')]);
    await redis?.destroy();
    await db?.end();
    s3?.destroy();
  });

  describe('import CLI', () => {
    it('imports text from Bible JSON and USFM; a rerun changes nothing', () => {
      const first = runCli([
        'text',
        join(work, 'early.json.gz'),
        join(fixtures, '3john.usfm'),
        '--text-version',
        TEXT_VERSION,
        '--name',
        'Early English Test Bible',
        '--language',
        LANGUAGE,
        '--language-name',
        'Early Modern English (test)',
      ]);
      assert.equal(first.status, 0, first.stderr);
      assert.match(
        first.stdout,
        new RegExp(
          `66 books, ${expectedVerses} verses read; version created; verse texts \\+${expectedVerses}`,
        ),
      );
    });

    it('a rerun of the text import writes nothing', async () => {
      const before = await lastChange();
      const again = runCli([
        'text',
        join(work, 'early.json.gz'),
        join(fixtures, '3john.usfm'),
        '--text-version',
        TEXT_VERSION,
      ]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /nothing to change/);
      assert.equal(await lastChange(), before);
    });

    it('imports a folder of audio with timings; a rerun uploads and writes nothing', async () => {
      const args = [
        'audio',
        '--audio-version',
        AUDIO_VERSION,
        '--name',
        'Early English Test Bible (narrated)',
        '--language',
        LANGUAGE,
        '--dir',
        join(work, 'audio'),
        '--timings',
        join(work, 'timings.csv'),
        '--object-prefix',
        prefix,
      ];
      const first = runCli(args);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /3 files; version created; 3 uploaded; media files 3 written/);
      assert.match(first.stdout, /timings \+46 ~0 -0/);
      const before = await lastChange();
      const again = runCli(args);
      assert.equal(again.status, 0, again.stderr);
      assert.match(
        again.stdout,
        /0 uploaded; media files 0 written, 3 unchanged; timings \+0 ~0 -0/,
      );
      assert.equal(await lastChange(), before);
    });

    it('names the file and line of bad input, and stores nothing', async () => {
      const usfm = runCli([
        'text',
        join(fixtures, 'bad-verse.usfm'),
        '--text-version',
        'bad-tv',
        '--name',
        'Bad',
        '--language',
        LANGUAGE,
      ]);
      assert.equal(usfm.status, 1);
      assert.match(usfm.stderr, /bad-verse\.usfm:5: \\v needs a verse number/);
      const badJson = join(work, 'bad.json');
      writeFileSync(
        badJson,
        '{\n  "books": [\n    { "osis": "Jude", "name": "Jude", "number": 65, "testament": "NT",\n      "chapters": [ { "number": 1, "verses": [\n        { "number": 0, "text": "x" } ] } ] }\n  ]\n}\n',
      );
      const json = runCli([
        'text',
        badJson,
        '--text-version',
        'bad-tv',
        '--name',
        'Bad',
        '--language',
        LANGUAGE,
      ]);
      assert.equal(json.status, 1);
      assert.match(json.stderr, /bad\.json:5: books\.0\.chapters\.0\.verses\.0\.number/);
      const badTimings = join(work, 'bad-timings.csv');
      writeFileSync(
        badTimings,
        'file,verse,start,end\nTitus_001.mp3,1,0,0.5\nTitus_001.mp3,2,0.5,99\n',
      );
      const timings = runCli([
        'audio',
        '--audio-version',
        'bad-av',
        '--name',
        'Bad',
        '--language',
        LANGUAGE,
        '--dir',
        join(work, 'audio'),
        '--timings',
        badTimings,
        '--object-prefix',
        prefix,
      ]);
      assert.equal(timings.status, 1);
      assert.match(
        timings.stderr,
        /bad-timings\.csv:3: Titus_001\.mp3: ends at 99 s, after the end/,
      );
      const rows = await db.query(
        `SELECT 1 FROM text_versions WHERE id = 'bad-tv' UNION ALL SELECT 1 FROM media_files WHERE audio_version_id = 'bad-av'`,
      );
      assert.equal(rows.rowCount, 0);
    });
  });

  describe('publishing', () => {
    it('drafts are invisible to users; includeUnpublished is for editors', async () => {
      assert.equal((await user.get(`/v1/text-versions/${TEXT_VERSION}`)).status, 404);
      const drafts = await user.get<ErrorBody>('/v1/text-versions?includeUnpublished=true');
      assert.equal(drafts.status, 403, drafts.text);
      assert.equal(drafts.body.details[0].field, 'query.includeUnpublished');
      const asEditor = await editor.get<{ publishStatus: string; verseCount: number }>(
        `/v1/text-versions/${TEXT_VERSION}?includeUnpublished=true`,
      );
      assert.equal(asEditor.status, 200, asEditor.text);
      assert.equal(asEditor.body.publishStatus, 'draft');
      assert.equal(asEditor.body.verseCount, expectedVerses);
      const notPackageable = await user.post<ErrorBody>('/v1/packages', {
        packageType: 'text',
        languageEntityId: LANGUAGE,
        textVersionId: TEXT_VERSION,
      });
      assert.equal(notPackageable.status, 409, notPackageable.text);
    });

    it('users cannot publish; editors publish versions and files, recorded in the change feed', async () => {
      assert.equal((await user.post(`/v1/text-versions/${TEXT_VERSION}/publish`)).status, 403);
      assert.equal((await editor.post('/v1/text-versions/nope/publish')).status, 404);
      const before = await lastChange();
      const res = await editor.post<{ publishStatus: string; changed: boolean }>(
        `/v1/text-versions/${TEXT_VERSION}/publish`,
      );
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.publishStatus, res.body.changed], ['published', true]);
      const again = await editor.post<{ changed: boolean }>(
        `/v1/text-versions/${TEXT_VERSION}/publish`,
      );
      assert.equal(again.body.changed, false);
      const log = await db.query<{ operation: string; changed_by: string; change_source: string }>(
        `SELECT operation, changed_by, change_source FROM change_log
          WHERE table_name = 'text_versions' AND record_id = $1 AND id > $2`,
        [TEXT_VERSION, before],
      );
      assert.deepEqual(log.rows, [
        { operation: 'UPDATE', changed_by: 'content-editor', change_source: 'api' },
      ]);
      assert.equal((await editor.post(`/v1/audio-versions/${AUDIO_VERSION}/publish`)).status, 200);
      for (let c = 1; c <= 3; c++) {
        const file = await editor.post(`/v1/media-files/${AUDIO_VERSION}-titus-${c}/publish`);
        assert.equal(file.status, 200, file.text);
      }
    });
  });

  describe('catalog', () => {
    it('lists the new language and versions, with fuzzy search on names', async () => {
      const languages = await user.get<Page<{ id: string; textVersionCount: number }>>(
        '/v1/languages?q=modern%20englsh',
      );
      assert.equal(languages.status, 200, languages.text);
      assert.equal(languages.body.items[0]?.id, LANGUAGE, languages.text);
      assert.equal(languages.body.items[0].textVersionCount, 1);
      const versions = await user.get<Page<{ id: string; languageName: string }>>(
        '/v1/text-versions?q=erly%20englsh%20bibel',
      );
      assert.equal(versions.body.items[0]?.id, TEXT_VERSION, versions.text);
      const byLanguage = await user.get<Page<{ id: string }>>(
        `/v1/audio-versions?languageEntityId=${LANGUAGE}`,
      );
      assert.deepEqual(
        byLanguage.body.items.map((v) => v.id),
        [AUDIO_VERSION],
      );
      const all = await user.get<Page<{ id: string }>>('/v1/text-versions');
      assert.deepEqual(all.body.items.map((v) => v.id).sort(), [TEXT_VERSION, 'web']);
    });

    it('pages with opaque cursors bound to their filters', async () => {
      const first = await user.get<Page<{ id: string }>>('/v1/text-versions?limit=1');
      assert.equal(first.body.items.length, 1);
      assert.equal(first.body.total, 2);
      assert.ok(first.body.nextCursor);
      const second = await user.get<Page<{ id: string }>>(
        `/v1/text-versions?limit=1&cursor=${first.body.nextCursor}`,
      );
      assert.equal(second.body.items.length, 1);
      assert.notEqual(second.body.items[0].id, first.body.items[0].id);
      assert.equal(second.body.nextCursor, null);
      const foreign = await user.get<ErrorBody>(
        `/v1/audio-versions?limit=1&languageEntityId=eng&cursor=${first.body.nextCursor}`,
      );
      assert.equal(foreign.status, 400);
      assert.equal(foreign.body.details[0].field, 'query.cursor');
      for (const bad of ['limit=0', 'limit=201', 'cursor=%%%', 'colour=red', 'q=']) {
        const res = await user.get<ErrorBody>(`/v1/languages?${bad}`);
        assert.equal(res.status, 400, `${bad}: ${res.text}`);
        assert.ok(res.body.details.length > 0);
      }
      assert.equal((await user.get('/v1/languages/nope')).status, 404);
      assert.equal((await user.get('/v1/audio-versions/bad%20id')).status, 400);
    });

    it('lists books and chapters of a version with their content', async () => {
      const books = await user.get<Page<{ osis: string; verseCount: number }>>(
        `/v1/text-versions/${TEXT_VERSION}/books?limit=200`,
      );
      assert.equal(books.body.items.length, 66, 'a complete translation');
      const counts = new Map(books.body.items.map((b) => [b.osis, b.verseCount]));
      assert.deepEqual(
        ['Titus', 'Phlm', '3John'].map((osis) => [osis, counts.get(osis)]),
        [
          ['Titus', 46],
          ['Phlm', 25],
          ['3John', 14],
        ],
      );
      const chapters = await user.get<
        Page<{
          chapterNumber: number;
          mediaFiles: { timingCount: number; durationSeconds: number }[];
        }>
      >(`/v1/audio-versions/${AUDIO_VERSION}/books/Titus/chapters`);
      assert.equal(chapters.status, 200, chapters.text);
      assert.deepEqual(
        chapters.body.items.map((c) => c.mediaFiles[0].timingCount),
        TITUS_VERSES,
      );
      assert.equal(
        (await user.get(`/v1/audio-versions/${AUDIO_VERSION}/books/Gen/chapters`)).status,
        200,
      );
      assert.equal(
        (await user.get(`/v1/audio-versions/${AUDIO_VERSION}/books/Nope/chapters`)).status,
        404,
      );
    });

    it('searches inside a text version, ranked, with snippets', async () => {
      const hits = await user.get<
        Page<{ reference: string; snippet: string; rank: number; verseId: string }>
      >(`/v1/text-versions/${TEXT_VERSION}/search?q=favour`);
      assert.equal(hits.status, 200, hits.text);
      assert.ok(hits.body.items.length > 0 && (hits.body.total ?? 0) >= hits.body.items.length);
      assert.ok(
        hits.body.items.every((h) => /<mark>favour<\/mark>/i.test(h.snippet)),
        hits.text,
      );
      assert.ok(hits.body.items.every((h, i, a) => i === 0 || a[i - 1].rank >= h.rank));
      const kjv = await user.get<Page<{ reference: string }>>(
        `/v1/text-versions/${TEXT_VERSION}/search?q=wellbeloved`,
      );
      assert.deepEqual(
        kjv.body.items.map((h) => h.reference),
        ['3 John 1:1'],
      );
      const web = await user.get<Page<unknown>>('/v1/text-versions/web/search?q=favour%20Titus');
      assert.equal(web.body.total, 0);
      const phrase = await user.get<Page<{ reference: string }>>(
        `/v1/text-versions/${TEXT_VERSION}/search?book=3John&q=${encodeURIComponent('"face to face"')}`,
      );
      assert.deepEqual(
        phrase.body.items.map((h) => h.reference),
        ['3 John 1:14'],
      );
      const paged = await user.get<Page<unknown>>(`/v1/text-versions/web/search?q=love&limit=5`);
      assert.equal(paged.body.items.length, 5);
      assert.ok(paged.body.nextCursor && (paged.body.total ?? 0) > 5);
      assert.equal((await user.get(`/v1/text-versions/nope/search?q=love`)).status, 404);
      assert.equal((await user.get(`/v1/text-versions/web/search`)).status, 400);
      assert.equal(
        (await user.get(`/v1/text-versions/web/search?q=${encodeURIComponent('!!')}`)).status,
        400,
      );
    });
  });

  describe('packages of the imported translation', () => {
    it('builds and verifies the text package', async () => {
      const id = await buildPackage({
        packageType: 'text',
        languageEntityId: LANGUAGE,
        textVersionId: TEXT_VERSION,
      });
      const detail = await user.get<{
        manifest: { includesTotalVerses: number; includesBooks: string[] };
      }>(`/v1/packages/${id}`);
      assert.equal(detail.body.manifest.includesTotalVerses, expectedVerses);
      assert.equal(detail.body.manifest.includesBooks.length, 66);
      assert.match(await verifyPackage(id), /^OK .*\n.*signature verified/);
    });

    it('builds and verifies the audio package of Titus', async () => {
      const id = await buildPackage({
        packageType: 'audio',
        languageEntityId: LANGUAGE,
        audioVersionId: AUDIO_VERSION,
      });
      const detail = await user.get<{
        manifest: { totalFiles: number; includesVerseTimings: boolean };
      }>(`/v1/packages/${id}`);
      assert.equal(detail.body.manifest.totalFiles, 3);
      assert.equal(detail.body.manifest.includesVerseTimings, true);
      assert.match(await verifyPackage(id), /^OK .*\n.*signature verified/);
    });
  });

  describe('audio ingest', () => {
    const target = `audioVersionId=${AUDIO_VERSION}&chapterId=phlm-1`;

    it('rejects bad uploads with 4xx and details, storing nothing', async () => {
      const objectsBefore = (await objectKeys()).sort();
      const m4a = ffmpegTone(join(work, 'tone.m4a'), 2, 'm4a');
      const oversize = Buffer.concat([mp3, Buffer.alloc(250_000, 1)]);
      const corrupt = Buffer.concat([mp3.subarray(0, 3000), Buffer.alloc(6000, 0x55)]);
      const cases: [string, Promise<{ status: number; body: unknown }>, number, string][] = [
        ['not audio', upload(Buffer.from('hello, not audio at all'), target), 415, 'body'],
        ['m4a declared as mp3', upload(m4a, target, 'audio/mpeg'), 415, 'header.content-type'],
        ['wrong content type', upload(mp3, target, 'text/plain'), 415, 'header.content-type'],
        ['oversize', upload(oversize, target), 413, 'body'],
        ['corrupt', upload(corrupt, target), 400, 'body'],
        ['truncated', upload(mp3.subarray(0, 2000), target), 400, 'body'],
        ['empty', upload(Buffer.alloc(0), target), 400, 'body'],
        [
          'unknown audio version',
          upload(mp3, 'audioVersionId=nope&chapterId=phlm-1'),
          404,
          'query.audioVersionId',
        ],
        [
          'unknown chapter',
          upload(mp3, `audioVersionId=${AUDIO_VERSION}&chapterId=phlm-9`),
          404,
          'query.chapterId',
        ],
        [
          'verse outside the chapter',
          upload(mp3, `${target}&startVerseId=titus-1-1`),
          400,
          'query.startVerseId',
        ],
        ['missing chapter', upload(mp3, `audioVersionId=${AUDIO_VERSION}`), 400, 'query.chapterId'],
        [
          'chapter that has audio',
          upload(mp3, `audioVersionId=${AUDIO_VERSION}&chapterId=titus-1`),
          409,
          'query.chapterId',
        ],
      ];
      for (const [name, request, status, field] of cases) {
        const res = await request;
        assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
        assert.ok(
          (res.body as ErrorBody).details.some((d) => d.field === field),
          `${name}: ${JSON.stringify(res.body)}`,
        );
      }
      const asUser = await upload(
        mp3,
        target,
        'audio/mpeg',
        await tokenFor(env.JWT_SECRET, 'u', 'user'),
      );
      assert.equal(asUser.status, 403);
      // An oversize body without Content-Length is cut off mid-stream.
      const chunked = await fetch(`${gateway.url}/v1/media-files?${target}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'audio/mpeg' },
        body: new Blob([oversize]).stream(),
        duplex: 'half',
      });
      assert.equal(chunked.status, 413, await chunked.text());
      assert.deepEqual((await objectKeys()).sort(), objectsBefore);
      const rows = await db.query(`SELECT 1 FROM media_files WHERE chapter_id = 'phlm-1'`);
      assert.equal(rows.rowCount, 0);
    });

    let fileId = '';
    let firstKey = '';

    it('streams a good upload to the object store and records what it measured', async () => {
      const res = await upload(mp3, target);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const file = res.body as MediaFile;
      fileId = file.id;
      firstKey = file.objectKey;
      assert.equal(file.sha256, sha256(mp3));
      assert.equal(file.fileSize, mp3.length);
      assert.ok(Math.abs(file.durationSeconds - 4) < 0.2, String(file.durationSeconds));
      assert.deepEqual([file.format, file.bitrate, file.sampleRate], ['mp3', 32000, 22050]);
      assert.deepEqual([file.uploadStatus, file.publishStatus], ['completed', 'draft']);
      assert.ok(file.objectKey.startsWith(prefix));
      assert.ok(await objectExists(file.objectKey));
      assert.equal((await user.get(`/v1/media-files/${fileId}`)).status, 404, 'drafts are hidden');
      assert.equal((await editor.get(`/v1/media-files/${fileId}`)).status, 200);
      const log = await db.query(
        `SELECT 1 FROM change_log WHERE table_name = 'media_files' AND record_id = $1 AND changed_by = 'content-editor'`,
        [fileId],
      );
      assert.equal(log.rowCount, 1);
    });

    it('replaces the audio only when asked, and removes the old object', async () => {
      const m4a = readFileSync(join(work, 'tone.m4a'));
      assert.equal((await upload(m4a, target, 'audio/mp4')).status, 409);
      const res = await upload(m4a, `${target}&replace=true`, 'audio/mp4');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const file = res.body as MediaFile;
      assert.equal(file.id, fileId);
      assert.equal(file.format, 'm4a');
      assert.ok(await objectExists(file.objectKey));
      assert.equal(await objectExists(firstKey), false);
    });

    it('validates verse timings and replaces them atomically (CSV and JSON)', async () => {
      const csv = 'verse,start,end\n1,0,0.5\n2,0.5,1.0\n3,1.0,1.5\n';
      const ok = await putTimings(fileId, csv, 'text/csv');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body, {
        mediaFileId: fileId,
        count: 3,
        inserted: 3,
        updated: 0,
        deleted: 0,
      });
      const same = await putTimings(fileId, csv, 'text/csv');
      assert.deepEqual(same.body, {
        mediaFileId: fileId,
        count: 3,
        inserted: 0,
        updated: 0,
        deleted: 0,
      });

      const bad = await putTimings(
        fileId,
        JSON.stringify({
          timings: [
            { verseId: 'phlm-1-1', start: 0, end: 1 },
            { verseId: 'titus-1-1', start: 1, end: 1.5 },
            { verse: 3, start: 0.5, duration: 1 },
            { verse: 4, start: 1.5, end: 60 },
            { verse: 5, start: 'soon', end: 61 },
          ],
        }),
        'application/json',
      );
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      const fields = (bad.body as ErrorBody).details.map((d) => d.field);
      assert.ok(fields.includes('body.timings.4.start'), fields.join());
      const badCsv = await putTimings(fileId, 'verse,start,end\n1,0,0.5\n1,0.5,1\n', 'text/csv');
      assert.equal(badCsv.status, 400);
      const semantic = await putTimings(
        fileId,
        JSON.stringify({
          timings: [
            { verseId: 'phlm-1-1', start: 0, end: 1 },
            { verseId: 'titus-1-1', start: 1, end: 1.5 },
            { verse: 3, start: 0.5, duration: 1 },
            { verse: 4, start: 1.5, end: 60 },
          ],
        }),
        'application/json',
      );
      assert.deepEqual(
        (semantic.body as ErrorBody).details.map((d) => d.field),
        ['body.timings.1.verseId', 'body.timings.2.start', 'body.timings.3.end'],
      );
      const listed = await editor.get<{ timings: { verseId: string }[] }>(
        `/v1/media-files/${fileId}/verse-timings`,
      );
      assert.equal(listed.body.timings.length, 3, 'a rejected set changes nothing');

      const replaced = await putTimings(
        fileId,
        JSON.stringify({
          timings: [
            { verse: 1, start: 0, end: 1 },
            { verse: 2, start: '0:01.5', duration: 0.5 },
          ],
        }),
        'application/json',
      );
      assert.deepEqual(replaced.body, {
        mediaFileId: fileId,
        count: 2,
        inserted: 0,
        updated: 2,
        deleted: 1,
      });
      assert.equal((await putTimings('nope', csv, 'text/csv')).status, 404);
      assert.equal((await putTimings(fileId, '<x/>', 'application/xml')).status, 415);
    });
  });

  describe('unpublished or deleted content', () => {
    it('never enters a package', async () => {
      assert.equal(
        (await editor.post(`/v1/media-files/${AUDIO_VERSION}-titus-2/unpublish`)).status,
        200,
      );
      const del = await fetch(`${gateway.url}/v1/media-files/${AUDIO_VERSION}-titus-3`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${editorToken}` },
      });
      assert.equal(del.status, 204);
      const id = await buildPackage({
        packageType: 'audio',
        languageEntityId: LANGUAGE,
        audioVersionId: AUDIO_VERSION,
      });
      const detail = await user.get<{ manifest: { totalFiles: number } }>(`/v1/packages/${id}`);
      assert.equal(detail.body.manifest.totalFiles, 1);
      assert.match(await verifyPackage(id), /^OK /);
      const chapters = await user.get<Page<{ mediaFiles: unknown[] }>>(
        `/v1/audio-versions/${AUDIO_VERSION}/books/Titus/chapters`,
      );
      assert.deepEqual(
        chapters.body.items.map((c) => c.mediaFiles.length),
        [1, 0, 0],
      );
    });
  });

  describe('operations', () => {
    it('the sweeper removes objects no row points at, and keeps the rest', async () => {
      await eventually(async () => !(await objectExists(orphanKey)), 60_000, 500);
      assert.ok(
        await objectExists(foreignKey),
        'objects not named by our uploaders are left alone',
      );
      const keys = await objectKeys();
      const rows = await db.query<{ remote_path: string }>(
        `SELECT remote_path FROM media_files WHERE remote_path LIKE $1 || '%'`,
        [prefix],
      );
      assert.ok(rows.rows.length >= 4);
      for (const r of rows.rows) assert.ok(keys.includes(r.remote_path), r.remote_path);
    });

    it('documents the content routes in the OpenAPI document', async () => {
      const doc = await user.get<{ paths: Record<string, unknown> }>('/v1/openapi.json');
      for (const path of [
        '/v1/languages',
        '/v1/bible-versions',
        '/v1/audio-versions',
        '/v1/text-versions',
        '/v1/text-versions/{id}/search',
        '/v1/media-files',
        '/v1/media-files/{id}/verse-timings',
        '/v1/text-versions/{id}/publish',
      ]) {
        assert.ok(doc.body.paths[path], path);
      }
    });

    it('with Redis stopped the catalog still answers from Postgres', async () => {
      const paths = [
        '/v1/languages',
        `/v1/text-versions?languageEntityId=${LANGUAGE}`,
        `/v1/text-versions/${TEXT_VERSION}`,
        `/v1/text-versions/${TEXT_VERSION}/search?q=favour`,
        `/v1/audio-versions/${AUDIO_VERSION}/books`,
      ];
      const warm = await Promise.all(paths.map((p) => user.get(p)));
      await redis.stop();
      // Readiness reports the outage once the gateway's clients have seen the connection drop.
      await eventually(async () => (await statusOf('/health/ready')) === 503, 10_000, 100);
      for (const [i, path] of paths.entries()) {
        const started = Date.now();
        const res = await user.get(path);
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        assert.deepEqual(res.body, warm[i].body, path);
        assert.ok(Date.now() - started < 2_000, `${path} took ${Date.now() - started} ms`);
      }
      const fresh = await user.get<Page<unknown>>('/v1/bible-versions?q=protestant');
      assert.equal(fresh.status, 200);
      assert.equal(fresh.body.items.length, 1);
      const metrics = await fetch(`${gateway.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /bible_content_cache_requests_total\{result="bypass"/);
      // Redis comes back: the gateway recovers without a restart.
      await redis.start();
      await eventually(async () => (await statusOf('/health/ready')) === 200, 15_000, 200);
      await eventually(async () => (await statusOf('/v1/languages', true)) === 200, 15_000, 200);
    });
  });
});
