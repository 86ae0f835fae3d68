// What a crash leaves behind (issue 14, item 1): a builder killed with SIGKILL in the middle of
// its multipart upload leaves an incomplete upload and its temp folder; the next builder removes
// the folder at start, the sweeper aborts the upload, and the retried build completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, eventually, tokenFor } from '@bible/testing';
import { BuilderCrashStack } from '../support/builder-crash';

const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };

describe('a builder killed during its upload', { timeout: 5 * 60_000 }, () => {
  let stack: BuilderCrashStack;
  const buildTmp = mkdtempSync(join(tmpdir(), 'builder-tmp-'));

  before(async () => {
    stack = await BuilderCrashStack.start({ BUILDER_LOCK_DURATION_MS: '4000' });
  });

  after(async () => {
    await stack?.stop();
    rmSync(buildTmp, { recursive: true, force: true });
  });

  it('leaves no incomplete upload and no temp folder once the next builder has swept', async () => {
    // The first builder's object-store traffic goes through a throttled proxy, so its upload
    // takes seconds and the kill lands in the middle of it.
    const { env, gateway, proxy, builders } = stack;
    proxy.throttleUpstream(2 * 1024 * 1024);
    await stack.startBuilder({ S3_ENDPOINT: proxy.url, BUILD_TMP_DIR: buildTmp });
    const api = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'crash-user'));
    const res = await api.post<{ jobId: string }>('/v1/packages', AUDIO);
    assert.equal(res.status, 202, res.text);

    const uploading = await stack.uploadInFlight();
    const killed = builders[0];
    killed.process.kill('SIGKILL');
    await killed.exited;

    const incomplete = () => stack.incompleteUploads(uploading.key);
    assert.ok(
      (await incomplete()).some((u) => u.UploadId === uploading.uploadId),
      'the killed builder left its multipart upload',
    );
    const folder = join(buildTmp, `bible-builder-${killed.process.pid}`);
    assert.ok(existsSync(folder), 'the killed builder left its temp folder');
    assert.ok(readdirSync(folder).some((n) => n.startsWith('build-')));

    // The next builder (direct to the object store) cleans at start, retries the stalled job
    // (same object key: a second attempt) and sweeps the first attempt's upload.
    await stack.startBuilder({
      BUILD_TMP_DIR: buildTmp,
      MULTIPART_SWEEP_AGE_MS: '3000',
      MAINTENANCE_INTERVAL_MS: '1000',
    });
    assert.equal(existsSync(folder), false, 'the temp folder was removed at start');

    const job = await eventually(
      async () => {
        const status = await api.get<{ status: string }>(`/v1/packages/jobs/${res.body.jobId}`);
        return ['completed', 'failed'].includes(status.body.status) ? status.body : undefined;
      },
      120_000,
      250,
    );
    assert.equal(job.status, 'completed', JSON.stringify(job));
    await eventually(async () => (await incomplete()).length === 0, 30_000, 500);
    await stack.noUploadsInFlight(500);
    // Only the live builder's (empty) workspace remains.
    assert.deepEqual(readdirSync(buildTmp), [`bible-builder-${builders[1].process.pid}`]);
    assert.deepEqual(readdirSync(join(buildTmp, readdirSync(buildTmp)[0])), []);
  });
});
