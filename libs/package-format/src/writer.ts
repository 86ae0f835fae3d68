/**
 * Streaming `.bible` writer.
 *
 * The header (first) carries contentSha256 = SHA-256(manifest ‖ database ‖ audio), and the
 * manifest carries hashes and offsets of what follows it, so the output cannot be produced in
 * one pass. Two strategies, both with memory bounded by a few chunk buffers:
 *
 * `preparePackage` / `createPackageStream` (any consumer, e.g. an HTTP response or S3 upload):
 *   pass 0  spool Readable audio sources to temp files (files given by path are read in place);
 *   pass 1  hash the database and each audio file: per-file sha256, audioDataHash,
 *           totalContentHash (databaseHash is a fork of the running total hash);
 *           build the manifest (offsets, sizes, hashes, estimatedSizeMB);
 *   pass 2  contentSha256 over manifest ‖ database ‖ audio; header + CRC; Ed25519 signature;
 *   pass 3  emit header, manifest, database, audio, trailer with backpressure.
 *
 * `writePackageToFile` (seekable output): all sizes are known up front (streams of unknown
 * size are spooled first) and hashes are fixed-width hex, so the manifest's byte length is
 * known before any hash. That allows:
 *   pass A  copy database and audio into the output at their final offsets while hashing;
 *   pass B  contentSha256 over the manifest and the just-written bytes (page cache);
 *           then write manifest, header (at offset 0) and trailer, and rename into place.
 * Both produce byte-identical files for identical inputs.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkPackageDatabase } from './database';
import { HashGroup, HashPool, PARALLEL_HASH_THRESHOLD, allocateShared } from './hash-pool';
import { PackageFormatError, errorMessage, toPackageError } from './errors';
import {
  HEADER_LENGTH,
  PackageFlags,
  encodeHeader,
  packageTypeHasAudio,
  type PackageHeader,
  decodeHeader,
} from './header';
import {
  serializeManifest,
  type AudioFileEntry,
  type AudioFileEntryInput,
  type Manifest,
  type ManifestInput,
} from './manifest';
import { loadPrivateKey, signHeader, type SigningKey } from './signing';
import { ChunkRing, FileSource, readChunks, writeFully } from './sources';
import { assertValidKeyId, encodeTrailer, trailerLength } from './trailer';

export interface AudioSource {
  /** The file's index entry without offset, size and sha256 (the writer computes those). */
  entry: AudioFileEntryInput;
  /** A file path (read in place) or a Readable (consumed exactly once). */
  source: string | Readable;
  /**
   * With a path: the file's bytes start here and run for `size` bytes (required then), so a
   * file inside another file — e.g. an audio file of a package — is read in place.
   */
  offset?: number;
  /** Size in bytes if known; checked against the actual bytes. Lets `writePackageToFile` skip spooling a stream. */
  size?: number;
  /**
   * The file's hex SHA-256 when the caller has just computed it from these very bytes (e.g. while
   * downloading and checking it): the writer then takes it as the index entry's sha256 instead of
   * hashing the file once more. A wrong value yields a package that fails verification.
   */
  sha256?: string;
}

export type WritePhase = 'spool' | 'hash' | 'content-hash' | 'write';

export interface WriteProgress {
  phase: WritePhase;
  bytesDone: number;
  bytesTotal: number;
}

export interface PackageWriteInput {
  /** Every manifest field except the computed ones (hashes, index, sizes, totalFiles). */
  manifest: ManifestInput;
  /** A finalized package database (see `createPackageDatabase`). */
  databasePath: string;
  /** Audio files in audioFileIndex order. */
  audio?: readonly AudioSource[];
  /** Sign the header with Ed25519 and append the trailer. */
  signingKey?: SigningKey;
  /** Where spooled streams go (default os.tmpdir()). Always cleaned up. */
  tempDir?: string;
  /** Read/write chunk size for the hashing passes (default 1 MiB). */
  chunkSize?: number;
  /**
   * Hash on a worker thread as well as this one: 'auto' (default) does so when there are at
   * least 32 MiB of audio.
   */
  parallelHashing?: boolean | 'auto';
  onProgress?: (progress: WriteProgress) => void;
}

