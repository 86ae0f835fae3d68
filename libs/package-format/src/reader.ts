/**
 * Random-access reader and streaming verifier. Works on any ByteSource, so a client can read
 * header and manifest with two range requests and fetch single audio files later.
 *
 * Full verification order (the first failure is reported):
 *   1. header: magic, formatVersion, CRC, field sanity, lengths vs. file size, trailer shape
 *   2. signature (when a keyring is given) — needs only the header and trailer
 *   3. one streaming pass over manifest ‖ database ‖ audio computing contentSha256 and, in
 *      the same pass, databaseHash, audioDataHash, totalContentHash and every file's sha256
 *      (the database section is also copied to a temp file for SQLite)
 *   4. contentSha256 vs. header
 *   5. manifest JSON, schema, agreement with the header, audio index tiling
 *   6. manifest hashes vs. computed ones, then per-file sha256
 *   7. database: opens, integrity_check, application_id/user_version/tables/metadata
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { checkPackageDatabase } from './database';
import { HashGroup, HashPool, PARALLEL_HASH_THRESHOLD, allocateShared } from './hash-pool';
import { PackageFormatError, toPackageError } from './errors';
import {
  HEADER_LENGTH,
  computeLayout,
  decodeHeader,
  type PackageHeader,
  type PackageLayout,
} from './header';
import { parseManifest, validateAudioIndex, type AudioFileEntry, type Manifest } from './manifest';
import { checkSignature, type Keyring } from './signing';
import {
  BufferSource,
  ChunkRing,
  FileSource,
  readChunks,
  readExact,
  writeFully,
  type ByteSource,
} from './sources';
import {
  SIGNATURE_LENGTH,
  TRAILER_PREFIX_LENGTH,
  decodeTrailer,
  decodeTrailerPrefix,
  type SignatureTrailer,
} from './trailer';

/** A path, the bytes themselves, or any random-access source. */
export type PackageInput = string | Uint8Array | ByteSource;

export interface PackageStructure {
  size: number;
  header: PackageHeader;
  /** Bytes 0..127 exactly as stored (what the signature covers). */
  headerBytes: Buffer;
  layout: PackageLayout;
  trailer: SignatureTrailer | null;
}

const VERIFY_CHUNK = 8 * 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;

async function resolveSource(input: PackageInput): Promise<{ source: ByteSource; owned: boolean }> {
  if (typeof input === 'string') return { source: await FileSource.open(input), owned: true };
  if (input instanceof Uint8Array) return { source: new BufferSource(input), owned: false };
  return { source: input, owned: false };
}

/**
 * Header and trailer checks (no hashing): one read for the header and, for signed packages,
 * two small reads at the end.
 */
export async function readStructure(source: ByteSource): Promise<PackageStructure> {
  const size = source.size;
  const head = await readExact(source, 0, Math.min(size, HEADER_LENGTH));
  const header = decodeHeader(head);
  const layout = computeLayout(header);
  if (layout.bodyEnd > size) {
    throw new PackageFormatError(
      'TRUNCATED',
      `header announces ${layout.bodyEnd} bytes before the trailer, file has ${size}`,
    );
  }
  let trailer: SignatureTrailer | null = null;
  if (!header.signed) {
    if (size !== layout.bodyEnd) {
      throw new PackageFormatError(
        'LENGTH_MISMATCH',
        `header lengths add up to ${layout.bodyEnd} bytes, file has ${size} (and is unsigned)`,
      );
    }
  } else {
    if (size < layout.bodyEnd + TRAILER_PREFIX_LENGTH) {
      throw new PackageFormatError('TRUNCATED', 'signed package ends before its signature trailer');
    }
    const prefix = await readExact(source, layout.bodyEnd, TRAILER_PREFIX_LENGTH);
    const { keyIdLength } = decodeTrailerPrefix(prefix);
    const end = layout.bodyEnd + TRAILER_PREFIX_LENGTH + keyIdLength + SIGNATURE_LENGTH;
    if (size < end) throw new PackageFormatError('TRUNCATED', 'signature trailer is cut short');
    if (size > end) {
      throw new PackageFormatError(
        'LENGTH_MISMATCH',
        `${size - end} unexpected bytes after the trailer`,
      );
    }
    trailer = decodeTrailer(await readExact(source, layout.bodyEnd, end - layout.bodyEnd));
  }
  return {
    size,
    header,
    headerBytes: Buffer.from(head.subarray(0, HEADER_LENGTH)),
    layout,
    trailer,
  };
}

