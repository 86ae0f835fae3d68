// The main job end to end through the public API: request the full WEB text package and the
// John audio package, follow the builds, download both (the audio one resumed from a partial
// file), verify them offline with `bible-package verify`, print where they are, and finally
// update the audio package through a delta (full vs delta size).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiClient, type PackageRequest, createApiClient, ok } from '@bible/client';
import { signDevToken } from './token';
import { loadStackEnv, repoRoot } from './lib/stack-env';
import { updateByDelta } from './demo-delta';
import { startDemoDevices } from './demo-push';
import { startDemoSubscriber } from './demo-webhooks';

const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 3000}`;
const out = join(repoRoot, '.stack', 'demo');

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function build(
  api: ApiClient,
  label: string,
  request: PackageRequest,
): Promise<{ packageId: string; seconds: number; reused: boolean }> {
  const started = Date.now();
  const answer = ok(
    await api.POST('/v1/packages', { body: request }),
    `${label}: POST /v1/packages`,
  );
  if (!('jobId' in answer)) {
    log(`  ${label}: already built at the current content revision (${answer.packageId})`);
    return { packageId: answer.packageId, seconds: (Date.now() - started) / 1000, reused: true };
  }
  let last = '';
  for (;;) {
    const job = ok(
      await api.GET('/v1/packages/jobs/{jobId}', { params: { path: { jobId: answer.jobId } } }),
      `${label}: GET /v1/packages/jobs/{jobId}`,
    );
    const line = `  ${label}: ${job.status} ${job.stage} ${job.progress}%`;
    if (line !== last) log(line);
    last = line;
    if (job.status === 'completed' && job.packageId)
      return { packageId: job.packageId, seconds: (Date.now() - started) / 1000, reused: false };
    if (job.status === 'failed') throw new Error(`${label}: build failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The bytes of a package download, or of one byte range of it (206). */