export interface PackageInfo {
  header: PackageHeader;
  headerBytes: Buffer;
  manifest: Manifest;
  /** Total file size in bytes (for Content-Length). */
  size: number;
  /** Hex contentSha256 — the download's strong ETag. */
  contentSha256: string;
}

export interface PreparedPackage extends PackageInfo {
  /** The package bytes; may be called once. Temp files are removed when it ends or is destroyed. */
  createReadStream(): Readable;
  /**
   * Random access to the package bytes: fills `target` from `position` (up to the end of the
   * package) and resolves with the bytes read. Concurrent calls are allowed, so a multipart
   * upload can read its parts into reused buffers. Call `dispose()` when done.
   */
  readInto(target: Buffer, position: number): Promise<number>;
  /** Removes temp files and closes files opened by `readInto`. Idempotent. */
  dispose(): Promise<void>;
}

export interface WrittenPackage extends PackageInfo {
  path: string;
}

const MIB = 1024 * 1024;
const EMIT_CHUNK = MIB;
/**
 * Each chunk is read, hashed up to three times (two threads) and written; 1 MiB keeps that
 * working set cache-resident; it was faster than 4 MiB in our (noisy, shared 2-core) runs.
 */
const WRITE_CHUNK_SIZE = MIB;
const PLACEHOLDER_HASH = '0'.repeat(64);

interface ResolvedAudio {
  entry: AudioFileEntryInput;
  size: number;
  sha256?: string;
  path?: string;
  offset?: number;
  stream?: Readable;
}

interface Hashes {
  databaseHash: string;
  audioDataHash?: string;
  totalContentHash: string;
  fileHashes: string[];
}

class TempDir {
  private dir: string | undefined;
  constructor(private readonly parent: string | undefined) {}
  async file(name: string): Promise<string> {
    this.dir ??= await fsp.mkdtemp(path.join(this.parent ?? os.tmpdir(), 'bible-pkg-'));
    return path.join(this.dir, name);
  }
  async remove(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  }
}

function invalid(message: string): PackageFormatError {
  return new PackageFormatError('INVALID_INPUT', message);
}

/** Whatever a caller's stream throws is an I/O failure from the writer's point of view. */
function sourceError(err: unknown, context: string): PackageFormatError {
  if (err instanceof PackageFormatError) return err;
  return new PackageFormatError('IO_ERROR', `${context}: ${errorMessage(err)}`, { cause: err });
}

/** Cheap checks before any heavy I/O, so bad input fails in milliseconds. */
function validateInput(input: PackageWriteInput): void {
  const audio = input.audio ?? [];
  if (!packageTypeHasAudio(input.manifest.packageType) && audio.length > 0) {
    throw invalid(`packageType ${input.manifest.packageType} carries no audio`);
  }
  const names = new Set<string>();
  for (const a of audio) {
    if (names.has(a.entry.fileName))
      throw invalid(`duplicate audio fileName "${a.entry.fileName}"`);
    names.add(a.entry.fileName);
    if (a.size !== undefined && (!Number.isSafeInteger(a.size) || a.size < 0)) {
      throw invalid(`invalid size for ${a.entry.fileName}`);
    }
    if (a.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(a.sha256)) {
      throw invalid(`sha256 of ${a.entry.fileName} must be 64 lowercase hex digits`);
    }
  }
  if (input.signingKey) {
    assertValidKeyId(input.signingKey.keyId);
    loadPrivateKey(input.signingKey.privateKey);
  }
}

async function statFile(file: string): Promise<number> {
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw invalid(`${file} is not a regular file`);
    return st.size;
  } catch (err) {
    throw toPackageError(err, `stat ${file}`);
  }
}

function checkDatabaseInput(input: PackageWriteInput): void {
  try {
    checkPackageDatabase(input.databasePath, {
      integrity: false,
      delta: input.manifest.delta !== undefined,
      expect: input.manifest,
    });
  } catch (err) {
    if (err instanceof PackageFormatError && err.code !== 'IO_ERROR') {
      throw invalid(`database ${input.databasePath}: ${err.message}`);
    }
    throw toPackageError(err, `database ${input.databasePath}`);
  }
}

