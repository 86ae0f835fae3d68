import { FEED_START, type FeedPosition, comparePositions } from '@bible/common';
import type { PackageParams } from './identity';

/** Runs one parameterised statement: a DataSource's, a QueryRunner's or a transaction's query. */
export type RunQuery = (sql: string, args: unknown[]) => Promise<unknown>;

/**
 * The content revision of a package's scope (its text and/or audio version): the newest
 * change-feed position below the oldest running transaction, so a change still being written
 * cannot be skipped by a later commit.
 */
export async function scopeRevision(
  query: RunQuery,
  params: Pick<PackageParams, 'audioVersionId' | 'textVersionId' | 'packageType'>,
): Promise<FeedPosition> {
  const scopes: [string, string | undefined][] = [
    ['text_version_id', params.packageType === 'audio' ? undefined : params.textVersionId],
    ['audio_version_id', params.packageType === 'text' ? undefined : params.audioVersionId],
  ];
  let best = FEED_START;
  for (const [column, value] of scopes) {
    if (!value) continue;
    const rows = (await query(
      `SELECT txid::text AS txid_text, id::text AS id_text FROM change_log
        WHERE ${column} = $1 AND txid < change_log_safe_xmin()
        ORDER BY txid DESC, id DESC LIMIT 1`,
      [value],
    )) as { txid_text: string; id_text: string }[];
    if (rows[0]) {
      const position = { txid: BigInt(rows[0].txid_text), id: BigInt(rows[0].id_text) };
      if (comparePositions(position, best) > 0) best = position;
    }
  }
  return best;
}

/**
 * FROM and WHERE of how a package a client applied from a delta is found: the newest downloadable
 * delta `d` whose target is package id $1, with its base `b` still a downloadable full package.
 */
export const APPLIED_DELTA_FROM = `FROM package_generations d
   JOIN package_generations b ON b.package_id = d.base_package_id
  WHERE d.manifest->'delta'->>'targetPackageId' = $1 AND d.status IN ('ready', 'stale')
    AND b.status IN ('ready', 'stale') AND b.base_revision IS NULL
  ORDER BY d.created_at DESC LIMIT 1`;
