import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, type FeedPosition } from '@bible/common';
import {
  APPLIED_DELTA_FROM,
  type PackageParams,
  type PackageRequestRow,
  type PublishedGenerationRow,
  scopeRevision,
} from '@bible/packages';
import type { BookRow, LanguageRow, VersionRow } from '@bible/content';

export type PackageVersion = Pick<
  VersionRow,
  'id' | 'name' | 'language_entity_id' | 'bible_version_id' | 'publish_status'
>;

export type PackageLanguage = Pick<LanguageRow, 'id' | 'name' | 'iso_639_3'>;

export type PackageBook = Pick<BookRow, 'id' | 'osis' | 'testament'>;

/** A request's progress as the job status endpoint shows it. */
export type RequestProgress = Pick<
  PackageRequestRow,
  'id' | 'job_id' | 'status' | 'progress' | 'stage' | 'error' | 'result'
> & { attempts?: number };

/** SQL behind the packages API; set-based and index-backed. */
@Injectable()
export class PackagesRepository {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async language(id: string): Promise<PackageLanguage | null> {
    const rows: PackageLanguage[] = await this.db.query(
      `SELECT id, name, iso_639_3 FROM language_entities WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return rows[0] ?? null;
  }

  async version(kind: 'audio' | 'text', id: string): Promise<PackageVersion | null> {
    const table = kind === 'audio' ? 'audio_versions' : 'text_versions';
    const rows: PackageVersion[] = await this.db.query(
      `SELECT id, name, language_entity_id, bible_version_id, publish_status
         FROM ${table} WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return rows[0] ?? null;
  }

  async books(bibleVersionId: string): Promise<PackageBook[]> {
    return this.db.query(
      `SELECT id, osis, testament FROM books
        WHERE bible_version_id = $1 AND deleted_at IS NULL ORDER BY book_number`,
      [bibleVersionId],
    );
  }

  /** Books that have at least one published audio file in the audio version. */
  async booksWithAudio(audioVersionId: string): Promise<Set<string>> {
    const rows: { book_id: string }[] = await this.db.query(
      `SELECT DISTINCT c.book_id FROM media_files m JOIN chapters c ON c.id = m.chapter_id
        WHERE m.audio_version_id = $1 AND m.deleted_at IS NULL AND m.publish_status = 'published'`,
      [audioVersionId],
    );
    return new Set(rows.map((r) => r.book_id));
  }

  /**
   * The content revision of a scope: the newest change-feed position below the oldest running
   * transaction, so a change still being written cannot be skipped by a later commit.
   */
  async revision(
    params: Pick<PackageParams, 'audioVersionId' | 'textVersionId' | 'packageType'>,
  ): Promise<FeedPosition> {
    return scopeRevision((sql, args) => this.db.query(sql, args), params);
  }

  async readyGenerations(packageKey: string, revision: string): Promise<PublishedGenerationRow[]> {
    return this.db.query(
      `SELECT * FROM package_generations
        WHERE package_key = $1 AND content_revision = $2 AND status = 'ready' AND base_revision IS NULL
        ORDER BY part_number NULLS FIRST`,
      [packageKey, revision],
    );
  }

  /** Any generation by id, whatever its status (an update request names what a client holds). */
  async generation(packageId: string): Promise<PublishedGenerationRow | null> {
    const rows: PublishedGenerationRow[] = await this.db.query(
      `SELECT * FROM package_generations WHERE package_id = $1`,
      [packageId],
    );
    return rows[0] ?? null;
  }

  /**
   * A package a client applied from a downloadable delta (whose base is still downloadable),
   * seen as the full package it is: the delta's row with the target's id, audio index and size.
   */
  async appliedFromDelta(packageId: string): Promise<PublishedGenerationRow | null> {
    const rows: PublishedGenerationRow[] = await this.db.query(`SELECT d.* ${APPLIED_DELTA_FROM}`, [
      packageId,
    ]);
    const d = rows[0];
    const index = (d?.manifest.delta as { targetAudioFileIndex?: { size: number }[] } | undefined)
      ?.targetAudioFileIndex;
    if (!d || !index) return null;
    return {
      ...d,
      package_id: packageId,
      base_package_id: null,
      base_revision: null,
      size_bytes: String(index.reduce((n, e) => n + e.size, 0)),
      manifest: { audioFileIndex: index },
    };
  }

  /** The ready delta of a key (of one series part) from `baseRevision` to `revision`, if built. */
  async readyDelta(
    packageKey: string,
    revision: string,
    baseRevision: string,
    partNumber: number | null,
  ): Promise<PublishedGenerationRow | null> {
    const rows: PublishedGenerationRow[] = await this.db.query(
      `SELECT * FROM package_generations
        WHERE package_key = $1 AND content_revision = $2 AND base_revision = $3 AND status = 'ready'
          AND part_number IS NOT DISTINCT FROM $4`,
      [packageKey, revision, baseRevision, partNumber],
    );
    return rows[0] ?? null;
  }

