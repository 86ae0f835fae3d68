import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import {
  AppError,
  ErrorCode,
  type ErrorDetail,
  type FeedPosition,
  keysetPage,
  metricsRegistry,
  parseCursorParam,
  revisionOf,
} from '@bible/common';
import {
  type PackageParams,
  type PublishedGenerationRow,
  buildJobId,
  packageIdFor,
  packageKey,
} from '@bible/packages';
import { deltaPackageId } from '@bible/package-format';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { BuildQueue, type JobState } from './build-queue';
import { isSeries, resolveBooks, versionSlug } from './package-rules';
import type { PackageRequestBody, UpdateReason } from './packages.schemas';
import { deltaObstacle, deltaTooLarge } from './update-rules';
import { PackagesRepository } from './packages.repository';

const cacheRequests = new Counter({
  name: 'bible_package_cache_requests_total',
  help: 'Package requests answered from an existing package (hit) or needing a build (miss).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export interface UpdateInfo {
  updateKind: 'delta' | 'full';
  reason?: UpdateReason;
  basePackageId: string;
}

export type RequestOutcome =
  | { kind: 'ready'; generations: PublishedGenerationRow[]; update?: UpdateInfo }
  | { kind: 'queued'; jobId: string; status: JobState; packageId?: string; update?: UpdateInfo }
  | { kind: 'upToDate'; packageId: string };

export const downloadUrl = (packageId: string) => `/v1/packages/${packageId}/download`;
export const statusUrl = (jobId: string) => `/v1/packages/jobs/${jobId}`;

/** The id a build of `params` at `position` publishes under (a series names its parts in the build). */
function plannedPackageId(
  params: PackageParams,
  languageCode: string,
  key: string,
  position: FeedPosition,
): string {
  return packageIdFor({
    languageCode,
    versionSlug: versionSlug(params),
    params,
    revisionId: position.id.toString(),
    key,
  });
}

@Injectable()
export class PackagesService {
  constructor(
    private readonly repo: PackagesRepository,
    private readonly queue: BuildQueue,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Checks the request against the catalog: 404 unknown, 409 unpublished, 400 inconsistent. */
  async resolve(
    body: PackageRequestBody,
  ): Promise<{ params: PackageParams; languageCode: string }> {
    const language = await this.repo.language(body.languageEntityId);
    if (!language) {
      throw new AppError(404, ErrorCode.NotFound, `Language ${body.languageEntityId} not found`, [
        { field: 'body.languageEntityId', message: 'not found' },
      ]);
    }
    const details: ErrorDetail[] = [];
    let bibleVersionId: string | undefined;
    let audioBooks: Set<string> | undefined;
    for (const kind of ['text', 'audio'] as const) {
      const id = kind === 'text' ? body.textVersionId : body.audioVersionId;
      if (!id) continue;
      const field = `body.${kind}VersionId`;
      const version = await this.repo.version(kind, id);
      if (!version)
        throw new AppError(404, ErrorCode.NotFound, `${kind} version ${id} not found`, [
          { field, message: 'not found' },
        ]);
      if (version.publish_status !== 'published') {
        throw new AppError(
          409,
          ErrorCode.PkgVersionNotPublished,
          `${kind} version ${id} is not published`,
          [{ field, message: `publish status is ${version.publish_status}` }],
        );
      }
      if (version.language_entity_id !== language.id) {
        details.push({
          field,
          message: `belongs to language ${version.language_entity_id}, not ${language.id}`,
        });
      }
      if (bibleVersionId && bibleVersionId !== version.bible_version_id) {
        details.push({
          field,
          message: 'text and audio versions follow different Bible structures',
        });
      }
      bibleVersionId = version.bible_version_id;
      if (kind === 'audio') audioBooks = await this.repo.booksWithAudio(id);
    }
    const books = await this.repo.books(bibleVersionId as string);
    const resolved = resolveBooks(
      body.books,
      books,
      body.packageType === 'audio' ? audioBooks : undefined,
    );
    details.push(...resolved.errors);
    if (details.length > 0)
      throw new AppError(
        400,
        ErrorCode.ValidationFailed,
        'The request does not match the catalog',
        details,
      );

    const params: PackageParams = {
      packageType: body.packageType,
      languageEntityId: body.languageEntityId,
      ...(body.audioVersionId && { audioVersionId: body.audioVersionId }),
      ...(body.textVersionId && { textVersionId: body.textVersionId }),
      ...(resolved.books && { books: resolved.books }),
      ...(body.chunking && { chunking: body.chunking }),
      ...(body.allowPartial && { allowPartial: true }),
    };
    return { params, languageCode: language.iso_639_3 ?? language.id };
  }

  /**
   * The current package if it exists at the current revision, otherwise one (shared) build;
   * with basePackageId, the cheapest update from that package.
   */
  async request(body: PackageRequestBody, userId: string): Promise<RequestOutcome> {
    const { params, languageCode } = await this.resolve(body);
    return body.basePackageId
      ? this.update(params, languageCode, body.basePackageId, userId)
      : this.full(params, languageCode, userId);
  }

  /** GET /v1/packages/{packageId}/update: the same answer for the content that package holds. */
  async updateFor(packageId: string, userId: string): Promise<RequestOutcome> {
    const held =
      (await this.repo.generation(packageId)) ?? (await this.repo.appliedFromDelta(packageId));
    const params = held ? await this.repo.paramsOfKey(held.package_key) : null;
    if (!held || !params) {
      throw new AppError(404, ErrorCode.NotFound, `Package ${packageId} not found`, [
        { field: 'params.packageId', message: 'not a package of this server' },
      ]);
    }
    const language = await this.repo.language(params.languageEntityId);
    if (!language) throw new AppError(404, ErrorCode.NotFound, 'The language no longer exists');
    return this.update(params, language.iso_639_3 ?? language.id, packageId, userId);
  }

  private async update(
    params: PackageParams,
    languageCode: string,
    basePackageId: string,
    userId: string,
  ): Promise<RequestOutcome> {
    const key = packageKey(params);
    // A client that applied a delta holds the target under its id, possibly never built in full.
    const base =
      (await this.repo.generation(basePackageId)) ??
      (await this.repo.appliedFromDelta(basePackageId));
    const full = async (reason: UpdateReason): Promise<RequestOutcome> => {
      const outcome = await this.full(params, languageCode, userId);
      return outcome.kind === 'upToDate'
        ? outcome
        : { ...outcome, update: { updateKind: 'full', reason, basePackageId } };
    };
    const obstacle = deltaObstacle(base, key, params);
    if (obstacle || !base) return full(obstacle ?? 'base_unknown');
    const position = await this.repo.revision(params);
    const revision = revisionOf(position);
    if (base.content_revision === revision) return { kind: 'upToDate', packageId: basePackageId };

    const update: UpdateInfo = { updateKind: 'delta', basePackageId };
    // A series part is updated on its own, against the part with its number.
    const part = base.part_number;
    const currentFull = (await this.repo.readyGenerations(key, revision)).find(
      (g) => g.part_number === part,
    );
    const fullBytes = Number(currentFull?.size_bytes ?? base.size_bytes);
    const maxShare = this.config.PACKAGE_DELTA_MAX_SHARE;
    const ready = await this.repo.readyDelta(key, revision, base.content_revision, part);
    if (ready) {
      if (deltaTooLarge(Number(ready.size_bytes), fullBytes, maxShare)) {
        return full('delta_too_large');
      }
      cacheRequests.inc({ result: 'hit' });
      await this.repo.countCacheHit([ready.id]);
      return { kind: 'ready', generations: [ready], update };
    }
    // Before building: the audio the delta would carry is known from the catalog's hashes.
    if (params.packageType !== 'text' && params.audioVersionId) {
      const index = (base.manifest.audioFileIndex ?? []) as { sha256: string }[];
      const audioBytes = await this.repo.audioBytesNotIn(
        params.audioVersionId,
        base.books ?? [],
        index.map((e) => e.sha256),
      );
      if (deltaTooLarge(audioBytes, fullBytes, maxShare)) return full('delta_too_large');
    }
    cacheRequests.inc({ result: 'miss' });
    const jobId = `${buildJobId(key, revision)}-from-${base.content_revision.replace(/[^0-9a-z]/gi, '_')}${part ? `-p${part}` : ''}`;
    const queued = await this.enqueue(key, params, userId, jobId, basePackageId);
    // A part's id names the series' part count, which only the build's plan knows.
    const targetId = part ? undefined : plannedPackageId(params, languageCode, key, position);
    return {
      kind: 'queued',
      ...queued,
      ...(targetId && { packageId: deltaPackageId(targetId, base.content_revision) }),
      update,
    };
  }

  private async enqueue(
    key: string,
    params: PackageParams,
    userId: string,
    jobId: string,
    basePackageId?: string,
  ): Promise<{ jobId: string; status: JobState }> {
    const requestId = await this.repo.recordRequest({
      packageKey: key,
      params,
      requestedBy: userId,
      jobId,
      basePackageId,
    });
    try {
      return { jobId, status: await this.queue.enqueue(jobId, { packageKey: key, requestId }) };
    } catch (error) {
      // A refused request leaves nothing behind: no row (and the queue had no job from it; a
      // job that still arrived later finds no row and is dropped by the builder).
      await this.repo.deleteRequest(requestId).catch(() => undefined);
      throw error;
    }
  }

  private async full(
    params: PackageParams,
    languageCode: string,
    userId: string,
  ): Promise<RequestOutcome> {
    const key = packageKey(params);
    const position = await this.repo.revision(params);
    const revision = revisionOf(position);
    const ready = await this.repo.readyGenerations(key, revision);
    if (ready.length > 0) {
      cacheRequests.inc({ result: 'hit' });
      await this.repo.countCacheHit(ready.map((g) => g.id));
      return { kind: 'ready', generations: ready };
    }
    cacheRequests.inc({ result: 'miss' });
    const { jobId, status } = await this.enqueue(key, params, userId, buildJobId(key, revision));
    const packageId = isSeries(params)
      ? undefined
      : plannedPackageId(params, languageCode, key, position);
    return { kind: 'queued', jobId, status, packageId };
  }

  /** One page of the catalog, newest first, with the cursor of the next page. */
  async catalog(query: {
    languageEntityId?: string;
    packageType?: string;
    limit: number;
    cursor?: string;
  }) {
    const after = parseCursorParam(query.cursor);
    const { rows, total } = await this.repo.catalog({ ...query, after });
    const page = keysetPage(rows, query.limit, summaryView, (g) => ({
      createdAt: new Date(g.created_at).toISOString(),
      id: g.id,
    }));
    return { ...page, total };
  }

  /** A package that can be downloaded, or 404. */
  async downloadable(packageId: string): Promise<PublishedGenerationRow> {
    const generation = await this.repo.downloadable(packageId);
    if (!generation) throw new AppError(404, ErrorCode.NotFound, `Package ${packageId} not found`);
    return generation;
  }

  async signingKeys() {
    const keys = await this.repo.signingKeys();
    return keys.map((k) => ({
      keyId: k.key_id,
      algorithm: 'Ed25519' as const,
      publicKey: k.public_key,
      publicKeyPem: k.public_key_pem,
    }));
  }

  async jobStatus(jobId: string) {
    const row = await this.repo.requestByJob(jobId);
    if (!row) throw new AppError(404, ErrorCode.NotFound, `Job ${jobId} not found`);
    const live = await this.queue.view(jobId);
    // Postgres holds the durable outcome; BullMQ the live progress (and may have dropped old jobs).
    const durable = row.status === 'completed' || row.status === 'failed';
    const status = durable ? row.status : (live?.state ?? row.status);
    const packageIds = row.result?.packageIds ?? live?.result?.packageIds ?? [];
    const parts = packageIds.length > 0 ? await this.repo.generationsByIds(packageIds) : [];
    return {
      jobId,
      status,
      progress:
        status === 'completed' ? 100 : durable ? row.progress : (live?.progress ?? row.progress),
      stage:
        status === 'completed'
          ? 'done'
          : durable
            ? (row.stage ?? status)
            : (live?.stage ?? row.stage ?? 'queued'),
      ...(parts[0] && { packageId: parts[0].package_id }),
      ...(parts.length > 1 && { parts: parts.map(partView) }),
      ...(status === 'failed' && { error: row.error ?? live?.failedReason ?? 'build failed' }),
      ...(live && { attempts: live.attemptsMade }),
    };
  }
}

export function partView(g: PublishedGenerationRow) {
  const range = (
    g.manifest.seriesInfo as { contentRange?: { startBook: string; endBook: string } } | undefined
  )?.contentRange;
  return {
    packageId: g.package_id,
    partNumber: g.part_number ?? 1,
    totalParts: g.total_parts ?? 1,
    sizeBytes: Number(g.size_bytes),
    downloadUrl: downloadUrl(g.package_id),
    ...(range && { contentRange: range }),
  };
}

export function summaryView(g: PublishedGenerationRow) {
  return {
    packageId: g.package_id,
    packageType: g.package_type,
    languageEntityId: g.language_entity_id,
    audioVersionId: g.audio_version_id,
    textVersionId: g.text_version_id,
    contentRevision: g.content_revision,
    status: g.status as 'ready' | 'stale',
    sizeBytes: Number(g.size_bytes),
    contentSha256: g.content_sha256,
    seriesId: g.series_id,
    partNumber: g.part_number,
    totalParts: g.total_parts,
    createdAt: new Date(g.created_at).toISOString(),
    downloadUrl: downloadUrl(g.package_id),
  };
}

export function readyView(generations: PublishedGenerationRow[]) {
  const first = generations[0];
  return {
    packageId: first.package_id,
    status: 'ready' as const,
    downloadUrl: downloadUrl(first.package_id),
    manifest: first.manifest,
    ...(generations.length > 1 || first.series_id ? { parts: generations.map(partView) } : {}),
  };
}
