/**
 * Delta packages: building one from two package databases, applying one to its base, and
 * comparing two packages row by row and file by file.
 *
 * A delta's database holds the rows of the target that differ from the base (whole rows,
 * compared with SQL `EXCEPT`) and `package_deletions` for the base rows the target lacks; its
 * audio section holds only files whose bytes the base does not have (matched by sha256). The
 * manifest's `delta` names the base (id, revision, header contentSha256, databaseHash) and
 * carries the id and complete audio index of the full package it produces, so applying needs
 * nothing but the two files, and every byte taken from the base is checked against a hash
 * the delta's signature covers.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { REQUIRED_METADATA_KEYS } from './database';
import { PackageFormatError, errorMessage, toPackageError } from './errors';
import {
  validateAudioIndex,
  type AudioFileEntry,
  type AudioFileEntryInput,
  type DeltaInfo,
  type Manifest,
  type ManifestInput,
} from './manifest';
import { openPackage, type PackageReader } from './reader';
import {
  PACKAGE_TABLE_COLUMNS,
  PACKAGE_TABLE_NAMES,
  createPackageDatabase,
  finalizePackageDatabase,
  type PackageTableName,
} from './schema-sql';
import { loadPublicKey, type Keyring, type PublicKeyInput, type SigningKey } from './signing';
import { writePackageToFile, type AudioSource, type WriteProgress } from './writer';

type SqliteDatabase = Database.Database;
type ContentTable = (typeof PACKAGE_TABLE_NAMES)[number];

/** Keys that name the package file rather than its content; `diff` ignores them unless strict. */
const VOLATILE_METADATA_KEYS = ['createdAt', 'createdBy'] as const;

function keyColumn(table: PackageTableName): string {
  return table === 'package_metadata' ? 'key' : 'id';
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
}

function attach(db: SqliteDatabase, file: string, alias: string): void {
  db.prepare(`ATTACH DATABASE ? AS ${alias}`).run(file);
}

export interface DeltaDatabaseInput {
  /** The base package's database (a full package). */
  baseDatabasePath: string;
  /** The full database at the target revision. */
  targetDatabasePath: string;
  outputPath: string;
  /** package_metadata of the delta itself: its own packageId and createdAt. */
  metadata: { packageId: string; createdAt: string };
}

export interface DeltaDatabaseResult {
  /** Rows inserted or changed since the base, over all tables (metadata included). */
  upserts: number;
  /** Rows of the base that the target no longer has. */
  deletions: number;
}

/**
 * Writes a delta database: every target row that is not identical in the base, and a
 * `package_deletions` entry for every base row whose key the target lacks. Metadata is
 * treated like any table (so contentRevision and syncCursor come from the target), except
 * that packageId and createdAt are the delta's own.
 */
export function writeDeltaDatabase(input: DeltaDatabaseInput): DeltaDatabaseResult {
  const db = createPackageDatabase(input.outputPath, { delta: true, overwrite: true });
  let upserts = 0;
  let deletions = 0;
  try {
    attach(db, input.baseDatabasePath, 'b');
    attach(db, input.targetDatabasePath, 't');
    db.transaction(() => {
      for (const table of PACKAGE_TABLE_NAMES) {
        const cols = (PACKAGE_TABLE_COLUMNS[table] as readonly string[]).join(', ');
        const key = keyColumn(table);
        upserts += db
          .prepare(
            `INSERT INTO main.${table} (${cols})
               SELECT ${cols} FROM t.${table} EXCEPT SELECT ${cols} FROM b.${table}`,
          )
          .run().changes;
        deletions += db
          .prepare(
            `INSERT INTO main.package_deletions (table_name, record_id)
               SELECT '${table}', ${key} FROM b.${table}
                WHERE ${key} NOT IN (SELECT ${key} FROM t.${table})`,
          )
          .run().changes;
      }
      // A package database always states these, changed or not.
      db.exec(
        `INSERT OR REPLACE INTO main.package_metadata (key, value)
           SELECT key, value FROM t.package_metadata WHERE key IN (${quoteList(REQUIRED_METADATA_KEYS)})`,
      );
      const own = db.prepare(
        'INSERT OR REPLACE INTO main.package_metadata (key, value) VALUES (?, ?)',
      );
      own.run('packageId', input.metadata.packageId);
      own.run('createdAt', input.metadata.createdAt);
    })();
    db.exec('DETACH DATABASE b');
    db.exec('DETACH DATABASE t');
    finalizePackageDatabase(db);
  } catch (err) {
    if (db.open) db.close();
    throw err instanceof PackageFormatError
      ? err
      : new PackageFormatError('INVALID_INPUT', `writing delta database: ${errorMessage(err)}`, {
          cause: err,
        });
  }
  return { upserts, deletions };
}