  /**
   * Bytes of the published audio of the books that a package with these file hashes lacks:
   * what a delta from it would carry in its audio section.
   */
  async audioBytesNotIn(
    audioVersionId: string,
    bookIds: string[],
    sha256s: string[],
  ): Promise<number> {
    const rows: { bytes: string }[] = await this.db.query(
      `SELECT COALESCE(sum(file_size), 0)::text AS bytes FROM (
         SELECT DISTINCT m.sha256, m.file_size FROM media_files m JOIN chapters c ON c.id = m.chapter_id
          WHERE m.audio_version_id = $1 AND m.deleted_at IS NULL AND m.publish_status = 'published'
            AND m.upload_status = 'completed' AND c.book_id = ANY($2::text[])
            AND NOT (m.sha256 = ANY($3::text[]))) changed`,
      [audioVersionId, bookIds, sha256s],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  /** The params a package key was requested with (every generation comes from a request). */
  async paramsOfKey(packageKey: string): Promise<PackageParams | null> {
    const rows: { params: PackageParams }[] = await this.db.query(
      `SELECT params FROM package_requests WHERE package_key = $1 ORDER BY created_at DESC LIMIT 1`,
      [packageKey],
    );
    return rows[0]?.params ?? null;
  }

  async countCacheHit(ids: string[]): Promise<void> {
    await this.db.query(
      `UPDATE package_generations SET cache_hits = cache_hits + 1 WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }

  /** A downloadable generation: ready, or stale (superseded but kept until retention removes it). */
  async downloadable(packageId: string): Promise<PublishedGenerationRow | null> {
    const rows: PublishedGenerationRow[] = await this.db.query(
      `SELECT * FROM package_generations WHERE package_id = $1 AND status IN ('ready', 'stale')`,
      [packageId],
    );
    return rows[0] ?? null;
  }

  async generationsByIds(packageIds: string[]): Promise<PublishedGenerationRow[]> {
    return this.db.query(
      `SELECT * FROM package_generations WHERE package_id = ANY($1::text[]) ORDER BY part_number NULLS FIRST`,
      [packageIds],
    );
  }

  async catalog(filter: {
    languageEntityId?: string;
    packageType?: string;
    limit: number;
    after?: { createdAt: string; id: string };
  }): Promise<{ rows: PublishedGenerationRow[]; total: number }> {
    // Deltas are answers to update requests, not catalog entries.
    const where = [`status IN ('ready', 'stale')`, 'base_revision IS NULL'];
    const args: unknown[] = [];
    if (filter.languageEntityId) {
      args.push(filter.languageEntityId);
      where.push(`language_entity_id = $${args.length}`);
    }
    if (filter.packageType) {
      args.push(filter.packageType);
      where.push(`package_type = $${args.length}`);
    }
    const filterArgs = [...args];
    const filterWhere = [...where];
    if (filter.after) {
      args.push(filter.after.createdAt, filter.after.id);
      where.push(`(created_at, id) < ($${args.length - 1}::timestamptz, $${args.length}::uuid)`);
    }
    args.push(filter.limit + 1);
    const rows: PublishedGenerationRow[] = await this.db.query(
      `SELECT * FROM package_generations WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    const [{ total }] = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM package_generations WHERE ${filterWhere.join(' AND ')}`,
      filterArgs,
    );
    return { rows, total };
  }

  /** One request row per client request; the worker updates every row of its job. */
  async recordRequest(input: {
    packageKey: string;
    params: PackageParams;
    requestedBy: string;
    jobId: string;
    basePackageId?: string;
  }): Promise<string> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO package_requests (package_key, params, requested_by, status, job_id, base_package_id)
       VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING id`,
      [
        input.packageKey,
        JSON.stringify(input.params),
        input.requestedBy,
        input.jobId,
        input.basePackageId ?? null,
      ],
    );
    return rows[0].id;
  }

  async deleteRequest(id: string): Promise<void> {
    await this.db.query(`DELETE FROM package_requests WHERE id = $1`, [id]);
  }

  async requestByJob(jobId: string): Promise<RequestProgress | null> {
    const rows: RequestProgress[] = await this.db.query(
      `SELECT id, job_id, status, progress, stage, error, result FROM package_requests
        WHERE job_id = $1 ORDER BY (status IN ('completed', 'failed')) DESC, updated_at DESC LIMIT 1`,
      [jobId],
    );
    return rows[0] ?? null;
  }

  async signingKeys(): Promise<{ key_id: string; public_key: string; public_key_pem: string }[]> {
    return this.db.query(
      `SELECT key_id, public_key, public_key_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at`,
    );
  }
}
