// The demo's last step: an editor changes one chapter's verse timings, the client asks for an
// update of the audio package it holds (POST /v1/packages with basePackageId), downloads the
// delta, applies it offline with `bible-package apply` and checks the result.
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/stack-env';

interface UpdateAnswer {
  jobId?: string;
  packageId?: string;
  status?: string;
  updateKind?: 'delta' | 'full';
  reason?: string;
  upToDate?: boolean;
  error?: string;
}

interface Timing {
  verseId: string;
  start: number;
  end: number;
}

export interface DeltaDemoInput {
  gateway: string;
  /** A user's token (asks and downloads) and an editor's (changes content). */
  token: string;
  editorToken: string;
  /** The full package the demo downloaded, its file and request. */
  basePackageId: string;
  baseFile: string;
  request: Record<string, unknown>;
  mediaFileId: string;
  keyId: string;
  keyFile: string;
  out: string;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call<T>(
  gateway: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function updateByDelta(d: DeltaDemoInput): Promise<void> {
  d.log(`Updating ${d.basePackageId} through a delta ...`);
  // The change: the last verse of the chapter ends 10 ms earlier (or later, on the next run).
  const path = `/v1/media-files/${d.mediaFileId}/verse-timings`;
  const current = await call<{ timings: Timing[] }>(d.gateway, d.editorToken, 'GET', path);
  if (current.status !== 200) throw new Error(`GET ${path} answered ${current.status}`);
  const timings = current.body.timings.map((t) => ({
    verseId: t.verseId,
    start: t.start,
    end: t.end,
  }));
  const last = timings[timings.length - 1];
  last.end =
    Math.round((last.end + (Math.round(last.end * 100) % 2 === 0 ? -0.01 : 0.01)) * 100) / 100;
  const put = await call(d.gateway, d.editorToken, 'PUT', path, { timings });
  if (put.status !== 200)
    throw new Error(`PUT ${path} answered ${put.status}: ${JSON.stringify(put.body)}`);
  d.log(`  an editor moved the end of ${last.verseId} to ${last.end} s (PUT ${path})`);

  // Ask until the new revision is visible (older open transactions hold it back briefly).
  const body = { ...d.request, basePackageId: d.basePackageId };
  let answer = await call<UpdateAnswer>(d.gateway, d.token, 'POST', '/v1/packages', body);
  for (let i = 0; answer.body.upToDate && i < 120; i++) {
    await sleep(500);
    answer = await call<UpdateAnswer>(d.gateway, d.token, 'POST', '/v1/packages', body);
  }
  if (answer.body.upToDate) throw new Error('the change did not reach a new content revision');
  if (answer.status !== 200 && answer.status !== 202) {
    throw new Error(`POST /v1/packages answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  d.log(
    `  POST /v1/packages with basePackageId: ${answer.status}, updateKind ${answer.body.updateKind}${answer.body.reason ? ` (${answer.body.reason})` : ''}`,
  );
  if (answer.status === 202 && answer.body.jobId) {
    for (;;) {
      const job = await call<UpdateAnswer>(
        d.gateway,
        d.token,
        'GET',
        `/v1/packages/jobs/${answer.body.jobId}`,
      );
      if (job.body.status === 'failed') throw new Error(`delta build failed: ${job.body.error}`);
      if (job.body.status === 'completed') break;
      await sleep(250);
    }
    answer = await call<UpdateAnswer>(
      d.gateway,
      d.token,
      'GET',
      `/v1/packages/${d.basePackageId}/update`,
    );
  }
  const packageId = answer.body.packageId as string;
  const res = await fetch(`${d.gateway}/v1/packages/${packageId}/download`, {
    headers: { authorization: `Bearer ${d.token}` },
  });
  if (res.status !== 200) throw new Error(`downloading ${packageId} answered ${res.status}`);
  const file = join(d.out, `${packageId}.bible`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));

  const cli = join(repoRoot, 'libs', 'package-format', 'dist', 'cli.js');
  const key = `${d.keyId}=${d.keyFile}`;
  if (answer.body.updateKind !== 'delta') {
    d.log(`  the server sent a full package instead (${answer.body.reason}): ${file}`);
    return;
  }
  const appliedFile = join(d.out, `${packageId}.applied.bible`);
  const applied = execFileSync(
    process.execPath,
    [cli, 'apply', d.baseFile, file, '-o', appliedFile, '--public-key', key],
    { encoding: 'utf8' },
  );
  d.log(`  bible-package apply: ${applied.trim().split('\n').join('\n  ')}`);
  execFileSync(process.execPath, [cli, 'verify', appliedFile], { encoding: 'utf8' });
  const mb = (f: string) => (statSync(f).size / 1024 / 1024).toFixed(2);
  d.log(
    `  full package ${mb(appliedFile)} MB, delta ${mb(file)} MB (${((statSync(file).size / statSync(appliedFile).size) * 100).toFixed(2)} %): ${file}`,
  );
}