/**
 * SHA-256 of a package database's rows: every table in spec order, rows by primary key, each
 * row's values as JSON, leaving out the metadata that names the file rather than the content
 * (createdAt, createdBy). Two packages with equal rows have equal hashes whatever their bytes —
 * e.g. a package applied from a delta and the server's full build of the same revision — so a
 * delta can name its base by content (`baseRowsHash`).
 */
export function packageRowsHash(databasePath: string): string {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    for (const table of PACKAGE_TABLE_NAMES) {
      const cols = (PACKAGE_TABLE_COLUMNS[table] as readonly string[]).join(', ');
      const key = keyColumn(table);
      const skip =
        table === 'package_metadata'
          ? `WHERE key NOT IN (${quoteList(VOLATILE_METADATA_KEYS)})`
          : '';
      const rows = db.prepare(`SELECT ${cols} FROM ${table} ${skip} ORDER BY ${key}`).raw();
      for (const row of rows.iterate()) hash.update(`${JSON.stringify([table, row])}\n`);
    }
    return hash.digest('hex');
  } catch (err) {
    throw new PackageFormatError('DATABASE_UNREADABLE', `hashing rows: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    db.close();
  }
}

/** Manifest fields of a full package that the writer computes. */
function manifestInputOf(manifest: Manifest): ManifestInput {
  const input: Partial<Manifest> = { ...manifest };
  delete input.formatVersion;
  delete input.estimatedSizeMB;
  delete input.totalFiles;
  delete input.audioFileIndex;
  delete input.databaseHash;
  delete input.audioDataHash;
  delete input.totalContentHash;
  delete input.delta;
  return input as ManifestInput;
}

function entryInput(entry: AudioFileEntry): AudioFileEntryInput {
  const e: Partial<AudioFileEntry> = { ...entry };
  delete e.offset;
  delete e.size;
  delete e.sha256;
  return e as AudioFileEntryInput;
}

async function withTempDir<T>(parent: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(parent, 'bible-delta-'));
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

export interface CreateDeltaOptions {
  /** The full package the client holds. */
  basePath: string;
  /** The full package at the new revision. */
  targetPath: string;
  outputPath: string;
  /** The delta's own packageId (default `<target>-from-<base revision>`, cut to 128). */
  packageId?: string;
  createdAt?: string;
  signingKey?: SigningKey;
  tempDir?: string;
  onProgress?: (progress: WriteProgress) => void;
}

export interface DeltaSummary {
  path: string;
  packageId: string;
  size: number;
  contentSha256: string;
  upserts: number;
  deletions: number;
  /** Audio files carried in the delta / taken from the base when applying. */
  deltaFiles: number;
  reusedFiles: number;
}

/** The default delta id: the target's id plus the base revision, kept within 128 characters. */
export function deltaPackageId(targetPackageId: string, baseRevision: string): string {
  const suffix = `-from-${baseRevision.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 60);
  return `${targetPackageId.slice(0, 128 - suffix.length)}${suffix}`;
}

/** The `delta` manifest field for a delta from `base` to a full package `target`. */
export function deltaInfoFor(
  base: { manifest: Manifest; contentSha256: string },
  target: { packageId: string; audioFileIndex: readonly AudioFileEntry[] },
): DeltaInfo {
  return {
    basePackageId: base.manifest.packageId,
    baseRevision: base.manifest.contentRevision,
    baseContentSha256: base.contentSha256,
    baseDatabaseHash: base.manifest.databaseHash,
    targetPackageId: target.packageId,
    targetAudioFileIndex: [...target.audioFileIndex],
  };
}

/**
 * Builds a delta from two full package files (both are opened, not fully verified: verify
 * them first if they come from elsewhere). The server builds deltas from its database
 * instead; this is for tools, tests and benchmarks.
 */
export async function createDeltaPackage(o: CreateDeltaOptions): Promise<DeltaSummary> {
  const base = await openPackage(o.basePath);
  try {
    const target = await openPackage(o.targetPath);
    try {
      for (const [name, r] of [
        ['base', base],
        ['target', target],
      ] as const) {
        if (r.manifest.delta) {
          throw new PackageFormatError('DELTA_INVALID', `the ${name} is itself a delta package`);
        }
      }
      return await withTempDir(o.tempDir ?? os.tmpdir(), async (dir) => {
        const baseDb = path.join(dir, 'base.sqlite');
        const targetDb = path.join(dir, 'target.sqlite');
        const deltaDb = path.join(dir, 'delta.sqlite');
        // Checked against each databaseHash; SQLite's own checks run on the delta at the end.
        await base.extractDatabase(baseDb, { check: false });
        await target.extractDatabase(targetDb, { check: false });
        const packageId =
          o.packageId ?? deltaPackageId(target.manifest.packageId, base.manifest.contentRevision);
        const createdAt = o.createdAt ?? new Date().toISOString();
        const baseRowsHash = packageRowsHash(baseDb);
        const rows = writeDeltaDatabase({
          baseDatabasePath: baseDb,
          targetDatabasePath: targetDb,
          outputPath: deltaDb,
          metadata: { packageId, createdAt },
        });
        const have = new Set(base.manifest.audioFileIndex.map((e) => e.sha256));
        const carried = new Set<string>();
        const audio: AudioSource[] = [];
        for (const e of target.manifest.audioFileIndex) {
          if (have.has(e.sha256) || carried.has(e.sha256)) continue;
          carried.add(e.sha256);
          audio.push({
            entry: entryInput(e),
            source: o.targetPath,
            offset: target.layout.audioOffset + e.offset,
            size: e.size,
          });
        }
        const written = await writePackageToFile(
          {
            manifest: {
              ...manifestInputOf(target.manifest),
              packageId,
              createdAt,
              delta: {
                ...deltaInfoFor(
                  { manifest: base.manifest, contentSha256: base.header.contentSha256 },
                  target.manifest,
                ),
                baseRowsHash,
              },
            },
            databasePath: deltaDb,
            audio,
            signingKey: o.signingKey,
            tempDir: dir,
            onProgress: o.onProgress,
          },
          o.outputPath,
        );
        return {
          path: written.path,
          packageId,
          size: written.size,
          contentSha256: written.contentSha256,
          ...rows,
          deltaFiles: audio.length,
          reusedFiles: target.manifest.audioFileIndex.length - audio.length,
        };
      });
    } finally {
      await target.close();
    }
  } finally {
    await base.close();
  }
}

export interface ApplyDeltaOptions {
  basePath: string;
  deltaPath: string;
  outputPath: string;
  /**
   * Trusted signing key(s): a public key (PEM, raw base64 or KeyObject) trusted under any
   * keyId, or a keyring by keyId. When given, both packages must carry a valid signature.
   */
  publicKey?: PublicKeyInput | Keyring;
  /**
   * Hash the whole base as `verify` would, instead of checking only what is taken from it
   * (its database against the delta's baseDatabaseHash, each reused file against the delta's
   * target index). Deltas without baseDatabaseHash always get the full check.
   */
  verifyBase?: boolean;
  /** Sign the result (clients normally cannot; the result is then unsigned). */
  signingKey?: SigningKey;
  /** For the database copies (default: the output's directory). */
  tempDir?: string;
  onProgress?: (progress: WriteProgress) => void;
}

export interface ApplyDeltaResult extends DeltaSummary {
  contentRevision: string;
  syncCursor: string;
}

function keyringFor(
  reader: PackageReader,
  key: ApplyDeltaOptions['publicKey'],
): Keyring | undefined {
  if (key === undefined) return undefined;
  if (key instanceof Map) return key as Keyring;
  if (!reader.trailer) {
    throw new PackageFormatError('SIGNATURE_MISSING', `${reader.manifest.packageId} is not signed`);
  }
  return new Map([[reader.trailer.keyId, loadPublicKey(key as PublicKeyInput)]]);
}

function mismatch(message: string): PackageFormatError {
  return new PackageFormatError('DELTA_BASE_MISMATCH', message);
}

/** Checks that `delta` applies to `base` and returns its complete `delta` info. */
/**
 * `exact`: the base is the very file the delta was built against (header contentSha256);
 * `rows`: another file with the same id, revision and rows (baseRowsHash), e.g. a package the
 * client itself applied from an earlier delta.
 */
function checkPair(
  base: PackageReader,
  delta: PackageReader,
): { info: Required<DeltaInfo>; mode: 'exact' | 'rows' } {
  const info = delta.manifest.delta;
  if (!info || !delta.header.delta) {
    throw new PackageFormatError('DELTA_INVALID', `${delta.manifest.packageId} is not a delta`);
  }
  if (base.manifest.delta) {
    throw mismatch(`the base ${base.manifest.packageId} is itself a delta; apply it first`);
  }
  if (
    (info.baseContentSha256 === undefined && info.baseRowsHash === undefined) ||
    info.targetPackageId === undefined ||
    info.targetAudioFileIndex === undefined
  ) {
    throw new PackageFormatError(
      'DELTA_INVALID',
      'delta lacks baseContentSha256 (or baseRowsHash), targetPackageId or targetAudioFileIndex',
    );
  }
  if (info.basePackageId !== base.manifest.packageId) {
    throw mismatch(
      `delta is for ${info.basePackageId}, the base given is ${base.manifest.packageId}`,
    );
  }
  const exact = info.baseContentSha256 === base.header.contentSha256;
  if (!exact && info.baseRowsHash === undefined) {
    throw mismatch(
      `delta expects base contentSha256 ${info.baseContentSha256}, the base has ${base.header.contentSha256}`,
    );
  }
  if (info.baseRevision !== base.manifest.contentRevision) {
    throw mismatch(
      `delta expects base revision ${info.baseRevision}, the base is at ${base.manifest.contentRevision}`,
    );
  }
  const audioLength = info.targetAudioFileIndex.reduce((n, e) => n + e.size, 0);
  validateAudioIndex(info.targetAudioFileIndex, audioLength);
  return {
    info: {
      ...info,
      baseContentSha256: info.baseContentSha256 ?? '',
      baseDatabaseHash: info.baseDatabaseHash ?? '',
      baseRowsHash: info.baseRowsHash ?? '',
    } as Required<DeltaInfo>,
    mode: exact ? 'exact' : 'rows',
  };
}

/**
 * Applies the delta's rows to a copy of the base database: deletions first, then every row
 * of the delta replaces or adds the row with its key; packageId becomes the target's.
 */
export function applyDeltaDatabase(
  resultPath: string,
  deltaPath: string,
  targetPackageId: string,
): { upserts: number; deletions: number } {
  const db = new Database(resultPath);
  let upserts = 0;
  let deletions = 0;
  try {
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    // Rows arrive in table order, not dependency order; finalize checks the keys at the end.
    db.pragma('foreign_keys = OFF');
    attach(db, deltaPath, 'd');
    const tables: ReadonlySet<string> = new Set(PACKAGE_TABLE_NAMES);
    db.transaction(() => {
      const gone = db.prepare('SELECT table_name, record_id FROM d.package_deletions').all() as {
        table_name: string;
        record_id: string;
      }[];
      for (const { table_name: table, record_id: id } of gone) {
        if (!tables.has(table)) {
          throw new PackageFormatError('DELTA_INVALID', `package_deletions names table ${table}`);
        }
        const key = keyColumn(table as ContentTable);
        deletions += db.prepare(`DELETE FROM main.${table} WHERE ${key} = ?`).run(id).changes;
      }
      for (const table of PACKAGE_TABLE_NAMES) {
        const cols = (PACKAGE_TABLE_COLUMNS[table] as readonly string[]).join(', ');
        upserts += db
          .prepare(`INSERT OR REPLACE INTO main.${table} (${cols}) SELECT ${cols} FROM d.${table}`)
          .run().changes;
      }
      db.prepare("UPDATE main.package_metadata SET value = ? WHERE key = 'packageId'").run(
        targetPackageId,
      );
    })();
    db.exec('DETACH DATABASE d');
    // Like a full build's database: no VACUUM (deleted rows leave free pages, nothing else).
    finalizePackageDatabase(db, { vacuum: false });
  } catch (err) {
    if (db.open) db.close();
    if (err instanceof PackageFormatError) throw err;
    throw new PackageFormatError('DELTA_INVALID', `applying rows: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return { upserts, deletions };
}

/**
 * Writes the full package that `delta` produces from `base`. Checks, in order: the delta is a
 * delta of this base (package id, header contentSha256, revision), signatures (when keys are
 * given), the delta completely, the base's database against the delta's baseDatabaseHash (or
 * the whole base with `verifyBase`), then merges rows and streams audio from delta or base,
 * checking each file's sha256 against the delta's target index. Memory stays bounded: rows are
 * merged inside SQLite and audio is copied in 1 MiB pieces. The output appears only when
 * everything checked out.
 */
export async function applyDelta(o: ApplyDeltaOptions): Promise<ApplyDeltaResult> {
  const base = await openPackage(o.basePath);
  try {
    const delta = await openPackage(o.deltaPath);
    try {
      const { info, mode } = checkPair(base, delta);
      // A base matched by rows is typically one the client applied itself (unsigned); what is
      // taken from it is vouched for by the delta's signed rows hash and audio index instead.
      const baseKeys = mode === 'exact' ? keyringFor(base, o.publicKey) : undefined;
      const deltaKeys = keyringFor(delta, o.publicKey);
      if (baseKeys) base.checkSignature(baseKeys);
      await delta.verify({ keyring: deltaKeys, tempDir: o.tempDir });
      const fullBaseCheck =
        o.verifyBase === true || (mode === 'exact' && info.baseDatabaseHash === '');
      if (fullBaseCheck) await base.verify({ keyring: baseKeys, tempDir: o.tempDir });
      else if (mode === 'exact' && base.manifest.databaseHash !== info.baseDatabaseHash) {
        throw mismatch(
          `delta expects base databaseHash ${info.baseDatabaseHash}, the base declares ${base.manifest.databaseHash}`,
        );
      }

      const parent = o.tempDir ?? path.dirname(path.resolve(o.outputPath));
      return await withTempDir(parent, async (dir) => {
        const resultDb = path.join(dir, 'result.sqlite');
        const deltaDb = path.join(dir, 'delta.sqlite');
        // Checked against the base manifest's databaseHash, itself equal to the signed delta's
        // (exact) or followed by the rows hash (rows); integrity and schema are checked once,
        // on the merged result.
        await base.extractDatabase(resultDb, { check: false });
        await delta.extractDatabase(deltaDb, { check: false });
        if (mode === 'rows') {
          const rowsHash = packageRowsHash(resultDb);
          if (rowsHash !== info.baseRowsHash) {
            throw mismatch(
              `the base's rows hash to ${rowsHash}, the delta expects ${info.baseRowsHash}`,
            );
          }
        }
        const rows = applyDeltaDatabase(resultDb, deltaDb, info.targetPackageId);

        const inDelta = new Map(delta.manifest.audioFileIndex.map((e) => [e.sha256, e]));
        const inBase = new Map(base.manifest.audioFileIndex.map((e) => [e.sha256, e]));
        let reusedFiles = 0;
        const audio: AudioSource[] = info.targetAudioFileIndex.map((e) => {
          const fromDelta = inDelta.get(e.sha256);
          const [from, file] = fromDelta ? [delta, o.deltaPath] : [base, o.basePath];
          const src = fromDelta ?? inBase.get(e.sha256);
          if (!src || src.size !== e.size) {
            throw new PackageFormatError(
              'DELTA_INVALID',
              `${e.fileName} (sha256 ${e.sha256}) is in neither the delta nor the base`,
            );
          }
          if (!fromDelta) reusedFiles++;
          // Read in place from the package file, through the writer's reused buffers.
          return {
            entry: entryInput(e),
            source: file,
            offset: from.layout.audioOffset + src.offset,
            size: e.size,
          };
        });

        const partial = path.join(dir, 'result.bible');
        const written = await writePackageToFile(
          {
            manifest: { ...manifestInputOf(delta.manifest), packageId: info.targetPackageId },
            databasePath: resultDb,
            audio,
            signingKey: o.signingKey,
            tempDir: dir,
            onProgress: o.onProgress,
          },
          partial,
        );
        written.manifest.audioFileIndex.forEach((e, i) => {
          const want = info.targetAudioFileIndex[i];
          if (e.sha256 !== want.sha256) {
            throw new PackageFormatError(
              'AUDIO_FILE_HASH_MISMATCH',
              `${e.fileName}: the bytes taken from the ${inDelta.has(want.sha256) ? 'delta' : 'base'} hash to ${e.sha256}, the delta expects ${want.sha256}`,
            );
          }
        });
        await fsp.rename(partial, o.outputPath);
        return {
          path: o.outputPath,
          packageId: info.targetPackageId,
          contentRevision: written.manifest.contentRevision,
          syncCursor: written.manifest.syncCursor,
          size: written.size,
          contentSha256: written.contentSha256,
          ...rows,
          deltaFiles: info.targetAudioFileIndex.length - reusedFiles,
          reusedFiles,
        };
      });
    } finally {
      await delta.close();
    }
  } catch (err) {
    throw toPackageError(err, 'applying delta');
  } finally {
    await base.close();
  }
}

