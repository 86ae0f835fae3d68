// Package pipeline (issue #4), end to end through the public API: gateway and builders run as
// processes against real Postgres, Redis and MinIO with the WEB seed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { type S3Config, createS3Client } from '@bible/storage';
import {
  type RunningService,
  apiClient,
  eventually,
  repoRoot,
  startOtlpReceiver,
  startService,
  tokenFor,
} from '@bible/testing';
import { feedSettled } from '../support/feed-settled';
import { seededTestDatabase } from '../support/seeded-database';

const TEXT = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };
const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };

interface JobStatus {
  jobId: string;
  status: string;
  progress: number;
  stage: string;
  packageId?: string;
  parts?: { packageId: string }[];
  error?: string;
}

/** Limits high enough that a suite's own requests never hit them (the rate-limit test lowers them). */
const generousLimits = {
  RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
  RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
  RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: '1000',
  RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: '1000',
};

/** Short, so the stalled-client test is quick (its own gateway). */
const STALL_TIMEOUT_SECONDS = 4;

/** The gateway's gauge of object-store connections open for downloads. */
const openUpstreamStreams = async (gatewayUrl: string): Promise<number> => {
  const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return Number(
    /^bible_package_download_upstream_streams(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1],
  );
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('package pipeline', { timeout: 15 * 60_000 }, () => {
  let env: Record<string, string>;
  let gateway: RunningService;
  const builders: RunningService[] = [];
  let api: ReturnType<typeof apiClient>;
  let anon: ReturnType<typeof apiClient>;
  let token: string;
  let db: Client;
  let keyId = '';
  const work = mkdtempSync(join(tmpdir(), 'pkg-e2e-'));

  const waitForJob = async (jobId: string, timeoutMs = 120_000): Promise<JobStatus> =>
    eventually(
      async () => {
        const res = await api.get<JobStatus>(`/v1/packages/jobs/${jobId}`);
        assert.equal(res.status, 200, res.text);
        return res.body.status === 'completed' || res.body.status === 'failed'
          ? res.body
          : undefined;
      },
      timeoutMs,
      250,
    );

  const download = async (packageId: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.url}/v1/packages/${packageId}/download`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  };

  const verifyWithCli = (bytes: Buffer, name: string) => {
    const file = join(work, `${name}.bible`);
    writeFileSync(file, bytes);
    const keyFile = join(work, 'public.pem');
    return execFileSync(
      process.execPath,
      [
        join(repoRoot, 'libs/package-format/dist/cli.js'),
        'verify',
        file,
        '--public-key',
        `${keyId}=${keyFile}`,
      ],
      {
        encoding: 'utf8',
      },
    );
  };

  before(async () => {
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    const serviceEnv = {
      ...env,
      ...generousLimits,
      BUILDER_LOCK_DURATION_MS: '4000',
    };
    [gateway, builders[0]] = await Promise.all([
      startService('api-gateway', serviceEnv),
      startService('package-builder', serviceEnv),
    ]);
    token = await tokenFor(env.JWT_SECRET, 'e2e-user');
    api = apiClient(gateway.url, token);
    anon = apiClient(gateway.url);
    const keys = await anon.get<{ keys: { keyId: string; publicKeyPem: string }[] }>(
      '/v1/packages/keys',
    );
    assert.equal(keys.status, 200);
    assert.ok(keys.body.keys.length > 0, 'the builder registered its signing key');
    keyId = keys.body.keys[0].keyId;
    writeFileSync(join(work, 'public.pem'), keys.body.keys[0].publicKeyPem);
  });

  after(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), ...builders.map((b) => b.stop('SIGKILL'))]);
    await db?.end();
  });

  describe('bad requests answer 4xx with details, never 5xx', () => {
    const cases: [string, unknown, number, string][] = [
      ['unknown type', { ...TEXT, packageType: 'video' }, 400, 'body.packageType'],
      [
        'missing text version',
        { packageType: 'text', languageEntityId: 'eng' },
        400,
        'body.textVersionId',
      ],
      [
        'missing audio version for combined',
        { ...TEXT, packageType: 'combined' },
        400,
        'body.audioVersionId',
      ],
      ['malformed id', { ...TEXT, textVersionId: 'web; drop table' }, 400, 'body.textVersionId'],
      ['unknown field', { ...TEXT, colour: 'red' }, 400, 'body'],
      ['unknown book', { ...TEXT, books: ['John', 'Hezekiah'] }, 400, 'body.books.1'],
      ['book without audio', { ...AUDIO, books: ['Gen'] }, 400, 'body.books.0'],
      [
        'size chunking without max',
        { ...TEXT, chunking: { strategy: 'size' } },
        400,
        'body.chunking.maxSizeMB',
      ],
      ['unknown language', { ...TEXT, languageEntityId: 'xyz' }, 404, 'body.languageEntityId'],
      ['unknown version', { ...TEXT, textVersionId: 'nope' }, 404, 'body.textVersionId'],
    ];
    for (const [name, body, status, field] of cases) {
      it(name, async () => {
        const res = await api.post<{
          error: string;
          details: { field: string }[];
          requestId: string;
        }>('/v1/packages', body);
        assert.equal(res.status, status, res.text);
        assert.ok(
          res.body.details.some((d) => d.field.startsWith(field)),
          res.text,
        );
        assert.ok(res.body.requestId);
      });
    }

    it('malformed JSON is a 400', async () => {
      const res = await api.post('/v1/packages', '{"packageType": ');
      assert.equal(res.status, 400, res.text);
    });

    it('an unpublished version is 409 PKG_VERSION_NOT_PUBLISHED', async () => {
      await db.query(
        `INSERT INTO text_versions (id, language_entity_id, bible_version_id, name, publish_status)
         VALUES ('draft-tv', 'eng', 'protestant', 'Draft', 'draft') ON CONFLICT DO NOTHING`,
      );
      const res = await api.post<{ error: string }>('/v1/packages', {
        ...TEXT,
        textVersionId: 'draft-tv',
      });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error, 'PKG_VERSION_NOT_PUBLISHED');
    });

    it('no token is 401, a bad token is 401', async () => {
      assert.equal((await anon.post('/v1/packages', TEXT)).status, 401);
      assert.equal((await apiClient(gateway.url, 'x.y.z').post('/v1/packages', TEXT)).status, 401);
    });

    it('unknown job and package ids are 404; malformed ones 400', async () => {
      assert.equal((await api.get('/v1/packages/jobs/pkg-doesnotexist')).status, 404);
      assert.equal((await api.get('/v1/packages/jobs/bad id')).status, 400);
      assert.equal((await api.get('/v1/packages/nope-package')).status, 404);
      assert.equal((await api.get('/v1/packages/nope-package/download')).status, 404);
    });
  });

  let textPackageId = '';
  let textBytes = Buffer.alloc(0);

  it('builds the full WEB text package through the API, and it verifies', async () => {
    const res = await api.post<{
      jobId: string;
      status: string;
      statusUrl: string;
      packageId: string;
    }>('/v1/packages', TEXT);
    assert.equal(res.status, 202, res.text);
    assert.match(res.body.statusUrl, /^\/v1\/packages\/jobs\/pkg-/);
    const job = await waitForJob(res.body.jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.progress, 100);
    assert.equal(job.packageId, res.body.packageId);
    textPackageId = job.packageId ?? '';

    const detail = await api.get<{
      manifest: {
        includesTotalVerses: number;
        includesBooks: string[];
        bibleStructure: { totalChapters: number };
      };
    }>(`/v1/packages/${textPackageId}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.manifest.includesTotalVerses, 31_095);
    assert.equal(detail.body.manifest.includesBooks.length, 66);
    assert.equal(detail.body.manifest.bibleStructure.totalChapters, 1_189);

    const { res: dl, body } = await download(textPackageId);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-length'), String(body.length));
    assert.equal(dl.headers.get('accept-ranges'), 'bytes');
    assert.equal(
      dl.headers.get('content-disposition'),
      `attachment; filename="${textPackageId}.bible"`,
    );
    assert.equal(dl.headers.get('x-served-from'), 'generated');
    const etag = dl.headers.get('etag');
    assert.equal(
      etag,
      `"${body.subarray(36, 68).toString('hex')}"`,
      'ETag is the hex contentSha256 from the header',
    );
    textBytes = body;
    assert.match(verifyWithCli(body, 'text'), /^OK .*\n.*signature verified/);
  });

  it('an identical request answers 200 with the existing package (cache hit)', async () => {
    const res = await api.post<{
      packageId: string;
      status: string;
      downloadUrl: string;
      manifest: object;
    }>('/v1/packages', TEXT);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'ready');
    assert.equal(res.body.packageId, textPackageId);
    assert.equal(res.body.downloadUrl, `/v1/packages/${textPackageId}/download`);
    const { res: again } = await download(textPackageId);
    assert.equal(again.headers.get('x-served-from'), 'cache');
  });

  describe('downloads', () => {
    it('HEAD answers the headers without a body', async () => {
      const res = await fetch(`${gateway.url}/v1/packages/${textPackageId}/download`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(textBytes.length));
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('a resumed download gives identical bytes', async () => {
      const cut = Math.floor(textBytes.length / 3);
      const first = await download(textPackageId, { range: `bytes=0-${cut - 1}` });
      assert.equal(first.res.status, 206);
      assert.equal(
        first.res.headers.get('content-range'),
        `bytes 0-${cut - 1}/${textBytes.length}`,
      );
      const rest = await download(textPackageId, {
        range: `bytes=${cut}-`,
        'if-range': first.res.headers.get('etag') as string,
      });
      assert.equal(rest.res.status, 206);
      assert.equal(sha256(Buffer.concat([first.body, rest.body])), sha256(textBytes));
    });

    it('a multi-segment download gives identical bytes', async () => {
      const n = 4;
      const size = textBytes.length;
      const step = Math.ceil(size / n);
      const parts = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          download(textPackageId, {
            range: `bytes=${i * step}-${Math.min(size, (i + 1) * step) - 1}`,
          }),
        ),
      );
      for (const p of parts) assert.equal(p.res.status, 206);
      assert.equal(sha256(Buffer.concat(parts.map((p) => p.body))), sha256(textBytes));
    });

    it('suffix ranges, unsatisfiable ranges, stale If-Range and If-None-Match', async () => {
      const tail = await download(textPackageId, { range: 'bytes=-100' });
      assert.equal(tail.res.status, 206);
      assert.deepEqual(tail.body, textBytes.subarray(textBytes.length - 100));
      const bad = await download(textPackageId, { range: `bytes=${textBytes.length}-` });
      assert.equal(bad.res.status, 416);
      assert.equal(bad.res.headers.get('content-range'), `bytes */${textBytes.length}`);
      const stale = await download(textPackageId, { range: 'bytes=0-9', 'if-range': '"0000"' });
      assert.equal(stale.res.status, 200);
      assert.equal(stale.body.length, textBytes.length);
      const etag = stale.res.headers.get('etag') as string;
      const notModified = await download(textPackageId, { 'if-none-match': etag });
      assert.equal(notModified.res.status, 304);
    });

    it('?redirect=1 answers 302 to a presigned object-store URL serving the same bytes', async () => {
      const res = await fetch(`${gateway.url}/v1/packages/${textPackageId}/download?redirect=1`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      const location = res.headers.get('location') as string;
      assert.match(location, /X-Amz-Signature=/);
      assert.match(location, /X-Amz-Expires=86400/);
      const direct = Buffer.from(await (await fetch(location)).arrayBuffer());
      assert.equal(sha256(direct), sha256(textBytes));
      const tooLong = await api.get(
        `/v1/packages/${textPackageId}/download?redirect=1&expiresIn=999999`,
      );
      assert.equal(tooLong.status, 400);
    });

    it('aborted downloads release their object-store connections', async () => {
      // 90 transfers aborted after their first bytes: every object-store connection they opened
      // must be closed again (the gateway's gauge of open upstream streams returns to 0).
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from({ length: 30 }, async () => {
            const controller = new AbortController();
            const res = await fetch(`${gateway.url}/v1/packages/${textPackageId}/download`, {
              headers: { authorization: `Bearer ${token}` },
              signal: controller.signal,
            });
            const reader = res.body?.getReader();
            await reader?.read();
            controller.abort();
            await reader?.cancel().catch(() => undefined);
          }),
        );
      }
      await eventually(async () => (await openUpstreamStreams(gateway.url)) === 0, 5_000);
      const started = Date.now();
      const { res, body } = await download(textPackageId);
      assert.equal(res.status, 200);
      assert.equal(sha256(body), sha256(textBytes));
      assert.ok(
        Date.now() - started < 10_000,
        'a download after 90 aborted ones is still served promptly',
      );
    });

    it('a client that stops reading is dropped; upstream streams are capped per gateway', async () => {
      // Its own gateway: a short stall timeout and room for one object-store stream.
      const small = await startService('api-gateway', {
        ...env,
        ...generousLimits,
        DOWNLOAD_CLIENT_STALL_TIMEOUT_SECONDS: String(STALL_TIMEOUT_SECONDS),
        DOWNLOAD_MAX_UPSTREAM_STREAMS: '1',
      });
      // Node cannot shrink a socket's receive buffer; without that the kernel would take in the
      // whole 12 MB package. A 4 KiB SO_RCVBUF client stalls the gateway after a few MB.
      const client = spawn(
        'python3',
        [
          '-c',
          [
            'import socket, sys',
            's = socket.socket()',
            's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
            "s.connect(('127.0.0.1', int(sys.argv[1])))",
            "s.sendall(('GET /v1/packages/%s/download HTTP/1.1\\r\\nHost: gw\\r\\n'",
            "           'Authorization: Bearer %s\\r\\n\\r\\n' % (sys.argv[2], sys.argv[3])).encode())",
            "print(s.recv(64).split(b'\\r\\n')[0].decode(), flush=True)",
            'sys.stdin.read()  # hold the connection open, reading nothing, until told to go',
          ].join('\n'),
          String(small.port),
          textPackageId,
          token,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      try {
        const [statusLine] = (await once(client.stdout, 'data')) as [Buffer];
        assert.match(statusLine.toString(), /^HTTP\/1\.1 200/);
        const stalledAt = Date.now();
        assert.equal(await openUpstreamStreams(small.url), 1, 'the download is in progress');
        // The one upstream stream is taken: the next download is turned away, not queued.
        const busy = await fetch(`${small.url}/v1/packages/${textPackageId}/download`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(busy.status, 503);
        assert.equal(busy.headers.get('retry-after'), '2');
        await eventually(
          async () => (await openUpstreamStreams(small.url)) === 0,
          (STALL_TIMEOUT_SECONDS + 10) * 1000,
        );
        assert.ok(Date.now() - stalledAt >= (STALL_TIMEOUT_SECONDS - 1) * 1000);
        // Released: the next client is served in full.
        const res = await fetch(`${small.url}/v1/packages/${textPackageId}/download`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(textBytes));
      } finally {
        client.kill();
        await small.stop('SIGKILL');
      }
    });

    it('download by content serves the current package', async () => {
      const res = await fetch(
        `${gateway.url}/v1/packages/download?packageType=text&languageEntityId=eng&textVersionId=web`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(textBytes));
    });

    it('the catalog lists it with cursor pagination', async () => {
      const res = await api.get<{
        items: { packageId: string }[];
        nextCursor: string | null;
        total: number;
      }>('/v1/packages?packageType=text&limit=1');
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.items.some((i) => i.packageId === textPackageId));
      assert.equal((await api.get('/v1/packages?limit=500')).status, 400);
      assert.equal((await api.get('/v1/packages?cursor=garbage')).status, 400);
    });
  });

  it('concurrent identical requests produce exactly one build', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => api.post<{ jobId: string }>('/v1/packages', AUDIO)),
    );
    for (const r of responses) assert.equal(r.status, 202, r.text);
    const jobIds = new Set(responses.map((r) => r.body.jobId));
    assert.equal(jobIds.size, 1);
    const job = await waitForJob([...jobIds][0]);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    const rows = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM package_generations WHERE audio_version_id = 'web-audio-john' AND package_type = 'audio'`,
    );
    assert.equal(rows.rows[0].n, 1);
    const { body } = await download(job.packageId as string);
    assert.match(verifyWithCli(body, 'audio'), /^OK .*\n.*signature verified/);
    const manifest = (
      await api.get<{ manifest: { totalFiles: number; includesVerseTimings: boolean } }>(
        `/v1/packages/${job.packageId}`,
      )
    ).body.manifest;
    assert.equal(manifest.totalFiles, 21);
    assert.equal(manifest.includesVerseTimings, true);
  });

  it('streams progress as Server-Sent Events until completion', async () => {
    const res = await api.post<{ jobId: string }>('/v1/packages', { ...TEXT, books: ['Ruth'] });
    assert.equal(res.status, 202, res.text);
    const sse = await fetch(`${gateway.url}/v1/packages/jobs/${res.body.jobId}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await sse.text();
    assert.match(text, /event: completed\n(?:id: [^\n]*\n)?data: .*"status":"completed"/);
  });

  it('chunking by testament builds a series of parts', async () => {
    const res = await api.post<{ jobId: string }>('/v1/packages', {
      ...TEXT,
      chunking: { strategy: 'testament' },
    });
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob(res.body.jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.parts?.length, 2);
    for (const [i, part] of (job.parts ?? []).entries()) {
      const detail = await api.get<{
        manifest: {
          packageType: number;
          seriesInfo: { partNumber: number; totalParts: number; chunkingStrategy: string };
        };
      }>(`/v1/packages/${part.packageId}`);
      assert.equal(detail.body.manifest.packageType, 5);
      assert.equal(detail.body.manifest.seriesInfo.partNumber, i + 1);
      assert.equal(detail.body.manifest.seriesInfo.totalParts, 2);
      assert.equal(detail.body.manifest.seriesInfo.chunkingStrategy, 'testament');
    }
  });

  it('a builder killed mid-build leaves nothing visible and the job completes on another builder', async () => {
    const res = await api.post<{ jobId: string; packageId: string }>('/v1/packages', {
      ...TEXT,
      chunking: { strategy: 'book_group' },
    });
    assert.equal(res.status, 202, res.text);
    await eventually(
      async () =>
        (await api.get<JobStatus>(`/v1/packages/jobs/${res.body.jobId}`)).body.status === 'active',
      30_000,
      20,
    );
    builders[0].process.kill('SIGKILL');
    await builders[0].exited;
    const before = await api.get<JobStatus>(`/v1/packages/jobs/${res.body.jobId}`);
    assert.notEqual(before.body.status, 'completed');
    const visible = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM package_generations WHERE package_key = (SELECT package_key FROM package_requests WHERE job_id = $1 LIMIT 1)`,
      [res.body.jobId],
    );
    assert.equal(visible.rows[0].n, 0, 'no partial package is visible');
    builders[1] = await startService('package-builder', {
      ...env,
      BUILDER_LOCK_DURATION_MS: '4000',
    });
    const job = await waitForJob(res.body.jobId, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    for (const part of job.parts ?? [{ packageId: job.packageId as string }]) {
      const { body } = await download(part.packageId);
      assert.match(verifyWithCli(body, part.packageId), /^OK .*\n.*signature verified/);
    }
  });

  it('a missing audio source fails the build naming the media file; allowPartial builds and lists it', async () => {
    await db.query(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size, duration_seconds, sha256, format,
                               upload_status, publish_status, chapter_id)
      VALUES ('ghost-file', 'eng', 'web-audio-john', 'media/web-audio-john/ghost.mp3', 1000, 10, repeat('a', 64), 'mp3',
              'completed', 'published', 'john-21')`);
    const res = await api.post<{ jobId: string }>('/v1/packages', { ...AUDIO, books: ['John'] });
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob(res.body.jobId);
    assert.equal(job.status, 'failed');
    assert.match(job.error ?? '', /ghost-file/);

    const partial = await api.post<{ jobId: string }>('/v1/packages', {
      ...AUDIO,
      books: ['John'],
      allowPartial: true,
    });
    assert.equal(partial.status, 202, partial.text);
    const ok = await waitForJob(partial.body.jobId);
    assert.equal(ok.status, 'completed', JSON.stringify(ok));
    const { body } = await download(ok.packageId as string);
    assert.match(verifyWithCli(body, 'partial'), /^OK .*\n.*signature verified/);
    await db.query(`DELETE FROM media_files WHERE id = 'ghost-file'`);
  });

  it('a content change builds a new package version; the previous one stays downloadable', async () => {
    await db.query(
      `UPDATE verse_texts SET verse_text = verse_text || ' (rev)' WHERE id = 'web-ruth-1-1'`,
    );
    // A background transaction (a build, the relay) may still be open: the change enters the
    // revision once none older can commit.
    await feedSettled(db);
    const res = await api.post<{ jobId: string; packageId: string }>('/v1/packages', {
      ...TEXT,
      books: ['Ruth'],
    });
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob(res.body.jobId);
    assert.equal(job.status, 'completed');
    const rows = await db.query<{ package_id: string; status: string }>(
      `SELECT package_id, status FROM package_generations WHERE package_key = (SELECT package_key FROM package_requests WHERE job_id = $1 LIMIT 1) ORDER BY created_at`,
      [res.body.jobId],
    );
    assert.equal(rows.rows.length, 2);
    assert.equal(rows.rows[0].status, 'stale');
    assert.equal(rows.rows[1].status, 'ready');
    const old = await download(rows.rows[0].package_id);
    assert.equal(old.res.status, 200, 'the superseded package is still downloadable');
    const manifest = (
      await api.get<{ manifest: { supersedes?: string } }>(`/v1/packages/${job.packageId}`)
    ).body.manifest;
    assert.equal(manifest.supersedes, rows.rows[0].package_id);
  });

  it('abandoned multipart uploads are aborted by the sweeper', async () => {
    const s3 = createS3Client({ ...env, S3_FORCE_PATH_STYLE: true } as unknown as S3Config);
    const key = `packages/abandoned-${Date.now()}.bible`;
    const createdAt = Date.now();
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: env.S3_BUCKET, Key: key }),
    );
    const listed = async () =>
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: env.S3_BUCKET, Prefix: key })))
        .Uploads ?? [];
    assert.equal((await listed()).length, 1);
    // What a builder records before its multipart upload; a crash leaves the entry behind. The
    // entry is dated a minute back but the store dates the upload now (clocks differ): sweeps
    // before the upload is 4 s old leave it, and must keep the entry for a later sweep.
    const prefix = `${env.QUEUE_PREFIX}-sweep`.slice(0, 40);
    const redis = new Redis(env.REDIS_URL);
    await redis.zadd(`${prefix}:uploads-in-flight`, Date.now() - 60_000, key);
    const sweeper = await startService('package-builder', {
      ...env,
      QUEUE_PREFIX: prefix,
      MULTIPART_SWEEP_AGE_MS: '4000',
      MAINTENANCE_INTERVAL_MS: '1000',
    });
    try {
      await eventually(async () => (await listed()).length === 0, 30_000, 200);
      const age = Date.now() - createdAt;
      assert.ok(age >= 3_500, `aborted ${age} ms after it started, before the sweep age`);
      assert.ok(created.UploadId);
      await eventually(
        async () => ((await redis.zcard(`${prefix}:uploads-in-flight`)) === 0 ? true : undefined),
        5_000,
      );
    } finally {
      await sweeper.stop('SIGKILL');
      await redis.quit();
      s3.destroy();
    }
  });

  it('exposes build and download metrics', async () => {
    const builderMetrics = await (await fetch(`${builders[1].url}/metrics`)).text();
    assert.match(
      builderMetrics,
      /bible_package_builds_total\{[^}]*type="text"[^}]*status="success"/,
    );
    assert.match(
      builderMetrics,
      /bible_package_build_duration_seconds_bucket\{[^}]*stage="upload"/,
    );
    assert.match(builderMetrics, /bible_queue_depth\{[^}]*state="waiting"/);
    const gatewayMetrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(gatewayMetrics, /bible_package_cache_requests_total\{[^}]*result="hit"/);
    assert.match(gatewayMetrics, /bible_package_download_bytes_total\{[^}]*\} [1-9]/);
  });

  it('rate limits builds per user with 429, Retry-After and RateLimit headers', async () => {
    const limited = await startService('api-gateway', {
      ...env,
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '2',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    });
    try {
      const client = apiClient(
        limited.url,
        await tokenFor(env.JWT_SECRET, `limited-${Date.now()}`),
      );
      const first = await client.post('/v1/packages', TEXT);
      assert.equal(first.headers.get('ratelimit-limit'), '2');
      await client.post('/v1/packages', TEXT);
      const third = await client.post<{ error: string }>('/v1/packages', TEXT);
      assert.equal(third.status, 429);
      assert.equal(third.body.error, 'RATE_LIMITED');
      assert.ok(Number(third.headers.get('retry-after')) > 0);
      assert.equal(third.headers.get('ratelimit-remaining'), '0');
    } finally {
      await limited.stop('SIGKILL');
    }
  });

  it('health and metrics keep answering when the per-IP default limit is spent', async () => {
    // A fresh key namespace (limits count for an hour, across runs), so spending this IP's
    // budget leaves the suite's gateway and later runs alone.
    const limited = await startService('api-gateway', {
      ...env,
      QUEUE_PREFIX: `rl-${Date.now().toString(36)}-${env.QUEUE_PREFIX}`.slice(0, 40),
      RATE_LIMIT_DEFAULT_PER_IP_HOUR: '3',
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await fetch(`${limited.url}/v1/packages/keys`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      for (let i = 0; i < 5; i++) {
        for (const path of ['/health/live', '/health/ready', '/metrics']) {
          const res = await fetch(`${limited.url}${path}`);
          assert.equal(res.status, 200, path);
          assert.equal(res.headers.get('ratelimit-limit'), null, `${path} is not rate limited`);
        }
      }
    } finally {
      await limited.stop('SIGKILL');
    }
  });

  it('one trace spans POST → job → builder stages → S3 upload', async () => {
    const receiver = await startOtlpReceiver();
    const otel = {
      ...env,
      ...generousLimits,
      // Own queue namespace: the suite's other builder must not take this job.
      QUEUE_PREFIX: `${env.QUEUE_PREFIX}-traced`.slice(0, 40),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const [tracedGateway, tracedBuilder] = await Promise.all([
      startService('api-gateway', otel),
      startService('package-builder', otel),
    ]);
    try {
      const traceId = createHash('sha256').update(String(Date.now())).digest('hex').slice(0, 32);
      const client = apiClient(tracedGateway.url, token);
      const res = await client.post<{ jobId: string }>(
        '/v1/packages',
        { ...TEXT, books: ['Jude'] },
        { traceparent: `00-${traceId}-${'1'.repeat(16)}-01` },
      );
      assert.equal(res.status, 202, res.text);
      await eventually(async () => {
        const job = await client.get<JobStatus>(`/v1/packages/jobs/${res.body.jobId}`);
        return job.body.status === 'completed';
      }, 60_000);
      const spans = await eventually(async () => {
        const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
        return ['build.upload', 'package.build'].every((n) => inTrace.some((s) => s.name === n))
          ? inTrace
          : undefined;
      }, 20_000);
      const byService = (service: string) =>
        spans.filter((s) => s.service === service).map((s) => s.name);
      assert.ok(
        byService('api-gateway').some((n) => /POST/.test(n)),
        `gateway spans: ${byService('api-gateway').join(', ')}`,
      );
      const builderSpans = byService('package-builder');
      for (const name of ['package.build', 'build.database', 'build.assemble', 'build.upload']) {
        assert.ok(builderSpans.includes(name), `${name} missing from ${builderSpans.join(', ')}`);
      }
      assert.ok(
        spans.some(
          (s) => s.service === 'package-builder' && s.kind === 3 && /PUT|POST/.test(s.name),
        ),
        'S3 upload requests are client spans in the trace',
      );
      assert.ok(
        spans.some((s) => s.service === 'package-builder' && /pg|SELECT|INSERT/i.test(s.name)),
        'Postgres queries are in the trace',
      );
    } finally {
      await Promise.all([tracedGateway.stop('SIGKILL'), tracedBuilder.stop('SIGKILL')]);
      await receiver.close();
    }
  });
});
