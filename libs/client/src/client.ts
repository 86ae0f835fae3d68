// The offline loop of a reference client (docs/client.md):
//
//   download  GET /v1/packages/{id}/download, resumed with Range + If-Range after an interruption,
//             then verified offline against the keys of GET /v1/packages/keys (kept in the store
//             folder, so packages received by SD card verify without a network)
//   import    the package's SQLite database becomes the store; the package file is kept as the
//             base of later deltas
//   pull      GET /v1/sync/changes after the package's syncCursor, page by page; each page and
//             the new cursor commit together
//   edit      a local mutation: applied to the store at once, queued in the outbox
//   push      POST /v1/sync/push with the pending mutations; answers update the store
//   update    GET /v1/packages/{id}/update for the package we hold: a delta (applied to it) or a
//             full package; or a delta file received offline
//
// Store folder: store.sqlite, package.bible (the package imported last, read for audio and the
// base of the next delta), keys.json, downloads/ (partial downloads and the deltas, to hand on
// to other devices).
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type Keyring,
  type Manifest,
  applyDelta,
  createKeyring,
  openPackage,
  verifyPackage,
} from '@bible/package-format';
import {
  type ApiClient,
  ApiError,
  type JobStatus,
  type PublishedKey,
  createApiClient,
  ok,
} from './api';
import { LocalStore, type OutboxEntry } from './store';

export interface ClientOptions {
  /** Folder of the store (created on first use). */
  dir: string;
  /** Gateway base URL; not needed for offline commands (import, edit, status, update --file). */
  baseUrl?: string;
  token?: string;
  deviceId?: string;
  log?: (line: string) => void;
}

export interface Status {
  packageId?: string;
  packageType?: number;
  contentRevision?: string;
  cursor?: string;
  scope: { textVersionId?: string; audioVersionId?: string };
  pending: number;
  outbox: Record<string, number>;
  conflicts: number;
}

export type UpdateResult =
  | { upToDate: true }
  | {
      upToDate: false;
      updateKind: 'delta' | 'full';
      reason?: string;
      packageId: string;
      bytes: number;
      /** The downloaded package or delta (deltas stay, to hand on to other devices). */
      file: string;
    };

const PUSH_BATCH = 500;
const PULL_LIMIT = 500;

