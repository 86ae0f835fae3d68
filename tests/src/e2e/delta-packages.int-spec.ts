// Delta packages (issue #15), end to end: gateway and builder run as processes against real
// Postgres, Redis and MinIO with the WEB seed. A full package is built, content changes (one
// chapter's audio replaced, verse texts edited, a media file deleted), the client asks for an
// update, applies the delta with `bible-package apply`, and `bible-package diff` finds nothing
// between the result and a fresh full build at the same revision.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  type RunningService,
  apiClient,
  eventually,
  repoRoot,
  startService,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const COMBINED = {
  packageType: 'combined',
  languageEntityId: 'eng',
  textVersionId: 'web',
  audioVersionId: 'web-audio-john',
  books: ['John'],
};
const AUDIO_ONLY = {
  packageType: 'audio',
  languageEntityId: 'eng',
  audioVersionId: 'web-audio-john',
  books: ['John'],
};
const SERIES = {
  packageType: 'combined',
  languageEntityId: 'eng',
  textVersionId: 'web',
  audioVersionId: 'web-audio-john',
  books: ['Ruth', 'John'],
  chunking: { strategy: 'testament' },
};
const CLI = join(repoRoot, 'libs/package-format/dist/cli.js');

interface JobStatus {
  status: string;
  packageId?: string;
  error?: string;
}
interface UpdateAnswer {
  jobId?: string;
  packageId: string;
  status?: string;
  updateKind?: 'delta' | 'full';
  reason?: string;
  basePackageId?: string;
  upToDate?: boolean;
  parts?: { packageId: string; partNumber: number; contentRange?: { startBook: string } }[];
}

/**
 * Runs bible-package without blocking this process (a blocked event loop would miss the
 * gateway closing idle keep-alive sockets, and the next request would hit a dead one).
 */
function cli(
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({
        status: error ? (typeof error.code === 'number' ? error.code : 2) : 0,
        stdout,
        stderr,
      });
    });
  });
}

/** An MP3 tone, encoded without blocking this process (see `cli`). */
async function tone(file: string, seconds: number): Promise<Buffer> {
  await promisify(execFile)('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi'],
    ...['-i', `sine=frequency=523:duration=${seconds}`, '-ac', '1', '-ar', '22050'],
    ...['-c:a', 'libmp3lame', '-b:a', '32k', '-y', file],
  ]);
  return readFileSync(file);
}