/** MANIFEST_MISMATCH unless the manifest agrees with the header. */
export function checkManifestAgainstHeader(manifest: Manifest, header: PackageHeader): void {
  if (manifest.packageType !== header.packageType) {
    throw new PackageFormatError(
      'MANIFEST_MISMATCH',
      `manifest packageType ${manifest.packageType} but header says ${header.packageType}`,
    );
  }
  if (header.delta !== (manifest.delta !== undefined)) {
    throw new PackageFormatError(
      'MANIFEST_MISMATCH',
      header.delta
        ? 'delta flag set but manifest has no "delta"'
        : 'manifest has "delta" but the delta flag is clear',
    );
  }
}

function validateManifest(bytes: Buffer, structure: PackageStructure): Manifest {
  const manifest = parseManifest(bytes);
  checkManifestAgainstHeader(manifest, structure.header);
  validateAudioIndex(manifest.audioFileIndex, structure.header.audioLength);
  return manifest;
}

export interface SignatureStatus {
  present: boolean;
  keyId?: string;
  /** True only when checked against a keyring. */
  verified: boolean;
}

export interface VerifyOptions {
  /** keyId -> public key. When given, a valid signature by one of these keys is required. */
  keyring?: Keyring;
  /** Fail with SIGNATURE_MISSING on unsigned packages even without a keyring. */
  requireSignature?: boolean;
  /** Open the database and run integrity_check (default true). */
  checkDatabase?: boolean;
  /** Read size for the hashing pass (default 8 MiB). */
  chunkSize?: number;
  /** Hash on a worker thread too: 'auto' (default) does so from 32 MiB of audio. */
  parallelHashing?: boolean | 'auto';
  /** For the database copy SQLite needs (default os.tmpdir()). */
  tempDir?: string;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface VerifyReport {
  size: number;
  header: PackageHeader;
  layout: PackageLayout;
  manifest: Manifest;
  contentSha256: string;
  signature: SignatureStatus;
}

interface ScanResult {
  contentSha256: string;
  databaseHash: string;
  audioDataHash: string;
  totalContentHash: string;
  /** Present when the audio index was usable. */
  fileHashes?: string[];
}

/**
 * Step 3: a single sequential pass. Every byte is read once; the database section is also
 * written to `databaseCopy` (one write in flight, overlapping the next read and hash). With a
 * worker, this thread hashes content and total while the worker hashes the audio section and
 * each file, so the four hash streams cost about two.
 */
async function scanBody(
  source: ByteSource,
  layout: PackageLayout,
  manifestBytes: Buffer,
  entries: readonly AudioFileEntry[] | undefined,
  databaseCopy: fsp.FileHandle | undefined,
  options: VerifyOptions,
): Promise<ScanResult> {
  const parallel = options.parallelHashing ?? 'auto';
  const pool =
    parallel === true || (parallel === 'auto' && layout.audioLength >= PARALLEL_HASH_THRESHOLD)
      ? HashPool.create()
      : undefined;
  const hashes = new HashGroup(pool);
  try {
    hashes.update('content', manifestBytes);
    let databaseHash = layout.databaseLength === 0 ? hashes.peek('total') : '';
    const fileDigests: Promise<string>[] = [];
    let fileIndex = 0;
    const finishFilesEndingBy = (audioPos: number) => {
      while (entries && fileIndex < entries.length) {
        const e = entries[fileIndex];
        if (e.offset + e.size > audioPos) break;
        const digest = hashes.digest(`file-${fileIndex}`, true);
        digest.catch(() => undefined); // awaited below
        fileDigests.push(digest);
        fileIndex++;
      }
    };
    const feedFiles = (chunk: Buffer, audioPos: number) => {
      let off = 0;
      while (entries && off < chunk.length) {
        finishFilesEndingBy(audioPos + off);
        const e = entries[fileIndex];
        const n = Math.min(chunk.length - off, e.offset + e.size - (audioPos + off));
        hashes.update(`file-${fileIndex}`, chunk.subarray(off, off + n), true);
        off += n;
      }
    };

    let pendingWrite: Promise<unknown> = Promise.resolve();
    let pos = layout.databaseOffset;
    const bytesTotal = layout.bodyEnd - layout.databaseOffset;
    const chunkSize = Math.min(options.chunkSize ?? VERIFY_CHUNK, Math.max(bytesTotal, 1));
    const ring = new ChunkRing(chunkSize, 3, pool ? allocateShared : undefined);
    for await (const chunk of readChunks(source, layout.databaseOffset, layout.bodyEnd, { ring })) {
      const dbPart = Math.max(0, Math.min(chunk.length, layout.audioOffset - pos));
      if (dbPart < chunk.length) {
        // Start the worker first so it runs while this thread hashes.
        const audioPart = chunk.subarray(dbPart);
        hashes.update('audio', audioPart, true);
        feedFiles(audioPart, pos + dbPart - layout.audioOffset);
      }
      hashes.update('content', chunk);
      if (dbPart > 0) {
        const dbSlice = chunk.subarray(0, dbPart);
        hashes.update('total', dbSlice);
        if (databaseCopy) {
          await pendingWrite;
          pendingWrite = writeFully(databaseCopy, dbSlice, pos - layout.databaseOffset);
          pendingWrite.catch(() => undefined);
        }
        // total = SHA-256(db ‖ audio): its state at the boundary is the database hash.
        if (pos + dbPart === layout.audioOffset) databaseHash = hashes.peek('total');
      }
      if (dbPart < chunk.length) hashes.update('total', chunk.subarray(dbPart));
      await hashes.settle();
      pos += chunk.length;
      options.onProgress?.(pos - layout.databaseOffset, bytesTotal);
    }
    await pendingWrite;
    finishFilesEndingBy(layout.audioLength);
    const fileHashes = await Promise.all(fileDigests);
    return {
      contentSha256: await hashes.digest('content'),
      databaseHash,
      audioDataHash: await hashes.digest('audio', true),
      totalContentHash: await hashes.digest('total'),
      fileHashes: entries ? fileHashes : undefined,
    };
  } finally {
    await pool?.close();
  }
}

function expectHash(
  code: 'DATABASE_HASH_MISMATCH' | 'AUDIO_DATA_HASH_MISMATCH' | 'TOTAL_CONTENT_HASH_MISMATCH',
  field: string,
  declared: string,
  actual: string,
): void {
  if (declared !== actual) {
    throw new PackageFormatError(
      code,
      `manifest ${field} ${declared} but the bytes hash to ${actual}`,
    );
  }
}

async function withTempDir<T>(
  parent: string | undefined,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(parent ?? os.tmpdir(), 'bible-verify-'));
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function verifyStructure(
  source: ByteSource,
  structure: PackageStructure,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const { header, layout, trailer, headerBytes } = structure;

  // 2. Signature: cheap, and it authenticates the header before we trust its hash.
  const signature: SignatureStatus = {
    present: trailer !== null,
    keyId: trailer?.keyId,
    verified: false,
  };
  if (options.keyring) {
    checkSignature(headerBytes, trailer, options.keyring);
    signature.verified = true;
  } else if (options.requireSignature && !trailer) {
    throw new PackageFormatError('SIGNATURE_MISSING', 'package is not signed');
  }

  // The manifest is parsed before the scan (it gives the per-file boundaries), but its
  // errors are reported after the content hash, in the spec's order.
  const manifestBytes = await readExact(source, layout.manifestOffset, layout.manifestLength);
  let manifest: Manifest | undefined;
  let manifestError: PackageFormatError | undefined;
  try {
    manifest = validateManifest(manifestBytes, structure);
  } catch (err) {
    if (!(err instanceof PackageFormatError)) throw err;
    manifestError = err;
  }

  const checkDatabase = options.checkDatabase ?? true;
  const run = async (dbPath: string | undefined): Promise<VerifyReport> => {
    let dbFile: fsp.FileHandle | undefined;
    let scan: ScanResult;
    try {
      if (dbPath) dbFile = await fsp.open(dbPath, 'wx');
      scan = await scanBody(
        source,
        layout,
        manifestBytes,
        manifest?.audioFileIndex,
        dbFile,
        options,
      );
    } finally {
      await dbFile?.close();
    }
    if (scan.contentSha256 !== header.contentSha256) {
      throw new PackageFormatError(
        'CONTENT_HASH_MISMATCH',
        `header contentSha256 ${header.contentSha256} but the content hashes to ${scan.contentSha256}`,
      );
    }
    if (manifestError || !manifest) throw manifestError ?? new Error('manifest missing');
    expectHash('DATABASE_HASH_MISMATCH', 'databaseHash', manifest.databaseHash, scan.databaseHash);
    if (manifest.audioDataHash !== undefined) {
      expectHash(
        'AUDIO_DATA_HASH_MISMATCH',
        'audioDataHash',
        manifest.audioDataHash,
        scan.audioDataHash,
      );
    }
    expectHash(
      'TOTAL_CONTENT_HASH_MISMATCH',
      'totalContentHash',
      manifest.totalContentHash,
      scan.totalContentHash,
    );
    manifest.audioFileIndex.forEach((e, i) => {
      const actual = scan.fileHashes?.[i];
      if (actual !== e.sha256) {
        throw new PackageFormatError(
          'AUDIO_FILE_HASH_MISMATCH',
          `audioFileIndex[${i}] (${e.fileName}) sha256 ${e.sha256} but its bytes hash to ${actual}`,
        );
      }
    });
    if (dbPath) {
      checkPackageDatabase(dbPath, { delta: header.delta, expect: manifest });
    }
    return {
      size: structure.size,
      header,
      layout,
      manifest,
      contentSha256: scan.contentSha256,
      signature,
    };
  };
  return checkDatabase
    ? withTempDir(options.tempDir, (dir) => run(path.join(dir, 'package.sqlite')))
    : run(undefined);
}

/** Full verification of a package (see the module comment for the order). */
export async function verifyPackage(
  input: PackageInput,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const { source, owned } = await resolveSource(input);
  try {
    return await verifyStructure(source, await readStructure(source), options);
  } catch (err) {
    throw toPackageError(err, 'verifying package');
  } finally {
    if (owned) await source.close?.();
  }
}

export interface OpenedDatabase {
  db: Database.Database;
  /** Temp copy backing `db`; removed by close(). */
  path: string;
  close(): Promise<void>;
}

/**
 * A package opened for random access. Opening checks the header, the trailer's shape, the
 * manifest (JSON, schema, agreement with the header, audio index) but hashes nothing: call
 * `verify()` for that, or rely on the per-file checks of the extract methods.
 */
export class PackageReader implements PackageStructure {
  private constructor(
    readonly source: ByteSource,
    private readonly owned: boolean,
    private readonly structure: PackageStructure,
    readonly manifest: Manifest,
    /** The manifest exactly as stored. */
    readonly manifestBytes: Buffer,
  ) {}

