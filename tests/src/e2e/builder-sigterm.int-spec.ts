// A builder scaled in mid-build (issue 16): SIGTERM reaches a builder whose build outlasts its
// shutdown budget. It must abort the build, clean up what the attempt uploaded, hand the job back
// to the queue and exit 0 within SHUTDOWN_TIMEOUT_MS (which the chart keeps below the termination
// grace period); the other builder then completes the job, and only the complete, signed package
// is published.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { apiClient, eventually, repoRoot, tokenFor } from '@bible/testing';
import { BuilderCrashStack } from '../support/builder-crash';

const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };
/** The SIGTERMed builder's shutdown budget; the chart's grace period must exceed it. */
const SHUTDOWN_TIMEOUT_MS = 6_000;

interface JobStatus {
  status: string;
  packageId?: string;
  error?: string | null;
}

describe('a builder scaled in mid-build (SIGTERM)', { timeout: 5 * 60_000 }, () => {
  let stack: BuilderCrashStack;
  let db: Client;
  const work = mkdtempSync(join(tmpdir(), 'builder-sigterm-'));

  before(async () => {
    stack = await BuilderCrashStack.start({ LOG_LEVEL: 'info' });
    db = new Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
  });

  after(async () => {
    await stack?.stop();
    await db?.end();
    rmSync(work, { recursive: true, force: true });
  });

  it('hands the job back, exits 0 within its budget, and the other builder publishes it whole', async () => {
    // The first builder reaches the object store through a throttled proxy: its upload takes far
    // longer than its shutdown budget, so SIGTERM lands mid-build and the build cannot finish.
    const { env, gateway, proxy, s3, redis } = stack;
    proxy.throttleUpstream(1024 * 1024);
    const token = await tokenFor(env.JWT_SECRET, 'sigterm-user');
    const api = apiClient(gateway.url, token);
    const res = await api.post<{ jobId: string }>('/v1/packages', AUDIO);
    assert.equal(res.status, 202, res.text);
    const jobId = res.body.jobId;
    // With no builder running (scaled to zero), the gateway reports the waiting build: the
    // series KEDA's default query wakes the builders on.
    await eventually(
      async () => {
        const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
        return /^bible_queue_depth\{queue="package-build",state="waiting"[^}]*\} 1$/m.test(metrics)
          ? true
          : undefined;
      },
      10_000,
      200,
    );

    const first = await stack.startBuilder({
      S3_ENDPOINT: proxy.url,
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });

    // The second builder starts once the first holds the job, so it cannot have taken it.
    await eventually(
      async () => (/"msg":"package build started"/.test(first.output()) ? true : undefined),
      60_000,
      50,
    );
    const second = await stack.startBuilder();
    const uploading = await stack.uploadInFlight();

    const signalled = Date.now();
    first.process.kill('SIGTERM');
    const code = await first.exited;
    const tookMs = Date.now() - signalled;
    assert.equal(code, 0, `exit code ${code}:\n${first.output().slice(-3000)}`);
    assert.ok(tookMs < SHUTDOWN_TIMEOUT_MS, `exited after ${tookMs} ms`);
    assert.match(first.output(), /package build handed back to the queue/);
    assert.doesNotMatch(first.output(), /"msg":"package built"/);

    // What the first builder's attempt uploaded is gone already (the sweeper only aborts
    // uploads hours old, so this is the builder's own clean-up), and nothing was published.
    const incomplete = await stack.incompleteUploads(uploading.key);
    assert.deepEqual(
      incomplete.filter((u) => u.UploadId === uploading.uploadId),
      [],
      'the released attempt aborted its multipart upload',
    );
    const generations = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM package_generations
        WHERE audio_version_id = 'web-audio-john' AND package_type = 'audio'`,
    );
    assert.equal(generations.rows[0].n, 0, 'nothing was published by the released attempt');

    const job = await eventually(
      async () => {
        const status = await api.get<JobStatus>(`/v1/packages/jobs/${jobId}`);
        return ['completed', 'failed'].includes(status.body.status) ? status.body : undefined;
      },
      120_000,
      250,
    );
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(second.output(), new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"package built"`));
    // The hand-back used no attempt: the job completed on its first counted attempt.
    assert.equal(await redis.hget(`${env.QUEUE_PREFIX}:package-build:${jobId}`, 'atm'), '1');
    const request = await db.query<{ status: string; error: string | null }>(
      'SELECT status, error FROM package_requests WHERE job_id = $1',
      [jobId],
    );
    assert.deepEqual(request.rows, [{ status: 'completed', error: null }]);

    // Exactly one generation, whose object is the whole package, and it verifies.
    const published = await db.query<{
      package_id: string;
      object_key: string;
      size_bytes: string;
    }>(
      `SELECT package_id, object_key, size_bytes FROM package_generations
        WHERE audio_version_id = 'web-audio-john' AND package_type = 'audio'`,
    );
    assert.equal(published.rows.length, 1);
    const [row] = published.rows;
    assert.equal(row.package_id, job.packageId);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: row.object_key }),
    );
    assert.equal(head.ContentLength, Number(row.size_bytes));
    await stack.noUploadsInFlight(250);

    const keys = await api.get<{ keys: { keyId: string; publicKeyPem: string }[] }>(
      '/v1/packages/keys',
    );
    const download = await fetch(`${gateway.url}/v1/packages/${row.package_id}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(download.status, 200);
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.equal(bytes.length, Number(row.size_bytes));
    writeFileSync(join(work, 'audio.bible'), bytes);
    writeFileSync(join(work, 'public.pem'), keys.body.keys[0].publicKeyPem);
    const verified = execFileSync(
      process.execPath,
      [
        join(repoRoot, 'libs/package-format/dist/cli.js'),
        'verify',
        join(work, 'audio.bible'),
        '--public-key',
        `${keys.body.keys[0].keyId}=${join(work, 'public.pem')}`,
      ],
      { encoding: 'utf8' },
    );
    assert.match(verified, /^OK .*\n.*signature verified/);
  });
});