export interface TableDiff {
  table: string;
  /** Keys only in B, only in A, and in both with different values (first 10 of each). */
  added: number;
  removed: number;
  changed: number;
  examples: { added: string[]; removed: string[]; changed: string[] };
}

export interface PackageDiff {
  identical: boolean;
  a: { path: string; packageId: string };
  b: { path: string; packageId: string };
  /** Manifest fields that differ (hashes of the database bytes and volatile fields excluded). */
  manifest: { field: string; a: unknown; b: unknown }[];
  /** Only tables with differences. */
  tables: TableDiff[];
  /** Audio files by fileName: only in B, only in A, or different bytes or index entry. */
  audio: { added: string[]; removed: string[]; changed: string[] };
}

export interface DiffOptions {
  /**
   * Also compare createdAt and createdBy (metadata and manifest), estimatedSizeMB, the
   * database hashes and audio offsets.
   */
  strict?: boolean;
  tempDir?: string;
}

const EXAMPLES = 10;
/** Fields that depend on when or how bytes were laid out, not on the content. */
const LAYOUT_FIELDS = new Set([
  'createdAt',
  'createdBy',
  'estimatedSizeMB',
  'databaseHash',
  'totalContentHash',
  'audioFileIndex',
]);

function diffManifests(a: Manifest, b: Manifest, strict: boolean): PackageDiff['manifest'] {
  const out: PackageDiff['manifest'] = [];
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const field of fields) {
    if (field === 'audioFileIndex' || (!strict && LAYOUT_FIELDS.has(field))) continue;
    const va = (a as Record<string, unknown>)[field];
    const vb = (b as Record<string, unknown>)[field];
    if (JSON.stringify(va) !== JSON.stringify(vb)) out.push({ field, a: va, b: vb });
  }
  return out;
}