  static async open(input: PackageInput): Promise<PackageReader> {
    const { source, owned } = await resolveSource(input);
    try {
      const structure = await readStructure(source);
      const bytes = await readExact(
        source,
        structure.layout.manifestOffset,
        structure.layout.manifestLength,
      );
      return new PackageReader(source, owned, structure, validateManifest(bytes, structure), bytes);
    } catch (err) {
      if (owned) await source.close?.();
      throw toPackageError(err, 'opening package');
    }
  }

  get size(): number {
    return this.structure.size;
  }
  get header(): PackageHeader {
    return this.structure.header;
  }
  get headerBytes(): Buffer {
    return this.structure.headerBytes;
  }
  get layout(): PackageLayout {
    return this.structure.layout;
  }
  get trailer(): SignatureTrailer | null {
    return this.structure.trailer;
  }

  /** Offline authenticity check; throws SIGNATURE_MISSING / _UNKNOWN_KEY / _INVALID. */
  checkSignature(keyring: Keyring): { keyId: string } {
    return checkSignature(this.headerBytes, this.trailer, keyring);
  }

  verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return verifyStructure(this.source, this.structure, options).catch((err: unknown) => {
      throw toPackageError(err, 'verifying package');
    });
  }

  /** Looks an audio file up by index or fileName (AUDIO_FILE_NOT_FOUND otherwise). */
  audioEntry(ref: number | string): AudioFileEntry {
    const list = this.manifest.audioFileIndex;
    const entry = typeof ref === 'number' ? list[ref] : list.find((e) => e.fileName === ref);
    if (!entry)
      throw new PackageFormatError('AUDIO_FILE_NOT_FOUND', `no audio file ${JSON.stringify(ref)}`);
    return entry;
  }