/** Writes a stream to a temp file with backpressure and returns its size. */
async function spool(stream: Readable, file: string): Promise<number> {
  await pipeline(stream, fs.createWriteStream(file, { highWaterMark: MIB }));
  return statFile(file);
}

/**
 * Resolves every audio source to a known size. Streams are spooled unless `keepSizedStreams`
 * and the caller declared their size (then they are consumed once, directly into the output).
 */
async function resolveAudio(
  input: PackageWriteInput,
  temp: TempDir,
  keepSizedStreams: boolean,
): Promise<ResolvedAudio[]> {
  const out: ResolvedAudio[] = [];
  let i = 0;
  for (const a of input.audio ?? []) {
    const idx = i++;
    if (typeof a.source === 'string' && a.offset !== undefined) {
      const fileSize = await statFile(a.source);
      if (
        !Number.isSafeInteger(a.offset) ||
        a.offset < 0 ||
        a.size === undefined ||
        a.offset + a.size > fileSize
      ) {
        throw invalid(
          `${a.entry.fileName}: offset ${a.offset} and size ${a.size} exceed ${a.source}`,
        );
      }
      out.push({
        entry: a.entry,
        size: a.size,
        path: a.source,
        offset: a.offset,
        sha256: a.sha256,
      });
    } else if (typeof a.source === 'string') {
      const size = await statFile(a.source);
      if (a.size !== undefined && a.size !== size) {
        throw invalid(`${a.entry.fileName}: declared size ${a.size}, file has ${size} bytes`);
      }
      out.push({ entry: a.entry, size, path: a.source, sha256: a.sha256 });
    } else if (keepSizedStreams && a.size !== undefined) {
      out.push({ entry: a.entry, size: a.size, stream: a.source, sha256: a.sha256 });
    } else {
      const file = await temp.file(`audio-${idx}`);
      let size: number;
      try {
        size = await spool(a.source, file);
      } catch (err) {
        throw sourceError(err, `reading audio source ${a.entry.fileName}`);
      }
      if (a.size !== undefined && a.size !== size) {
        throw invalid(`${a.entry.fileName}: declared size ${a.size}, stream gave ${size} bytes`);
      }
      input.onProgress?.({
        phase: 'spool',
        bytesDone: idx + 1,
        bytesTotal: input.audio?.length ?? 0,
      });
      out.push({ entry: a.entry, size, path: file, sha256: a.sha256 });
    }
  }
  return out;
}

function roundMB(bytes: number): number {
  return Math.round((bytes / MIB) * 100) / 100;
}

/**
 * Builds the manifest and its bytes. estimatedSizeMB describes the whole file, whose size
 * depends on the manifest's own length, so iterate to a fixed point (normally 2 rounds). In the
 * rare case where the digit count flips back and forth, keep the larger estimate (off by 0.01).
 */
function buildManifest(
  input: ManifestInput,
  audio: readonly ResolvedAudio[],
  hashes: Hashes,
  sizeWithoutManifest: number,
): { manifest: Manifest; bytes: Buffer } {
  let offset = 0;
  const audioFileIndex: AudioFileEntry[] = audio.map((a, i) => {
    const entry: AudioFileEntry = {
      ...a.entry,
      offset,
      size: a.size,
      sha256: hashes.fileHashes[i],
    };
    offset += a.size;
    return entry;
  });
  const make = (estimatedSizeMB: number): Manifest => ({
    ...input,
    formatVersion: 1,
    estimatedSizeMB,
    totalFiles: audioFileIndex.length,
    audioFileIndex,
    databaseHash: hashes.databaseHash,
    audioDataHash: hashes.audioDataHash,
    totalContentHash: hashes.totalContentHash,
  });
  const seen = new Set<number>();
  let estimate = roundMB(sizeWithoutManifest);
  for (;;) {
    const manifest = make(estimate);
    const bytes = serializeManifest(manifest);
    const next = roundMB(sizeWithoutManifest + bytes.length);
    if (next === estimate) return { manifest, bytes };
    if (seen.has(next)) {
      const fallback = make(Math.max(next, estimate));
      return { manifest: fallback, bytes: serializeManifest(fallback) };
    }
    seen.add(estimate);
    estimate = next;
  }
}

