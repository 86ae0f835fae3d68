import { createHash } from 'node:crypto';
import type { PackageType } from '@bible/common';

export type PackageKind = PackageType;

export const CHUNKING_STRATEGIES = ['size', 'testament', 'book_group'] as const;
export type ChunkingStrategy = (typeof CHUNKING_STRATEGIES)[number];

/** What a client asks for. Everything that changes the bytes of the package is in here. */
export interface PackageParams {
  packageType: PackageKind;
  languageEntityId: string;
  audioVersionId?: string;
  textVersionId?: string;
  /** Lower-case book ids in canonical order; undefined means the whole version. */
  books?: string[];
  chunking?: { strategy: ChunkingStrategy; maxSizeMB?: number };
  /** Opt-in: build even if some audio sources are missing, listing them in the manifest. */
  allowPartial?: boolean;
}

/** Canonical JSON: fixed key order, no undefined values, so equal params hash equally. */
function canonical(params: PackageParams): string {
  return JSON.stringify({
    t: params.packageType,
    l: params.languageEntityId,
    a: params.packageType === 'text' ? null : (params.audioVersionId ?? null),
    x: params.packageType === 'audio' ? null : (params.textVersionId ?? null),
    b: params.books ?? null,
    c: params.chunking
      ? { s: params.chunking.strategy, m: params.chunking.maxSizeMB ?? null }
      : null,
    p: params.allowPartial === true,
  });
}

/**
 * The package key: a hash of the request's content-defining params (never wall-clock time).
 * Together with the content revision it identifies one build.
 */
export function packageKey(params: PackageParams): string {
  return createHash('sha256').update(canonical(params)).digest('hex').slice(0, 24);
}

/** BullMQ job id of the build of `key` at `revision`: identical concurrent requests share it. */
export function buildJobId(key: string, revision: string): string {
  return `pkg-${key}-${revision.replace(/[^0-9a-z]/gi, '_')}`;
}

function slug(value: string, max = 24): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max);
}

/**
 * Stable, file-name-safe package id: `<language>-<version>-<type>-r<revision>[-<key>][-pNofM]`.
 * The key suffix appears when books or chunking narrow the content, so variants never collide.
 */
export function packageIdFor(input: {
  languageCode: string;
  versionSlug: string;
  params: PackageParams;
  revisionId: string;
  key: string;
  part?: { number: number; total: number };
}): string {
  const narrowed =
    input.params.books !== undefined ||
    input.params.chunking !== undefined ||
    input.params.allowPartial === true;
  const parts = [
    slug(input.languageCode, 8),
    slug(input.versionSlug),
    input.params.packageType,
    `r${input.revisionId}`,
    ...(narrowed ? [input.key.slice(0, 10)] : []),
    ...(input.part ? [`p${input.part.number}of${input.part.total}`] : []),
  ];
  return parts.join('-').slice(0, 128);
}

/** Header/manifest packageType numbers (spec): parts add 3. */
export function packageTypeNumber(kind: PackageKind, isPart: boolean): number {
  const base = kind === 'audio' ? 1 : kind === 'text' ? 2 : 3;
  return isPart ? base + 3 : base;
}