describe('delta packages', { timeout: 15 * 60_000 }, () => {
  let env: Record<string, string>;
  let gateway: RunningService;
  let builder: RunningService;
  let api: ReturnType<typeof apiClient>;
  let token = '';
  let db: Client;
  let keyFile = '';
  const work = mkdtempSync(join(tmpdir(), 'delta-e2e-'));
  /** What the first test leaves for the chain test: the package the client applied. */
  let clientHeld: { packageId: string; path: string } | undefined;

  /** Asks for an update of `basePackageId` until the revision moved; follows the delta build. */
  const deltaUpdate = async (basePackageId: string, name: string): Promise<string> => {
    // The revision moves once no older transaction is open (other clients of the cluster too).
    const asked = await eventually(
      async () => {
        const res = await api.post<UpdateAnswer>('/v1/packages', { ...COMBINED, basePackageId });
        return res.body.upToDate ? undefined : res;
      },
      60_000,
      250,
    );
    assert.equal(asked.status, 202, asked.text);
    assert.equal(asked.body.updateKind, 'delta', asked.text);
    assert.equal(asked.body.basePackageId, basePackageId);
    const job = await waitForJob(asked.body.jobId as string);
    assert.equal(job.status, 'completed', job.error);
    assert.equal(job.packageId, asked.body.packageId);
    const update = await api.get<UpdateAnswer>(`/v1/packages/${basePackageId}/update`);
    assert.equal(update.status, 200, update.text);
    assert.equal(update.body.updateKind, 'delta');
    assert.equal(update.body.packageId, asked.body.packageId);
    return download(update.body.packageId, name);
  };
  const file = (name: string) => join(work, name);

  const waitForJob = (jobId: string): Promise<JobStatus> =>
    eventually(
      async () => {
        const res = await api.get<JobStatus>(`/v1/packages/jobs/${jobId}`);
        assert.equal(res.status, 200, res.text);
        return res.body.status === 'completed' || res.body.status === 'failed'
          ? res.body
          : undefined;
      },
      180_000,
      250,
    );

  /** POSTs until the answer is a ready package (following the build job once). */
  const readyPackage = async (body: object): Promise<UpdateAnswer> => {
    const first = await api.post<UpdateAnswer>('/v1/packages', body);
    assert.ok(first.status === 200 || first.status === 202, first.text);
    if (first.status === 202) {
      const job = await waitForJob(first.body.jobId as string);
      assert.equal(job.status, 'completed', job.error);
      const again = await api.post<UpdateAnswer>('/v1/packages', body);
      assert.equal(again.status, 200, again.text);
      return { ...again.body, ...(first.body.updateKind && { updateKind: first.body.updateKind }) };
    }
    return first.body;
  };

  const download = async (packageId: string, name: string): Promise<string> => {
    const res = await fetch(`${gateway.url}/v1/packages/${packageId}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200, packageId);
    writeFileSync(file(name), Buffer.from(await res.arrayBuffer()));
    return file(name);
  };

  before(async () => {
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    const serviceEnv = {
      ...env,
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: '1000',
      RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: '1000',
    };
    [gateway, builder] = await Promise.all([
      startService('api-gateway', serviceEnv),
      startService('package-builder', serviceEnv),
    ]);
    token = await tokenFor(env.JWT_SECRET, 'delta-editor', 'editor');
    api = apiClient(gateway.url, token);
    const keys = await api.get<{ keys: { keyId: string; publicKeyPem: string }[] }>(
      '/v1/packages/keys',
    );
    assert.equal(keys.status, 200);
    keyFile = file(`${keys.body.keys[0].keyId}.public.pem`);
    writeFileSync(keyFile, keys.body.keys[0].publicKeyPem);
  });

  after(async () => {
    // Kept for a failed run's post-mortem.
    writeFileSync(file('gateway.log'), gateway?.output() ?? '');
    writeFileSync(file('builder.log'), builder?.output() ?? '');
    await Promise.all([gateway?.stop('SIGKILL'), builder?.stop('SIGKILL')]);
    await db?.end();
  });

  it('a delta applied with bible-package apply equals a fresh full build', async () => {
    const { rows } = await db.query<{ duration: number }>(
      `SELECT COALESCE(max(start_time_seconds + duration_seconds), 1) AS duration
         FROM media_files_verses WHERE media_file_id = 'web-audio-john-john-3' AND deleted_at IS NULL`,
    );
    const audio = await tone(file('john-3.mp3'), Math.ceil(Number(rows[0].duration)) + 2);
    const base = await readyPackage(COMBINED);
    const basePath = await download(base.packageId, 'base.bible');

    // An up-to-date client hears so.
    const current = await api.get<UpdateAnswer>(`/v1/packages/${base.packageId}/update`);
    assert.equal(current.status, 200, current.text);
    assert.deepEqual(current.body, { upToDate: true, packageId: base.packageId });

    // Content changes: john-3 re-recorded, three verse texts edited, john-21's file deleted.
    const replaced = await fetch(
      `${gateway.url}/v1/media-files?audioVersionId=web-audio-john&chapterId=john-3&replace=true`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'audio/mpeg' },
        body: audio,
      },
    );
    assert.equal(replaced.status, 201, await replaced.text());
    await api.post('/v1/media-files/web-audio-john-john-3/publish', {});
    await db.query(
      `UPDATE verse_texts SET verse_text = verse_text || ' (revised)'
        WHERE id IN ('web-john-1-1', 'web-john-3-16', 'web-john-21-25')`,
    );
    const removed = await api.delete('/v1/media-files/web-audio-john-john-21');
    assert.equal(removed.status, 204, removed.text);

    // The update: a delta, built once and then served ready.
    const deltaPath = await deltaUpdate(base.packageId, 'delta.bible');

    const fresh = await readyPackage(COMBINED);
    const fullPath = await download(fresh.packageId, 'full.bible');
    // Now current: the full package is up to date.
    const done = await api.get<UpdateAnswer>(`/v1/packages/${fresh.packageId}/update`);
    assert.deepEqual(done.body, { upToDate: true, packageId: fresh.packageId });
    for (const f of [deltaPath, fullPath]) {
      const v = await cli('verify', f, '--public-key', keyFile);
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /signature verified/);
    }
    assert.ok(
      statSync(deltaPath).size < statSync(fullPath).size / 2,
      `delta ${statSync(deltaPath).size} B vs full ${statSync(fullPath).size} B`,
    );
    const inspect = JSON.parse((await cli('inspect', deltaPath, '--json')).stdout) as {
      manifest: { audioFileIndex: { chapterId: string }[]; delta: { targetPackageId: string } };
    };
    assert.deepEqual(
      inspect.manifest.audioFileIndex.map((e) => e.chapterId),
      ['john-3'],
      'only the re-recorded chapter travels',
    );
    assert.equal(inspect.manifest.delta.targetPackageId, fresh.packageId);

    const appliedPath = file('applied.bible');
    const applied = await cli(
      'apply',
      basePath,
      deltaPath,
      '-o',
      appliedPath,
      '--public-key',
      keyFile,
    );
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal((await cli('verify', appliedPath)).status, 0);
    const same = await cli('diff', appliedPath, fullPath);
    assert.equal(same.status, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /^identical/);
    clientHeld = { packageId: fresh.packageId, path: appliedPath };

    // The diff is not blind: the base differs from the full package in exactly these ways.
    const before = await cli('diff', basePath, fullPath, '--json');
    assert.equal(before.status, 1);
    const d = JSON.parse(before.stdout) as {
      tables: { table: string; changed: number; removed: number }[];
      audio: { removed: string[]; changed: string[] };
    };
    assert.deepEqual(d.audio.changed, ['john-3.mp3']);
    assert.deepEqual(d.audio.removed, ['john-21.mp3']);
    assert.equal(d.tables.find((t) => t.table === 'package_verse_texts')?.changed, 3);
    assert.equal(d.tables.find((t) => t.table === 'package_media_files')?.removed, 1);
  });

  it('a client updates its applied package by delta again, twice', async () => {
    const applied = clientHeld;
    assert.ok(applied, 'the first test left an applied package');
    const edit = (id: string) =>
      db.query(`UPDATE verse_texts SET verse_text = verse_text || ' (again)' WHERE id = $1`, [id]);
    // Round 2: the server built the full package the client holds, but not these bytes: the
    // delta names its base by rows as well.
    await edit('web-john-2-1');
    const second = await deltaUpdate(applied.packageId, 'delta-2.bible');
    const applied2 = file('applied-2.bible');
    const r2 = await cli('apply', applied.path, second, '-o', applied2, '--public-key', keyFile);
    assert.equal(r2.status, 0, r2.stderr);
    const id2 = (
      JSON.parse((await cli('inspect', second, '--json')).stdout) as {
        manifest: { delta: { targetPackageId: string } };
      }
    ).manifest.delta.targetPackageId;
    // Round 3: nobody built the full package of round 2; the server rebuilds the rows the
    // client holds from the round-2 delta and its base.
    await edit('web-john-4-1');
    const third = await deltaUpdate(id2, 'delta-3.bible');
    const applied3 = file('applied-3.bible');
    const r3 = await cli('apply', applied2, third, '-o', applied3, '--public-key', keyFile);
    assert.equal(r3.status, 0, r3.stderr);
    const fresh = await readyPackage(COMBINED);
    const fullPath = await download(fresh.packageId, 'full-3.bible');
    const same = await cli('diff', applied3, fullPath);
    assert.equal(same.status, 0, same.stdout + same.stderr);
  });

  it('a part of a chunked series gets a delta of that part', async () => {
    const series = await readyPackage(SERIES);
    const nt = series.parts?.find((p) => p.contentRange?.startBook === 'John');
    assert.ok(nt, JSON.stringify(series));
    const basePath = await download(nt.packageId, 'series-nt.bible');
    await db.query(
      `UPDATE verse_texts SET verse_text = verse_text || ' (series)' WHERE id = 'web-john-5-1'`,
    );
    const asked = await eventually(
      async () => {
        const res = await api.post<UpdateAnswer>('/v1/packages', {
          ...SERIES,
          basePackageId: nt.packageId,
        });
        return res.body.upToDate ? undefined : res;
      },
      60_000,
      250,
    );
    assert.equal(asked.status, 202, asked.text);
    assert.equal(asked.body.updateKind, 'delta');
    const job = await waitForJob(asked.body.jobId as string);
    assert.equal(job.status, 'completed', job.error);
    const update = await api.get<UpdateAnswer>(`/v1/packages/${nt.packageId}/update`);
    assert.equal(update.status, 200, update.text);
    assert.equal(update.body.updateKind, 'delta');
    assert.equal(update.body.packageId, job.packageId);
    const deltaPath = await download(update.body.packageId, 'series-nt-delta.bible');
    const appliedPath = file('series-nt-applied.bible');
    const applied = await cli(
      'apply',
      basePath,
      deltaPath,
      '-o',
      appliedPath,
      '--public-key',
      keyFile,
    );
    assert.equal(applied.status, 0, applied.stderr);
    const fresh = await readyPackage(SERIES);
    const freshNt = fresh.parts?.find((p) => p.partNumber === nt.partNumber);
    assert.ok(freshNt);
    const fullPath = await download(freshNt.packageId, 'series-nt-full.bible');
    const same = await cli('diff', appliedPath, fullPath);
    assert.equal(same.status, 0, same.stdout + same.stderr);
  });

  it('unknown, delta and foreign bases get a full package with a reason', async () => {
    const unknown = await api.post<UpdateAnswer>('/v1/packages', {
      ...COMBINED,
      basePackageId: 'no-such-package-r1',
    });
    // 200 when the full package exists at the current revision, 202 while it builds.
    assert.ok(unknown.status === 200 || unknown.status === 202, unknown.text);
    assert.equal(unknown.body.updateKind, 'full');
    assert.equal(unknown.body.reason, 'base_unknown');

    const { rows } = await db.query<{ package_id: string; base: string }>(
      `SELECT package_id, base_package_id AS base FROM package_generations
        WHERE base_package_id IS NOT NULL LIMIT 1`,
    );
    const ofDelta = await api.post<UpdateAnswer>('/v1/packages', {
      ...COMBINED,
      basePackageId: rows[0].package_id,
    });
    assert.equal(ofDelta.body.reason, 'base_is_delta');

    // A base of other content (the combined package for an audio-only request).
    const foreign = await api.post<UpdateAnswer>('/v1/packages', {
      ...AUDIO_ONLY,
      basePackageId: rows[0].base,
    });
    assert.ok(foreign.status === 200 || foreign.status === 202, foreign.text);
    assert.equal(foreign.body.updateKind, 'full');
    assert.equal(foreign.body.reason, 'base_other_content');

    const missing = await api.get(`/v1/packages/no-such-package-r1/update`);
    assert.equal(missing.status, 404);
  });

  it('a malformed basePackageId is a 400 naming the field', async () => {
    const bad = await api.post<{ details: { field: string }[] }>('/v1/packages', {
      ...COMBINED,
      basePackageId: '../etc/passwd',
    });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(
      bad.body.details.some((d) => d.field === 'body.basePackageId'),
      bad.text,
    );
    const badParam = await api.get<{ details: { field: string }[] }>(
      `/v1/packages/${encodeURIComponent('bad id!')}/update`,
    );
    assert.equal(badParam.status, 400, badParam.text);
  });
});