function placeholderHashes(input: PackageWriteInput, audio: readonly ResolvedAudio[]): Hashes {
  return {
    databaseHash: PLACEHOLDER_HASH,
    audioDataHash: packageTypeHasAudio(input.manifest.packageType) ? PLACEHOLDER_HASH : undefined,
    totalContentHash: PLACEHOLDER_HASH,
    fileHashes: audio.map(() => PLACEHOLDER_HASH),
  };
}

function packageFlags(input: PackageWriteInput): number {
  return (
    (input.signingKey ? PackageFlags.Signed : 0) |
    (input.manifest.delta !== undefined ? PackageFlags.Delta : 0)
  );
}

function finishHeader(
  input: PackageWriteInput,
  manifestBytes: Buffer,
  databaseLength: number,
  audioLength: number,
  contentSha256: Buffer,
): { headerBytes: Buffer; trailer: Buffer | undefined } {
  const headerBytes = encodeHeader({
    packageType: input.manifest.packageType,
    manifestLength: manifestBytes.length,
    databaseLength,
    audioLength,
    contentSha256,
    flags: packageFlags(input),
  });
  const key = input.signingKey;
  const trailer = key
    ? encodeTrailer(key.keyId, signHeader(headerBytes, key.privateKey))
    : undefined;
  return { headerBytes, trailer };
}

/** Feeds chunks of one file/stream to a callback; all reads are bounded-size. */
async function forEachChunk(
  item: { path?: string; offset?: number; stream?: Readable; size: number },
  ring: ChunkRing,
  fn: (chunk: Buffer) => Promise<void> | void,
): Promise<void> {
  if (item.path !== undefined) {
    const src = await FileSource.open(item.path);
    const start = item.offset ?? 0;
    try {
      if (item.offset === undefined ? src.size !== item.size : src.size < start + item.size) {
        throw invalid(`${item.path} changed size while writing (${item.size} -> ${src.size})`);
      }
      for await (const chunk of readChunks(src, start, start + item.size, { ring }))
        await fn(chunk);
    } finally {
      await src.close();
    }
    return;
  }
  if (!item.stream) throw new Error('audio source has neither path nor stream');
  for await (const chunk of rechunk(item.stream, item.size, ring)) await fn(chunk);
}

/**
 * Regroups a stream's chunks into large buffers (same 3-buffer validity contract as
 * readChunks) and enforces the declared size.
 */
