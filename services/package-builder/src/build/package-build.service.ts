import { Inject, Injectable } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  type FeedPosition,
  REDIS,
  encodeCursor,
  getLogger,
  revisionOf,
  withSpan,
} from '@bible/common';
import { type PackageParams, packageIdFor, packageKey, packageTypeNumber } from '@bible/packages';
import { S3, type S3Handle, UploadsInFlight, uploadMultipart } from '@bible/storage';
import {
  type AudioFileEntry,
  type AudioFileEntryInput,
  type ManifestInput,
  type SigningKey,
  deltaPackageId,
  packageRowsHash,
  preparePackage,
  writeDeltaDatabase,
} from '@bible/package-format';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';
import { SIGNING_KEY } from '../signing/signing.module';
import { fetchAudio } from './audio-fetcher';
import { downloadBaseDatabase } from './base-database';
import { type PartPlan, planParts } from './chunking';
import { ContentSnapshot, type SnapshotBook, type SnapshotMediaFile } from './content-snapshot';
import { buildStageDuration, bytesBuilt, databaseRows, databaseWriteSeconds } from './metrics';
import { writePackageDatabase } from './package-database';
import { type BaseGeneration, type GenerationDraft, PublishRepository } from './publish.repository';
import { BuildWorkspace } from './workspace';

export type Stage = 'gather' | 'database' | 'audio' | 'assemble' | 'upload';

/** Percent ranges of each stage within one part, in the order they run. */
const STAGE_RANGE: Record<Stage, [number, number]> = {
  gather: [0, 10],
  audio: [10, 45],
  database: [45, 60],
  assemble: [60, 75],
  upload: [75, 100],
};

export interface BuildContext {
  requestId: string;
  jobId: string;
  params: PackageParams;
  requestedBy: string;
  /** Build a delta from this full package (same key) instead of a full package. */
  base?: BaseGeneration;
  onProgress: (stage: Stage, percent: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface BuildResult {
  packageIds: string[];
  revision: string;
  reused: boolean;
}

interface Catalog {
  language: { id: string; iso_639_3: string | null };
  bibleVersionId: string;
  versionSlug: string;
}

/** Two parts in flight, each read into its own reused buffer: upload memory is 16 MiB. */
const PART_SIZE = 8 * 1024 * 1024;

/**
 * Builds the package(s) of one request: gather from a consistent snapshot, write the SQLite
 * database, fetch and verify audio, assemble and sign with the format library, stream to the
 * object store with S3 multipart, then publish every part in one transaction so nothing partial
 * is ever visible.
 */
@Injectable()
export class PackageBuildService {
  private readonly uploads: UploadsInFlight;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BUILDER_CONFIG) private readonly config: BuilderConfig,
    @Inject(SIGNING_KEY) private readonly signingKey: SigningKey | undefined,
    private readonly publisher: PublishRepository,
    private readonly workspace: BuildWorkspace,
  ) {
    this.uploads = new UploadsInFlight(redis);
  }