export class OfflineClient {
  readonly dir: string;
  private readonly api?: ApiClient;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ClientOptions) {
    this.dir = options.dir;
    mkdirSync(join(this.dir, 'downloads'), { recursive: true });
    if (options.baseUrl)
      this.api = createApiClient({ baseUrl: options.baseUrl, token: options.token });
    this.log = options.log ?? (() => undefined);
  }

  get storePath(): string {
    return join(this.dir, 'store.sqlite');
  }

  /** The package the store was imported from: its audio is read here, deltas apply to it. */
  get packagePath(): string {
    return join(this.dir, 'package.bible');
  }

  private http(): ApiClient {
    if (!this.api) throw new Error('this command needs the server: pass --server (BIBLE_SERVER)');
    return this.api;
  }

  /** Runs `fn` with the open store (or fails when nothing was imported yet). */
  private withStore<T>(fn: (store: LocalStore) => T): T {
    if (!existsSync(this.storePath)) throw new Error(`no store in ${this.dir}: import a package`);
    const store = LocalStore.open(this.storePath);
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  // --- keys and verification ---------------------------------------------------------------

  /** The published signing keys, fetched when online and kept for offline verification. */
  async keyring(): Promise<Keyring> {
    const file = join(this.dir, 'keys.json');
    let keys: PublishedKey[];
    if (this.api) {
      keys = ok(await this.api.GET('/v1/packages/keys'), 'GET /v1/packages/keys').keys;
      await writeFile(file, JSON.stringify(keys, null, 2));
    } else if (existsSync(file)) {
      keys = JSON.parse(readFileSync(file, 'utf8')) as PublishedKey[];
    } else {
      throw new Error('no signing keys: run once online (download or pull) to fetch them');
    }
    return createKeyring(keys.map((k) => [k.keyId, k.publicKeyPem] as const));
  }

  /** Full offline verification; the signature must be by a published key. */
  async verify(file: string): Promise<Manifest> {
    const report = await verifyPackage(file, { keyring: await this.keyring() });
    return report.manifest;
  }

  // --- download ----------------------------------------------------------------------------

  /**
   * Downloads a package into downloads/<id>.bible and verifies it. An interrupted download
   * leaves `<id>.bible.part` (+ its ETag); the next call asks only for the missing bytes, with
   * If-Range so a package replaced meanwhile restarts from zero instead of mixing bytes.
   */
  async download(
    packageId: string,
  ): Promise<{ file: string; bytes: number; resumedAt: number; manifest: Manifest }> {
    const file = join(this.dir, 'downloads', `${packageId}.bible`);
    const part = `${file}.part`;
    const etagFile = `${part}.etag`;
    const have = existsSync(part) ? (await stat(part)).size : 0;
    const etag = existsSync(etagFile) ? readFileSync(etagFile, 'utf8') : undefined;
    const resume = have > 0 && etag !== undefined;
    const { response } = await this.http().GET('/v1/packages/{packageId}/download', {
      params: { path: { packageId } },
      headers: resume ? { range: `bytes=${have}-`, 'if-range': etag } : {},
      parseAs: 'stream',
    });
    const append = response.status === 206;
    if (response.status === 416 && resume) {
      // The part file already holds every byte.
    } else if (response.status !== 200 && response.status !== 206) {
      throw new ApiError(response.status, await response.json().catch(() => undefined), 'download');
    } else {
      await writeFile(etagFile, response.headers.get('etag') ?? '');
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        createWriteStream(part, { flags: append ? 'a' : 'w' }),
      );
    }
    const manifest = await this.verify(part);
    renameSync(part, file);
    rmSync(etagFile, { force: true });
    const bytes = (await stat(file)).size;
    this.log(`downloaded ${packageId}: ${bytes} bytes${append ? ` (resumed at ${have})` : ''}`);
    return { file, bytes, resumedAt: append ? have : 0, manifest };
  }

  // --- import ------------------------------------------------------------------------------

  /**
   * Makes a verified package the store. On an existing store (an update) the outbox, conflicts
   * and identity carry over and pending edits are replayed on the new rows; the pull cursor
   * restarts at the package's syncCursor.
   */
  async import(file: string, verified?: Manifest): Promise<Manifest> {
    const manifest = verified ?? (await this.verify(file));
    if (manifest.delta) throw new Error('this is a delta package: use `update --file`');
    const next = `${this.storePath}.next`;
    rmSync(next, { force: true });
    const reader = await openPackage(file);
    try {
      await reader.extractDatabase(next);
    } finally {
      await reader.close();
    }
    const store = LocalStore.open(next);
    try {
      store.set('packageId', manifest.packageId);
      store.set('manifest', JSON.stringify(manifest));
      store.set('cursor', manifest.syncCursor);
      store.set(
        'scope',
        JSON.stringify({
          ...(manifest.textVersionId && { textVersionId: manifest.textVersionId }),
          ...(manifest.audioVersionId && { audioVersionId: manifest.audioVersionId }),
        }),
      );
      if (existsSync(this.storePath)) {
        const old = LocalStore.open(this.storePath);
        try {
          store.adopt(old);
        } finally {
          old.close();
        }
      }
      if (this.options.deviceId) store.set('deviceId', this.options.deviceId);
    } finally {
      store.close();
    }
    // Our own downloads move (a package can be large); other files are copied.
    const ours = dirname(file) === join(this.dir, 'downloads');
    if (ours) renameSync(file, `${this.packagePath}.next`);
    else await copyFile(file, `${this.packagePath}.next`);
    // The renames are the commit point: a crash before leaves the old store intact.
    renameSync(next, this.storePath);
    renameSync(`${this.packagePath}.next`, this.packagePath);
    this.log(`imported ${manifest.packageId} (revision ${manifest.contentRevision})`);
    return manifest;
  }

  // --- pull --------------------------------------------------------------------------------

  /** Applies every change after the store's cursor; returns how many were applied. */
  async pull(): Promise<{ changes: number; pages: number; cursor: string }> {
    const api = this.http();
    const { cursor: start, scope } = this.withStore((s) => ({
      cursor: s.get('cursor') as string,
      scope: s.scope(),
    }));
    let cursor = start;
    let changes = 0;
    let pages = 0;
    for (;;) {
      const res = await api.GET('/v1/sync/changes', {
        params: { query: { cursor, limit: PULL_LIMIT, ...scope } },
      });
      const page = ok(res, 'GET /v1/sync/changes'); // 409 SYNC_CURSOR_INVALID: update from a package
      this.withStore((s) =>
        s.transaction(() => {
          for (const c of page.changes) s.applyServerRow(c.table, c.recordId, c.data, c.version);
          s.set('cursor', page.nextCursor);
        }),
      );
      cursor = page.nextCursor;
      changes += page.changes.length;
      pages += 1;
      if (!page.hasMore) break;
    }
    this.log(`pulled ${changes} change(s) in ${pages} page(s)`);
    return { changes, pages, cursor };
  }

  // --- edit and push -----------------------------------------------------------------------

  edit(m: Parameters<LocalStore['edit']>[0]): OutboxEntry {
    return this.withStore((s) => s.edit(m));
  }

  private async session(store: LocalStore, fresh = false): Promise<string> {
    const existing = store.get('sessionId');
    if (existing && !fresh) return existing;
    const res = await this.http().POST('/v1/sync/sessions', {
      body: {
        deviceId: store.get('deviceId') ?? store.clientId(),
        packageId: store.get('packageId'),
      },
    });
    const { sessionId } = ok(res, 'POST /v1/sync/sessions');
    store.set('sessionId', sessionId);
    return sessionId;
  }

  /** Pushes pending mutations in order, batch by batch, and records each answer. */
  async push(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const store = LocalStore.open(this.storePath);
    try {
      const done = new Set<string>();
      for (;;) {
        // Retryable rejections stay pending: send each mutation at most once per push.
        const batch = store
          .outbox('pending')
          .filter((m) => !done.has(m.mutationId))
          .slice(0, PUSH_BATCH);
        if (batch.length === 0) break;
        const send = async (sessionId: string) =>
          this.http().POST('/v1/sync/push', {
            body: {
              sessionId,
              clientId: store.clientId(),
              mutations: batch.map((m) => ({
                mutationId: m.mutationId,
                table: m.table,
                recordId: m.recordId,
                operation: m.operation,
                data: m.data,
                ...(m.baseVersion !== undefined && { baseVersion: m.baseVersion }),
                clientUpdatedAt: m.clientUpdatedAt,
              })),
            },
          });
        let res = await send(await this.session(store));
        // An expired or completed session (404/409): start another one.
        if (res.response.status === 404 || res.response.status === 409)
          res = await send(await this.session(store, true));
        const { results } = ok(res, 'POST /v1/sync/push');
        store.transaction(() => {
          for (const [i, result] of results.entries()) {
            store.recordResult(batch[i], result);
            done.add(batch[i].mutationId);
            const key = result.retryable ? 'retryable' : result.result;
            counts[key] = (counts[key] ?? 0) + 1;
          }
        });
      }
    } finally {
      store.close();
    }
    this.log(`pushed: ${JSON.stringify(counts)}`);
    return counts;
  }

  // --- update ------------------------------------------------------------------------------

  /** Waits for a build the server queued (202) and returns the package id it produced. */
  private async waitForBuild(jobId: string, timeoutMs = 10 * 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job: JobStatus = ok(
        await this.http().GET('/v1/packages/jobs/{jobId}', { params: { path: { jobId } } }),
        'GET /v1/packages/jobs/{jobId}',
      );
      if (job.status === 'completed' && job.packageId) return job.packageId;
      if (job.status === 'failed') throw new Error(`build ${jobId} failed: ${job.error}`);
      if (Date.now() > deadline) throw new Error(`build ${jobId} did not finish in time`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Asks the server for the cheapest way from the package we hold to its current revision, in
   * one call; downloads what it offers (waiting for a queued build) and imports it. A full
   * package comes with the reason a delta was not possible.
   */
  async update(): Promise<UpdateResult> {
    const packageId = this.withStore((s) => s.get('packageId') as string);
    const answer = ok(
      await this.http().GET('/v1/packages/{packageId}/update', {
        params: { path: { packageId } },
      }),
      'GET /v1/packages/{packageId}/update',
    );
    if ('upToDate' in answer) return { upToDate: true };
    const id = 'jobId' in answer ? await this.waitForBuild(answer.jobId) : answer.packageId;
    const { file, bytes, manifest } = await this.download(id);
    const { updateKind, reason } = answer;
    this.log(`update: ${updateKind} ${id}, ${bytes} bytes${reason ? ` (${reason})` : ''}`);
    if (updateKind === 'delta') await this.applyDeltaFile(file);
    else await this.import(file, manifest);
    return { upToDate: false, updateKind, reason, packageId: id, bytes, file };
  }

  /**
   * Applies a delta package (downloaded, or received by Bluetooth / SD card) to the package we
   * hold and imports the result. The delta must carry the server's signature (checked against
   * the kept keys, offline). applyDelta checks that our package is the delta's base: the
   * server's file by content hash, or, when we rebuilt it from an earlier delta (unsigned, laid
   * out differently), by id, revision and a hash of its rows; then it rebuilds the full package
   * at the delta's revision.
   */
  async applyDeltaFile(deltaPath: string): Promise<Manifest> {
    await verifyPackage(deltaPath, { keyring: await this.keyring() });
    const output = join(this.dir, 'downloads', `applied-${Date.now()}.bible`);
    try {
      await applyDelta({ basePath: this.packagePath, deltaPath, outputPath: output });
      // The result is unsigned (only the server holds the key): a verify without keys checks
      // every hash of what applyDelta wrote.
      return await this.import(output, (await verifyPackage(output)).manifest);
    } finally {
      rmSync(output, { force: true });
    }
  }

  // --- status ------------------------------------------------------------------------------

  status(): Status {
    return this.withStore((s) => {
      const manifest = JSON.parse(s.get('manifest') ?? '{}') as Partial<Manifest>;
      const outbox: Record<string, number> = {};
      for (const m of s.outbox()) outbox[m.status] = (outbox[m.status] ?? 0) + 1;
      return {
        packageId: s.get('packageId'),
        packageType: manifest.packageType,
        contentRevision: manifest.contentRevision,
        cursor: s.get('cursor'),
        scope: s.scope(),
        pending: outbox.pending ?? 0,
        outbox,
        conflicts: s.conflicts().length,
      };
    });
  }
}