async function* rechunk(
  stream: Readable,
  expected: number,
  ring: ChunkRing,
): AsyncGenerator<Buffer> {
  let buf = ring.next();
  let fill = 0;
  let total = 0;
  try {
    for await (const piece of stream as AsyncIterable<Buffer | string>) {
      let data = typeof piece === 'string' ? Buffer.from(piece) : piece;
      total += data.length;
      if (total > expected) {
        throw invalid(`audio stream is longer than its declared ${expected} bytes`);
      }
      while (data.length > 0) {
        const n = Math.min(buf.length - fill, data.length);
        data.copy(buf, fill, 0, n);
        fill += n;
        data = data.subarray(n);
        if (fill === buf.length) {
          yield buf;
          buf = ring.next();
          fill = 0;
        }
      }
    }
  } catch (err) {
    throw sourceError(err, 'reading audio stream');
  }
  if (total !== expected) {
    throw invalid(`audio stream gave ${total} bytes, declared ${expected}`);
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

/** No bigger than the largest section, so tiny packages do not allocate full-size buffers. */
function ringChunkSize(input: PackageWriteInput, sizes: number[]): number {
  return Math.max(1, Math.min(input.chunkSize ?? WRITE_CHUNK_SIZE, Math.max(...sizes)));
}

function usePool(input: PackageWriteInput, bytes: number): HashPool | undefined {
  const mode = input.parallelHashing ?? 'auto';
  return mode === true || (mode === 'auto' && bytes >= PARALLEL_HASH_THRESHOLD)
    ? HashPool.create()
    : undefined;
}

/**
 * Pass 1 of the stream strategy (and pass A of the file strategy when `sink` is given):
 * hashes the database then each audio file in order, optionally handing every chunk to `sink`.
 * With a worker, this thread keeps totalContentHash and even-numbered files' hashes and the
 * worker takes audioDataHash and odd-numbered files, which balances the three hash streams.
 */
async function hashSections(
  input: PackageWriteInput,
  databaseSize: number,
  audio: readonly ResolvedAudio[],
  sink?: (chunk: Buffer) => Promise<void>,
): Promise<Hashes> {
  const audioLength = audio.reduce((n, a) => n + a.size, 0);
  const bytesTotal = databaseSize + audioLength;
  const pool = usePool(input, audioLength);
  const hashes = new HashGroup(pool);
  const ring = new ChunkRing(
    ringChunkSize(input, [databaseSize, ...audio.map((a) => a.size)]),
    3,
    pool ? allocateShared : undefined,
  );
  let bytesDone = 0;
  const done = async (c: Buffer) => {
    if (sink) await sink(c);
    await hashes.settle();
    bytesDone += c.length;
    input.onProgress?.({ phase: sink ? 'write' : 'hash', bytesDone, bytesTotal });
  };
  try {
    await forEachChunk({ path: input.databasePath, size: databaseSize }, ring, async (c) => {
      hashes.update('total', c);
      await done(c);
    });
    // total = SHA-256(db ‖ audio): its state at the section boundary is the database hash.
    const databaseHash = hashes.peek('total');
    const fileHashes: string[] = [];
    for (const [i, a] of audio.entries()) {
      const remoteFile = i % 2 === 1;
      const known = a.sha256;
      await forEachChunk(a, ring, async (c) => {
        hashes.update('audio', c, true);
        if (known === undefined) hashes.update(`file-${i}`, c, remoteFile);
        hashes.update('total', c);
        await done(c);
      });
      fileHashes.push(known ?? (await hashes.digest(`file-${i}`, remoteFile)));
    }
    const audioDataHash = await hashes.digest('audio', true);
    return {
      databaseHash,
      audioDataHash: packageTypeHasAudio(input.manifest.packageType) ? audioDataHash : undefined,
      totalContentHash: await hashes.digest('total'),
      fileHashes,
    };
  } finally {
    await pool?.close();
  }
}

async function prepareInternal(input: PackageWriteInput, temp: TempDir) {
  validateInput(input);
  checkDatabaseInput(input);
  const databaseSize = await statFile(input.databasePath);
  const audio = await resolveAudio(input, temp, false);
  const audioLength = audio.reduce((n, a) => n + a.size, 0);
  const trailerLen = input.signingKey ? trailerLength(input.signingKey.keyId) : 0;
  const fixed = HEADER_LENGTH + databaseSize + audioLength + trailerLen;
  // Validates the manifest fields before the expensive passes.
  buildManifest(input.manifest, audio, placeholderHashes(input, audio), fixed);

  const hashes = await hashSections(input, databaseSize, audio);
  const { manifest, bytes: manifestBytes } = buildManifest(input.manifest, audio, hashes, fixed);

  const content = createHash('sha256').update(manifestBytes);
  let bytesDone = 0;
  const bytesTotal = databaseSize + audioLength;
  const feed = (c: Buffer) => {
    content.update(c);
    bytesDone += c.length;
    input.onProgress?.({ phase: 'content-hash', bytesDone, bytesTotal });
  };
  const ring = new ChunkRing(ringChunkSize(input, [databaseSize, ...audio.map((a) => a.size)]));
  await forEachChunk({ path: input.databasePath, size: databaseSize }, ring, feed);
  for (const a of audio) await forEachChunk(a, ring, feed);
  const contentSha256 = content.digest();

  const { headerBytes, trailer } = finishHeader(
    input,
    manifestBytes,
    databaseSize,
    audioLength,
    contentSha256,
  );
  const size = fixed + manifestBytes.length;
  return { databaseSize, audio, manifest, manifestBytes, headerBytes, trailer, size };
}

/**
 * Runs the hashing passes and returns the package's header and manifest plus a factory for
 * its bytes, so an HTTP handler can send Content-Length and ETag before the body.
 */
export async function preparePackage(input: PackageWriteInput): Promise<PreparedPackage> {
  const temp = new TempDir(input.tempDir);
  let prepared: Awaited<ReturnType<typeof prepareInternal>>;
  try {
    prepared = await prepareInternal(input, temp);
  } catch (err) {
    await temp.remove();
    throw toPackageError(err, 'writing package');
  }
  const p = prepared;
  let used = false;
  const header = decodeHeader(p.headerBytes);

  async function* emit(): AsyncGenerator<Buffer> {
    try {
      yield p.headerBytes;
      yield p.manifestBytes;
      const sections: { path?: string; offset?: number; size: number }[] = [
        { path: input.databasePath, size: p.databaseSize },
        ...p.audio,
      ];
      for (const s of sections) {
        if (s.path === undefined) throw new Error('unspooled audio source');
        const src = await FileSource.open(s.path);
        const start = s.offset ?? 0;
        try {
          if (s.offset === undefined ? src.size !== s.size : src.size < start + s.size) {
            throw invalid(`${s.path} changed size while writing`);
          }
          // Fresh buffers: a consumer may hold on to emitted chunks.
          for (let pos = 0; pos < s.size; pos += EMIT_CHUNK) {
            yield await src.read(start + pos, Math.min(EMIT_CHUNK, s.size - pos));
          }
        } finally {
          await src.close();
        }
      }
      if (p.trailer) yield p.trailer;
    } finally {
      await temp.remove();
    }
  }

  // The package as consecutive sections, for readInto.
  const sections: {
    start: number;
    size: number;
    bytes?: Buffer;
    path?: string;
    offset?: number;
  }[] = [];
  const addSection = (section: {
    size: number;
    bytes?: Buffer;
    path?: string;
    offset?: number;
  }) => {
    const last = sections.at(-1);
    sections.push({ ...section, start: last ? last.start + last.size : 0 });
  };
  addSection({ size: p.headerBytes.length, bytes: p.headerBytes });
  addSection({ size: p.manifestBytes.length, bytes: p.manifestBytes });
  addSection({ size: p.databaseSize, path: input.databasePath });
  for (const a of p.audio) {
    if (a.size > 0) addSection({ size: a.size, path: a.path, offset: a.offset });
  }
  if (p.trailer) addSection({ size: p.trailer.length, bytes: p.trailer });
  const open = new Map<string, Promise<FileSource>>();
  let disposed = false;
  const sectionAt = (position: number): number => {
    let lo = 0;
    let hi = sections.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sections[mid].start <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const readInto = async (target: Buffer, position: number): Promise<number> => {
    if (disposed) throw new Error('readInto() after dispose()');
    if (!Number.isSafeInteger(position) || position < 0 || position > p.size) {
      throw new RangeError(`position ${position} is outside the ${p.size}-byte package`);
    }
    let done = 0;
    const wanted = Math.min(target.length, p.size - position);
    for (let i = sectionAt(position); done < wanted; i++) {
      const s = sections[i];
      const from = position + done - s.start;
      const n = Math.min(s.size - from, wanted - done);
      if (s.bytes) {
        s.bytes.copy(target, done, from, from + n);
      } else {
        const file = s.path as string;
        if (!open.has(file)) open.set(file, FileSource.open(file));
        const src = await (open.get(file) as Promise<FileSource>);
        const start = s.offset ?? 0;
        if (s.offset === undefined ? src.size !== s.size : src.size < start + s.size) {
          throw invalid(`${file} changed size while writing`);
        }
        await src.readInto(target.subarray(done, done + n), start + from, n);
      }
      done += n;
    }
    return done;
  };
  const dispose = async (): Promise<void> => {
    disposed = true;
    const files = [...open.values()];
    open.clear();
    await Promise.allSettled(files.map(async (f) => (await f).close()));
    await temp.remove();
  };

  return {
    header,
    headerBytes: p.headerBytes,
    manifest: p.manifest,
    size: p.size,
    contentSha256: header.contentSha256,
    createReadStream(): Readable {
      if (used) throw new Error('createReadStream() may be called once');
      used = true;
      return Readable.from(emit(), { objectMode: false, highWaterMark: EMIT_CHUNK });
    },
    readInto,
    dispose,
  };
}

/** The whole package as a Readable (errors surface as stream errors). */
export function createPackageStream(input: PackageWriteInput): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    const prepared = await preparePackage(input);
    const stream = prepared.createReadStream();
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    } finally {
      stream.destroy();
      await prepared.dispose();
    }
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: EMIT_CHUNK });
}