async function fetchBytes(
  api: ApiClient,
  packageId: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; etag: string; bytes: Buffer }> {
  const { response } = await api.GET('/v1/packages/{packageId}/download', {
    params: { path: { packageId } },
    headers,
    parseAs: 'stream',
  });
  return {
    status: response.status,
    etag: response.headers.get('etag') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

async function download(
  api: ApiClient,
  packageId: string,
  file: string,
  resumeAt?: number,
): Promise<{ bytes: number; seconds: number; resumed: boolean }> {
  const started = Date.now();
  if (resumeAt === undefined) {
    const whole = await fetchBytes(api, packageId);
    if (whole.status !== 200) throw new Error(`download answered ${whole.status}`);
    writeFileSync(file, whole.bytes);
    return { bytes: statSync(file).size, seconds: (Date.now() - started) / 1000, resumed: false };
  }
  // Simulate an interrupted transfer: keep the first part, then resume with Range + If-Range.
  const first = await fetchBytes(api, packageId, { range: `bytes=0-${resumeAt - 1}` });
  if (first.status !== 206) throw new Error(`partial download answered ${first.status}`);
  writeFileSync(file, first.bytes);
  const rest = await fetchBytes(api, packageId, {
    range: `bytes=${statSync(file).size}-`,
    'if-range': first.etag,
  });
  if (rest.status !== 206) throw new Error(`resumed download answered ${rest.status}`);
  writeFileSync(file, Buffer.concat([readFileSync(file), rest.bytes]));
  return { bytes: statSync(file).size, seconds: (Date.now() - started) / 1000, resumed: true };
}

async function main(): Promise<void> {
  loadStackEnv();
  const secret = process.env.JWT_SECRET;
  if (!secret) throw new Error('JWT_SECRET not set: run `npm run stack:up` first');
  const token = await signDevToken({ sub: 'demo-user', role: 'user', ttlSeconds: 3600, secret });
  // The typed client generated from the gateway's OpenAPI document (libs/client).
  const api = createApiClient({ baseUrl: gateway, token });
  mkdirSync(out, { recursive: true });

  const keys = ok(await api.GET('/v1/packages/keys'), 'GET /v1/packages/keys');
  if (keys.keys.length === 0) throw new Error('no signing key published at /v1/packages/keys');
  const keyFile = join(out, `${keys.keys[0].keyId}.pem`);
  writeFileSync(keyFile, keys.keys[0].publicKeyPem);

  const admin = await signDevToken({ sub: 'demo-admin', role: 'admin', ttlSeconds: 3600, secret });
  const subscriber = await startDemoSubscriber(gateway, admin);
  log(`Subscribed ${subscriber.url} to package.ready (POST /v1/admin/webhooks)`);
  const devices = await startDemoDevices(gateway, token);
  if (devices)
    log(
      'Registered an Android, an iOS and a web device (POST /v1/push-tokens) on the local push fakes',
    );

  log(`Building packages through ${gateway} ...`);
  const text = await build(api, 'WEB text (66 books)', {
    packageType: 'text',
    languageEntityId: 'eng',
    textVersionId: 'web',
  });
  const audioRequest: PackageRequest = {
    packageType: 'audio',
    languageEntityId: 'eng',
    audioVersionId: 'web-audio-john',
  };
  const audio = await build(api, 'John audio (21 chapters)', audioRequest);

  log('Waiting for the signed package.ready webhooks ...');
  if (text.reused || audio.reused) {
    // Already built by an earlier run: no new event; ask for the recorded ones again.
    await subscriber.replay(new Date(Date.now() - 30 * 24 * 3600_000));
  }
  const hooks = await subscriber.waitFor([text.packageId, audio.packageId], 60_000);
  for (const [i, hook] of hooks.entries()) {
    const id = [text.packageId, audio.packageId][i];
    log(
      hook
        ? `  ${hook.type} ${id}: webhook-id ${hook.webhookId}, ${hook.signatures} signature(s) verified with standardwebhooks, ${[text, audio][i].reused ? 'redelivered by replay' : `${hook.latencyMs} ms after the event`}`
        : `  no package.ready delivery for ${id} within 60 s (is the notifier running? npm run stack:status)`,
    );
  }
  await subscriber.close();
  if (devices) {
    log('Waiting for the package.ready push on each device ...');
    for (const [i, b] of [text, audio].entries()) {
      const id = [text.packageId, audio.packageId][i];
      if (b.reused) {
        log(`  ${id}: already built, no new event (rebuild after a content change to see a push)`);
        continue;
      }
      for (const [device, push] of Object.entries(await devices.waitFor(id, 60_000))) {
        const p = push?.payload as
          | { notification?: { title: string }; aps?: { alert: { title: string } }; title?: string }
          | undefined;
        log(
          push
            ? `  ${id} → ${device}: "${p?.notification?.title ?? p?.aps?.alert.title ?? p?.title}"`
            : `  ${id} → ${device}: nothing within 60 s (see GET /v1/notifications, .stack/logs/notifier.log)`,
        );
      }
    }
    await devices.close();
  }

  log('Downloading ...');
  const textFile = join(out, `${text.packageId}.bible`);
  const audioFile = join(out, `${audio.packageId}.bible`);
  const textDl = await download(api, text.packageId, textFile);
  const { response: head } = await api.HEAD('/v1/packages/{packageId}/download', {
    params: { path: { packageId: audio.packageId } },
  });
  const audioSize = Number(head.headers.get('content-length'));
  const audioDl = await download(api, audio.packageId, audioFile, Math.floor(audioSize / 2));

  log('Verifying offline with bible-package verify ...');
  const cli = join(repoRoot, 'libs', 'package-format', 'dist', 'cli.js');
  for (const file of [textFile, audioFile]) {
    const result = execFileSync(
      process.execPath,
      [cli, 'verify', file, '--public-key', `${keys.keys[0].keyId}=${keyFile}`],
      { encoding: 'utf8' },
    );
    log(`  ${result.trim().split('\n').join('\n  ')}`);
  }

  const sha = (file: string) =>
    createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
  log('');
  log(
    'package                                         size MB   build s   download s  sha256 (first 16)',
  );
  for (const [id, file, b, d] of [
    [text.packageId, textFile, text, textDl],
    [audio.packageId, audioFile, audio, audioDl],
  ] as const) {
    log(
      `${id.padEnd(46)} ${mb(d.bytes).padStart(8)} ${b.seconds.toFixed(2).padStart(9)} ${d.seconds.toFixed(2).padStart(11)}${d.resumed ? '*' : ' '} ${sha(file)}`,
    );
  }
  log('(* resumed from a partial file with Range + If-Range)');
  log(`\nPackages are in ${out}`);
  log(`Inspect one: npx bible-package inspect ${textFile}`);

  log('');
  await updateByDelta({
    gateway,
    token,
    editorToken: await signDevToken({
      sub: 'demo-editor',
      role: 'editor',
      ttlSeconds: 3600,
      secret,
    }),
    basePackageId: audio.packageId,
    baseFile: audioFile,
    request: audioRequest,
    mediaFileId: 'web-audio-john-john-3',
    keyId: keys.keys[0].keyId,
    keyFile,
    out,
    log,
  });
}

main().catch((error: Error) => {
  process.stderr.write(`demo failed: ${error.message}\n`);
  process.exit(1);
});