  async build(ctx: BuildContext): Promise<BuildResult> {
    const started = Date.now();
    const key = packageKey(ctx.params);
    const snapshot = await ContentSnapshot.open(this.db);
    let drafts: GenerationDraft[] = [];
    let revision: string;
    try {
      const gatherEnd = buildStageDuration.startTimer({ stage: 'gather' });
      await ctx.onProgress('gather', 0);
      const position = await snapshot.revision(ctx.params);
      revision = revisionOf(position);
      if (ctx.base && ctx.base.packageKey !== key) {
        throw new Error(
          `${ctx.base.packageId} is a package of other content; no delta from it: request the full package`,
        );
      }
      // A retry after a crash between publish and ack finds its own work done.
      const existing = await this.publisher.readyPackageIds(
        key,
        revision,
        ctx.base?.contentRevision,
        ctx.base?.partNumber ?? undefined,
      );
      if (existing.length > 0) {
        await snapshot.close();
        return { packageIds: existing, revision, reused: true };
      }
      const catalog = await this.catalog(snapshot, ctx.params);
      const allBooks = await snapshot.books(catalog.bibleVersionId, ctx.params);
      const books = selectBooks(allBooks, ctx.params);
      if (books.length === 0) throw new Error('the request selects no books with content');
      const parts: PartPlan[] = ctx.params.chunking
        ? planParts(
            books.map((b) => ({
              id: b.id,
              osis: b.osis,
              testament: b.testament,
              estimatedBytes: Number(b.text_bytes) + Number(b.audio_bytes),
            })),
            ctx.params.chunking.strategy,
            ctx.params.chunking.maxSizeMB,
          )
        : [
            {
              books: books.map((b) => ({
                id: b.id,
                osis: b.osis,
                testament: b.testament,
                estimatedBytes: 0,
              })),
              startBook: books[0].osis,
              endBook: books[books.length - 1].osis,
            },
          ];
      gatherEnd();

      // A series part is updated on its own: the delta of the part with the base's number,
      // provided the series still cuts the same books into it.
      const wanted = ctx.base?.partNumber ? ctx.base.partNumber - 1 : undefined;
      if (wanted !== undefined) {
        const same = parts[wanted]?.books.map((b) => b.id).join(',');
        if (same !== ctx.base?.books?.join(',')) {
          throw new Error(
            `part ${wanted + 1} of the series holds other books at this revision; request the full parts`,
          );
        }
      }
      const previous = await this.publisher.previousPackageIds(key);
      for (const [index, part] of parts.entries()) {
        if (wanted !== undefined && index !== wanted) continue;
        const progress = async (stage: Stage, fraction: number) => {
          const [from, to] = STAGE_RANGE[stage];
          const within = from + (to - from) * Math.min(1, Math.max(0, fraction));
          const [at, of] = wanted === undefined ? [index, parts.length] : [0, 1];
          await ctx.onProgress(stage, ((at + within / 100) / of) * 100);
        };
        drafts.push(
          await this.buildPart({
            ctx,
            snapshot,
            catalog,
            key,
            position,
            part,
            index,
            total: parts.length,
            previous,
            progress,
          }),
        );
      }
    } catch (error) {
      await snapshot.close().catch(() => undefined);
      await this.publisher.deleteObjects(drafts.map((d) => d.objectKey));
      throw error;
    }
    await snapshot.close();

    try {
      const generationMs = Date.now() - started;
      drafts = drafts.map((d) => ({ ...d, generationMs }));
      await this.publisher.publish(drafts, ctx.jobId);
    } catch (error) {
      await this.publisher.deleteObjects(drafts.map((d) => d.objectKey));
      throw error;
    }
    buildStageDuration.observe({ stage: 'total' }, (Date.now() - started) / 1000);
    for (const d of drafts) bytesBuilt.inc({ type: ctx.params.packageType }, d.sizeBytes);
    return { packageIds: drafts.map((d) => d.packageId), revision, reused: false };
  }

  private async catalog(snapshot: ContentSnapshot, params: PackageParams): Promise<Catalog> {
    const language = (await snapshot.one(
      `SELECT id, iso_639_3 FROM language_entities WHERE id = $1 AND deleted_at IS NULL`,
      [params.languageEntityId],
    )) as Catalog['language'] | null;
    if (!language) throw new Error(`language ${params.languageEntityId} no longer exists`);
    let bibleVersionId: string | undefined;
    for (const [table, id] of [
      ['text_versions', params.packageType === 'audio' ? undefined : params.textVersionId],
      ['audio_versions', params.packageType === 'text' ? undefined : params.audioVersionId],
    ] as const) {
      if (!id) continue;
      const row = (await snapshot.one(
        `SELECT bible_version_id, publish_status FROM ${table} WHERE id = $1 AND deleted_at IS NULL`,
        [id],
      )) as {
        bible_version_id: string;
        publish_status: string;
      } | null;
      if (!row) throw new Error(`${table} ${id} no longer exists`);
      if (row.publish_status !== 'published')
        throw new Error(`${table} ${id} is no longer published`);
      bibleVersionId = row.bible_version_id;
    }
    const versionSlug =
      params.packageType === 'text'
        ? (params.textVersionId as string)
        : params.packageType === 'audio'
          ? (params.audioVersionId as string)
          : `${params.textVersionId}-${params.audioVersionId}`;
    return { language, bibleVersionId: bibleVersionId as string, versionSlug };
  }