export interface WriteToFileOptions {
  /** fsync before the final rename (default false). */
  fsync?: boolean;
}

/**
 * Writes the package to `outPath` atomically (temp name in the same directory, then rename)
 * using the two-pass file strategy described at the top of this module.
 */
export async function writePackageToFile(
  input: PackageWriteInput,
  outPath: string,
  options: WriteToFileOptions = {},
): Promise<WrittenPackage> {
  const temp = new TempDir(input.tempDir);
  const partial = `${outPath}.${randomBytes(6).toString('hex')}.partial`;
  let fh: fsp.FileHandle | undefined;
  try {
    validateInput(input);
    checkDatabaseInput(input);
    const databaseSize = await statFile(input.databasePath);
    const audio = await resolveAudio(input, temp, true);
    const audioLength = audio.reduce((n, a) => n + a.size, 0);
    const trailerLen = input.signingKey ? trailerLength(input.signingKey.keyId) : 0;
    const fixed = HEADER_LENGTH + databaseSize + audioLength + trailerLen;

    // Hashes are fixed-width hex, so placeholders give the final manifest length.
    const placeholders = placeholderHashes(input, audio);
    const manifestLength = buildManifest(input.manifest, audio, placeholders, fixed).bytes.length;
    const bodyStart = HEADER_LENGTH + manifestLength;

    fh = await fsp.open(partial, 'wx+');
    const out = fh;
    // Pass A: copy sections to their final offsets; one write stays in flight while the next
    // chunk is read and hashed (the chunk ring guarantees its buffer is not reused meanwhile).
    let position = bodyStart;
    let inFlight: Promise<void> = Promise.resolve();
    const hashes = await hashSections(input, databaseSize, audio, async (chunk) => {
      await inFlight;
      inFlight = writeFully(out, chunk, position);
      // Mark handled now; the rejection is still observed by the next `await inFlight`.
      inFlight.catch(() => undefined);
      position += chunk.length;
    });
    await inFlight;

    const { manifest, bytes: manifestBytes } = buildManifest(input.manifest, audio, hashes, fixed);
    if (manifestBytes.length !== manifestLength) {
      throw new Error(`manifest length changed (${manifestLength} -> ${manifestBytes.length})`);
    }

    // Pass B: contentSha256 over manifest and the bytes just written.
    const content = createHash('sha256').update(manifestBytes);
    const written = FileSource.fromHandle(out, position, partial);
    const chunkSize = input.chunkSize ?? WRITE_CHUNK_SIZE;
    let bytesDone = 0;
    for await (const chunk of readChunks(written, bodyStart, position, { chunkSize })) {
      content.update(chunk);
      bytesDone += chunk.length;
      input.onProgress?.({ phase: 'content-hash', bytesDone, bytesTotal: position - bodyStart });
    }
    const { headerBytes, trailer } = finishHeader(
      input,
      manifestBytes,
      databaseSize,
      audioLength,
      content.digest(),
    );
    await writeFully(out, headerBytes, 0);
    await writeFully(out, manifestBytes, HEADER_LENGTH);
    if (trailer) await writeFully(out, trailer, position);
    if (options.fsync) await out.sync();
    await out.close();
    fh = undefined;
    await fsp.rename(partial, outPath);
    const header = decodeHeader(headerBytes);
    return {
      path: outPath,
      header,
      headerBytes,
      manifest,
      size: fixed + manifestLength,
      contentSha256: header.contentSha256,
    };
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(partial, { force: true }).catch(() => undefined);
    throw toPackageError(err, `writing ${outPath}`);
  } finally {
    await temp.remove();
  }
}

/** Convenience: full package bytes in memory. For tests and tiny packages only. */
export async function writePackageToBuffer(input: PackageWriteInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createPackageStream(input) as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