  /**
   * One audio file as a stream (1 MiB chunks). Its sha256 is checked as it flows; a mismatch
   * fails the stream with AUDIO_FILE_HASH_MISMATCH at the end, so consumers must discard
   * the output on error (extractAudio does).
   */
  createAudioStream(ref: number | string): Readable {
    const entry = this.audioEntry(ref);
    const start = this.layout.audioOffset + entry.offset;
    const source = this.source;
    async function* gen(): AsyncGenerator<Buffer> {
      const hash = createHash('sha256');
      for (let pos = 0; pos < entry.size; pos += STREAM_CHUNK) {
        const chunk = await readExact(
          source,
          start + pos,
          Math.min(STREAM_CHUNK, entry.size - pos),
        );
        hash.update(chunk);
        yield chunk;
      }
      const actual = hash.digest('hex');
      if (actual !== entry.sha256) {
        throw new PackageFormatError(
          'AUDIO_FILE_HASH_MISMATCH',
          `${entry.fileName}: sha256 ${actual}, manifest says ${entry.sha256}`,
        );
      }
    }
    return Readable.from(gen(), { objectMode: false, highWaterMark: STREAM_CHUNK });
  }

  /** Writes one audio file to `destPath` (atomically) after checking its sha256. */
  async extractAudio(ref: number | string, destPath: string): Promise<AudioFileEntry> {
    const entry = this.audioEntry(ref);
    await this.copySection(this.layout.audioOffset + entry.offset, entry.size, destPath, (hash) => {
      if (hash !== entry.sha256) {
        throw new PackageFormatError(
          'AUDIO_FILE_HASH_MISMATCH',
          `${entry.fileName}: sha256 ${hash}, manifest says ${entry.sha256}`,
        );
      }
    });
    return entry;
  }

