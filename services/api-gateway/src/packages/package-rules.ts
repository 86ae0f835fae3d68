import type { ErrorDetail } from '@bible/common';
import type { PackageParams } from '@bible/packages';
import type { PackageBook } from './packages.repository';

/**
 * Maps requested OSIS ids (any case) to the version's book ids in canonical order, dropping
 * duplicates. Unknown books become field-level errors pointing at their index.
 */
export function resolveBooks(
  requested: string[] | undefined,
  available: PackageBook[],
  withAudio?: Set<string>,
): { books?: string[]; errors: ErrorDetail[] } {
  if (!requested) return { books: undefined, errors: [] };
  const byId = new Map(available.map((b) => [b.id, b]));
  const errors: ErrorDetail[] = [];
  const wanted = new Set<string>();
  requested.forEach((osis, index) => {
    const id = osis.toLowerCase();
    if (!byId.has(id)) {
      errors.push({
        field: `body.books.${index}`,
        message: `unknown book "${osis}" in this Bible version`,
      });
    } else if (withAudio && !withAudio.has(id)) {
      errors.push({
        field: `body.books.${index}`,
        message: `the audio version has no audio for "${osis}"`,
      });
    } else {
      wanted.add(id);
    }
  });
  const books = available.filter((b) => wanted.has(b.id)).map((b) => b.id);
  return { books, errors };
}

/** The version slug used in package ids. */
export function versionSlug(params: PackageParams): string {
  switch (params.packageType) {
    case 'text':
      return params.textVersionId ?? 'text';
    case 'audio':
      return params.audioVersionId ?? 'audio';
    case 'combined':
      return `${params.textVersionId ?? ''}-${params.audioVersionId ?? ''}`;
  }
}

export function isSeries(params: PackageParams): boolean {
  return params.chunking !== undefined;
}