  private async buildPart(input: {
    ctx: BuildContext;
    snapshot: ContentSnapshot;
    catalog: Catalog;
    key: string;
    position: FeedPosition;
    part: PartPlan;
    index: number;
    total: number;
    previous: Map<number, { packageId: string; supersedes: string | null }>;
    progress: (stage: Stage, fraction: number) => Promise<void>;
  }): Promise<GenerationDraft> {
    const { ctx, snapshot, catalog, key, position, part, index, total, progress } = input;
    const params = ctx.params;
    const isPart = params.chunking !== undefined;
    const revision = revisionOf(position);
    const packageId = packageIdFor({
      languageCode: catalog.language.iso_639_3 ?? catalog.language.id,
      versionSlug: catalog.versionSlug,
      params,
      revisionId: position.id.toString(),
      key,
      ...(isPart && { part: { number: index + 1, total } }),
    });
    const base = ctx.base;
    // A delta carries the full package's content under its own id; applying it gives packageId.
    const ownId = base ? deltaPackageId(packageId, base.contentRevision) : packageId;
    const previous = input.previous.get(isPart ? index + 1 : 0);
    const supersedes =
      previous?.packageId === packageId ? (previous.supersedes ?? undefined) : previous?.packageId;
    const dir = await mkdtemp(join(this.workspace.root(), `build-${ownId}-`));
    const log = getLogger().child({ packageId, jobId: ctx.jobId });
    try {
      const bookIds = part.books.map((b) => b.id);
      const hasAudio = params.packageType !== 'text';
      const mediaFiles: SnapshotMediaFile[] = hasAudio
        ? await snapshot.mediaFiles(params.audioVersionId as string, bookIds)
        : [];
      const fileNames = new Map(
        mediaFiles.map((m) => [m.id, `${m.chapter_id ?? m.id}.${m.format}`]),
      );
      const createdAt = new Date().toISOString();
      // A delta fetches only files whose bytes the base lacks (the catalog's sha256 against the
      // base's audio index); the rest are copied from the base when the delta is applied.
      const baseHashes = new Set(base?.audioFileIndex.map((e) => e.sha256));
      const toFetch = base
        ? mediaFiles.filter(
            (m, i) =>
              !baseHashes.has(m.sha256) && mediaFiles.findIndex((o) => o.sha256 === m.sha256) === i,
          )
        : mediaFiles;

      // Audio first, so a missing or corrupt source (or the partial list) is known before the database.
      let endStage = buildStageDuration.startTimer({ stage: 'audio' });
      await progress('audio', 0);
      const { fetched, missing } = await withSpan('build.audio', () =>
        fetchAudio({
          s3: this.s3.client,
          bucket: this.s3.bucket,
          files: toFetch,
          dir,
          concurrency: this.config.BUILDER_AUDIO_CONCURRENCY,
          allowPartial: params.allowPartial === true,
          signal: ctx.signal,
          onFile: (done, all) => void progress('audio', done / all).catch(() => undefined),
        }),
      );
      endStage();
      if (missing.length > 0)
        log.warn({ missing: missing.map((m) => m.mediaFileId) }, 'building a partial package');
      // Delta builds are never partial (the gateway sends partial requests to full builds).
      const included = base ? mediaFiles : fetched.map((f) => f.mediaFile);

      endStage = buildStageDuration.startTimer({ stage: 'database' });
      await progress('database', 0);
      const fullDatabasePath = join(dir, 'full.sqlite');
      const databasePath = base ? join(dir, 'delta.sqlite') : fullDatabasePath;
      const metadata = {
        packageId,
        contentRevision: revision,
        syncCursor: encodeCursor(position),
        createdAt,
      };
      const dbResult = await withSpan('build.database', () =>
        writePackageDatabase(snapshot, {
          path: fullDatabasePath,
          languageEntityId: params.languageEntityId,
          bibleVersionId: catalog.bibleVersionId,
          bookIds,
          textVersionId: params.packageType === 'audio' ? undefined : params.textVersionId,
          audioVersionId: hasAudio ? params.audioVersionId : undefined,
          mediaFiles: included,
          fileNames,
          metadata: {
            ...metadata,
            ...(missing.length > 0 && {
              missingMediaFiles: JSON.stringify(
                missing.map((m) => ({ mediaFileId: m.mediaFileId, reason: m.reason })),
              ),
            }),
          },
        }),
      );
      databaseRows.inc(dbResult.rows);
      databaseWriteSeconds.inc(dbResult.writeSeconds);
      let baseRowsHash: string | undefined;
      if (base) {
        const baseDatabasePath = join(dir, 'base.sqlite');
        await withSpan('build.base-database', () =>
          downloadBaseDatabase(this.s3, base, baseDatabasePath, ctx.signal),
        );
        baseRowsHash = packageRowsHash(baseDatabasePath);
        const rows = writeDeltaDatabase({
          baseDatabasePath,
          targetDatabasePath: fullDatabasePath,
          outputPath: databasePath,
          metadata: { packageId: ownId, createdAt },
        });
        log.info({ ...rows, audioFiles: toFetch.length }, 'delta database written');
      }
      endStage();

      endStage = buildStageDuration.startTimer({ stage: 'assemble' });
      await progress('assemble', 0);
      const structure = await snapshot.one(
        `SELECT count(DISTINCT c.id)::int AS chapters, count(v.id)::int AS verses
           FROM chapters c LEFT JOIN verses v ON v.chapter_id = c.id AND v.deleted_at IS NULL
          WHERE c.book_id = ANY($1::text[]) AND c.deleted_at IS NULL`,
        [bookIds],
      );
      const testaments = new Set(part.books.map((b) => b.testament));
      const seriesId = `${key}-r${position.id}`;
      const entryOf = (m: SnapshotMediaFile): AudioFileEntryInput => ({
        fileName: fileNames.get(m.id) as string,
        mediaFileId: m.id,
        startVerseId: m.start_verse_id ?? `${m.chapter_id}-1`,
        endVerseId: m.end_verse_id ?? `${m.chapter_id}-1`,
        ...(m.chapter_id && { chapterId: m.chapter_id }),
        ...(m.book_id && { bookId: m.book_id }),
        duration: Number(m.duration_seconds),
        format: m.format,
        ...(m.bitrate && { bitrate: m.bitrate }),
        ...(m.sample_rate && { sampleRate: m.sample_rate }),
        hasVerseTimings: m.timing_count > 0,
        verseCount: m.verse_count,
      });
      let offset = 0;
      const targetAudioFileIndex: AudioFileEntry[] = included.map((m) => {
        const size = Number(m.file_size);
        const entry = { ...entryOf(m), offset, size, sha256: m.sha256 };
        offset += size;
        return entry;
      });
      const manifest: ManifestInput = {
        packageId: ownId,
        packageVersion: `1.${position.txid}.${position.id}`,
        packageType: packageTypeNumber(params.packageType, isPart),
        createdAt,
        createdBy: ctx.requestedBy,
        languageEntityId: params.languageEntityId,
        bibleVersionId: catalog.bibleVersionId,
        ...(hasAudio && { audioVersionId: params.audioVersionId }),
        ...(params.packageType !== 'audio' && { textVersionId: params.textVersionId }),
        contentRevision: revision,
        syncCursor: metadata.syncCursor,
        ...(included.length > 0 && {
          audioFormat: included.every((m) => m.format === 'mp3') ? 'mp3' : 'm4a',
        }),
        includesVerseTimings: dbResult.timings > 0,
        includesTotalVerses: dbResult.verseTexts,
        includesBooks: part.books.map((b) => b.osis),
        minAppVersion: '1.0.0',
        conflictsWith: [],
        ...(supersedes && { supersedes }),
        bibleStructure: {
          totalBooks: part.books.length,
          totalChapters: Number(structure?.chapters ?? 0),
          totalVerses: Number(structure?.verses ?? 0),
          testament: testaments.size === 2 ? 'both' : testaments.has('OT') ? 'OT' : 'NT',
        },
        ...(isPart && {
          seriesInfo: {
            seriesId,
            seriesName: `${catalog.versionSlug} ${params.packageType} (${params.chunking?.strategy})`,
            partNumber: index + 1,
            totalParts: total,
            chunkingStrategy: params.chunking?.strategy ?? 'custom',
            contentRange: { startBook: part.startBook, endBook: part.endBook },
            dependencies: [],
            isComplete: missing.length === 0,
          },
        }),
        ...(base && {
          delta: {
            basePackageId: base.packageId,
            baseRevision: base.contentRevision,
            // A base the server never wrote (a client applied it) is known by its rows only.
            ...(base.stored && {
              baseContentSha256: base.stored.contentSha256,
              baseDatabaseHash: base.stored.databaseHash,
            }),
            baseRowsHash,
            targetPackageId: packageId,
            targetAudioFileIndex,
          },
        }),
      };
      const audio = fetched.map((f) => ({
        source: f.path,
        size: f.size,
        // Hashed while downloading and checked against the catalog: the writer need not re-hash it.
        sha256: f.sha256,
        entry: entryOf(f.mediaFile),
      }));
      const prepared = await withSpan('build.assemble', () =>
        preparePackage({
          manifest,
          databasePath,
          audio,
          signingKey: this.signingKey,
          tempDir: dir,
          // One hashing thread and 1 MiB reads: a builder's memory stays flat and small; replicas,
          // not threads, are how builds scale.
          parallelHashing: false,
          chunkSize: 1024 * 1024,
          onProgress: (p) =>
            void progress('assemble', p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 1).catch(
              () => undefined,
            ),
        }),
      );
      endStage();

      endStage = buildStageDuration.startTimer({ stage: 'upload' });
      await progress('upload', 0);
      const objectKey = `packages/${ownId}.bible`;
      await withSpan('build.upload', async () => {
        // Registered before the multipart upload exists and again with its id once it does, per
        // attempt, so the sweeper can abort it should this process die before it aborts or
        // completes it (a retry's clean-up leaves the crashed attempt's record alone).
        const attempt = await this.uploads.begin(objectKey);
        try {
          await uploadMultipart({
            client: this.s3.client,
            bucket: this.s3.bucket,
            key: objectKey,
            source: prepared,
            partSize: PART_SIZE,
            queueSize: 2,
            contentType: 'application/octet-stream',
            metadata: { 'content-sha256': prepared.contentSha256, 'package-id': ownId },
            signal: ctx.signal,
            onCreated: (uploadId) => attempt.created(uploadId),
            onProgress: (uploaded) =>
              void progress('upload', uploaded / prepared.size).catch(() => undefined),
          });
        } finally {
          await attempt.finished().catch(() => undefined);
          await prepared.dispose();
        }
      });
      endStage();
      log.info(
        { size: prepared.size, rows: dbResult.rows, audioFiles: fetched.length },
        'package part uploaded',
      );

      return {
        packageId: ownId,
        packageKey: key,
        params,
        contentRevision: revision,
        syncCursor: metadata.syncCursor,
        objectKey,
        sizeBytes: prepared.size,
        contentSha256: prepared.contentSha256,
        manifest: prepared.manifest as unknown as Record<string, unknown>,
        seriesId: isPart ? seriesId : null,
        partNumber: isPart ? index + 1 : null,
        totalParts: isPart ? total : null,
        books: bookIds,
        createdBy: ctx.requestedBy,
        generationMs: 0,
        missing: missing.map((m) => ({ mediaFileId: m.mediaFileId, reason: m.reason })),
        ...(base && { base: { packageId: base.packageId, revision: base.contentRevision } }),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Books a request covers: its selection, or every book with content of the requested kind. */
export function selectBooks(books: SnapshotBook[], params: PackageParams): SnapshotBook[] {
  if (params.books) {
    const wanted = new Set(params.books);
    return books.filter((b) => wanted.has(b.id));
  }
  return books.filter((b) => {
    const text = Number(b.text_bytes) > 0;
    const audio = Number(b.audio_bytes) > 0;
    switch (params.packageType) {
      case 'text':
        return text;
      case 'audio':
        return audio;
      case 'combined':
        return text || audio;
    }
  });
}