/** Index entries compared without their offset (a layout detail) unless strict. */
function diffAudio(a: Manifest, b: Manifest, strict: boolean): PackageDiff['audio'] {
  const comparable = (e: AudioFileEntry) => (strict ? e : { ...e, offset: 0 });
  const ia = new Map(a.audioFileIndex.map((e) => [e.fileName, comparable(e)]));
  const ib = new Map(b.audioFileIndex.map((e) => [e.fileName, comparable(e)]));
  return {
    added: [...ib.keys()].filter((n) => !ia.has(n)),
    removed: [...ia.keys()].filter((n) => !ib.has(n)),
    changed: [...ib.entries()]
      .filter(([n, e]) => ia.has(n) && JSON.stringify(ia.get(n)) !== JSON.stringify(e))
      .map(([n]) => n),
  };
}

function diffTables(aDb: string, bDb: string, strict: boolean): TableDiff[] {
  const db = new Database(aDb, { readonly: true, fileMustExist: true });
  try {
    attach(db, bDb, 'b');
    const hasDeletions = (schema: string) =>
      db
        .prepare(
          `SELECT 1 FROM ${schema}.sqlite_schema WHERE type = 'table' AND name = 'package_deletions'`,
        )
        .get() !== undefined;
    const tables: PackageTableName[] = [...PACKAGE_TABLE_NAMES];
    if (hasDeletions('main') && hasDeletions('b')) tables.push('package_deletions');
    const out: TableDiff[] = [];
    for (const table of tables) {
      const cols = (PACKAGE_TABLE_COLUMNS[table] as readonly string[]).join(', ');
      const key =
        table === 'package_deletions' ? "table_name || ':' || record_id" : keyColumn(table);
      const skip =
        table === 'package_metadata' && !strict
          ? `WHERE key NOT IN (${quoteList(VOLATILE_METADATA_KEYS)})`
          : '';
      const A = `(SELECT ${cols} FROM main.${table} ${skip})`;
      const B = `(SELECT ${cols} FROM b.${table} ${skip})`;
      const keys = (sql: string) =>
        db
          .prepare(sql)
          .pluck()
          .all()
          .map((k) => String(k));
      const count = (sql: string) =>
        Number(db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get());
      const addedSql = `SELECT ${key} AS k FROM ${B} WHERE ${key} NOT IN (SELECT ${key} FROM ${A})`;
      const removedSql = `SELECT ${key} AS k FROM ${A} WHERE ${key} NOT IN (SELECT ${key} FROM ${B})`;
      const changedSql = `SELECT ${key} AS k FROM (SELECT * FROM ${B} EXCEPT SELECT * FROM ${A})
                           WHERE ${key} IN (SELECT ${key} FROM ${A})`;
      const d: TableDiff = {
        table,
        added: count(addedSql),
        removed: count(removedSql),
        changed: count(changedSql),
        examples: {
          added: keys(`${addedSql} ORDER BY k LIMIT ${EXAMPLES}`),
          removed: keys(`${removedSql} ORDER BY k LIMIT ${EXAMPLES}`),
          changed: keys(`${changedSql} ORDER BY k LIMIT ${EXAMPLES}`),
        },
      };
      if (d.added + d.removed + d.changed > 0) out.push(d);
    }
    db.exec('DETACH DATABASE b');
    return out;
  } finally {
    db.close();
  }
}