  /**
   * Writes the database section to `destPath` (atomically), checking databaseHash and, unless
   * `check` is false, integrity and schema.
   */
  async extractDatabase(destPath: string, options: { check?: boolean } = {}): Promise<void> {
    const { databaseOffset, databaseLength } = this.layout;
    await this.copySection(databaseOffset, databaseLength, destPath, (hash, tmp) => {
      if (hash !== this.manifest.databaseHash) {
        throw new PackageFormatError(
          'DATABASE_HASH_MISMATCH',
          `database sha256 ${hash}, manifest says ${this.manifest.databaseHash}`,
        );
      }
      if (options.check ?? true) {
        checkPackageDatabase(tmp, { delta: this.header.delta, expect: this.manifest });
      }
    });
  }

  /** Copies the database to a temp file (SQLite needs a file) and opens it read-only. */
  async openDatabase(options: { tempDir?: string; check?: boolean } = {}): Promise<OpenedDatabase> {
    const dir = await fsp.mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'bible-db-'));
    const file = path.join(dir, 'package.sqlite');
    try {
      await this.extractDatabase(file, { check: options.check });
      const db = new Database(file, { readonly: true, fileMustExist: true });
      return {
        db,
        path: file,
        close: async () => {
          db.close();
          await fsp.rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw toPackageError(err, 'opening package database');
    }
  }

  /** Streams a byte range to `dest` via a temp name; `accept` may throw to reject the copy. */
  private async copySection(
    start: number,
    length: number,
    dest: string,
    accept: (sha256: string, tmpPath: string) => void,
  ): Promise<string> {
    const tmp = `${dest}.partial`;
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(tmp, 'w');
      const hash = createHash('sha256');
      let at = 0;
      let pending: Promise<unknown> = Promise.resolve();
      for await (const chunk of readChunks(this.source, start, start + length)) {
        hash.update(chunk);
        await pending;
        pending = writeFully(fh, chunk, at);
        pending.catch(() => undefined);
        at += chunk.length;
      }
      await pending;
      await fh.close();
      fh = undefined;
      const digest = hash.digest('hex');
      accept(digest, tmp);
      await fsp.rename(tmp, dest);
      return digest;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw toPackageError(err, `extracting to ${dest}`);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.source.close?.();
  }
}

export function openPackage(input: PackageInput): Promise<PackageReader> {
  return PackageReader.open(input);
}

/** Header, trailer and manifest without hashing anything — what `bible-package inspect` shows. */
export async function inspectPackage(
  input: PackageInput,
): Promise<PackageStructure & { manifest: Manifest }> {
  const reader = await PackageReader.open(input);
  try {
    return {
      size: reader.size,
      header: reader.header,
      headerBytes: reader.headerBytes,
      layout: reader.layout,
      trailer: reader.trailer,
      manifest: reader.manifest,
    };
  } finally {
    await reader.close();
  }
}