/**
 * Compares two packages by content: manifest fields, every row of every table (by primary
 * key) and every audio file (index entry incl. sha256). Hashes are taken from the manifests
 * and each database is checked against its databaseHash; verify the packages first if you do
 * not trust them. Volatile fields (createdAt, estimatedSizeMB, database byte hashes) are
 * ignored unless `strict`.
 */
export async function diffPackages(
  aPath: string,
  bPath: string,
  options: DiffOptions = {},
): Promise<PackageDiff> {
  const strict = options.strict === true;
  try {
    const a = await openPackage(aPath);
    try {
      const b = await openPackage(bPath);
      try {
        return await withTempDir(options.tempDir ?? os.tmpdir(), async (dir) => {
          const aDb = path.join(dir, 'a.sqlite');
          const bDb = path.join(dir, 'b.sqlite');
          await a.extractDatabase(aDb);
          await b.extractDatabase(bDb);
          const manifest = diffManifests(a.manifest, b.manifest, strict);
          const tables = diffTables(aDb, bDb, strict);
          const audio = diffAudio(a.manifest, b.manifest, strict);
          const identical =
            manifest.length === 0 &&
            tables.length === 0 &&
            audio.added.length + audio.removed.length + audio.changed.length === 0;
          return {
            identical,
            a: { path: aPath, packageId: a.manifest.packageId },
            b: { path: bPath, packageId: b.manifest.packageId },
            manifest,
            tables,
            audio,
          };
        });
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  } catch (err) {
    throw toPackageError(err, 'comparing packages');
  }
}
