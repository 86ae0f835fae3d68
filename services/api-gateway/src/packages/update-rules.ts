import type { PackageParams } from '@bible/packages';
import type { UpdateReason } from './packages.schemas';

/** What the rules need to know of the package a client holds. */
export interface HeldPackage {
  status: string;
  package_key: string;
  base_revision: string | null;
}

/**
 * Why an update cannot be a delta, or undefined if it can: the base must be a downloadable full
 * package of the same content (type, versions, books, chunking and allowPartial all feed the key);
 * a part of a series gets a delta of that part.
 */
export function deltaObstacle(
  base: HeldPackage | null,
  key: string,
  params: PackageParams,
): UpdateReason | undefined {
  if (!base) return 'base_unknown';
  if (base.base_revision !== null) return 'base_is_delta';
  if (base.package_key !== key) return 'base_other_content';
  if (base.status !== 'ready' && base.status !== 'stale') return 'base_expired';
  if (params.allowPartial) return 'partial_package';
  return undefined;
}

/** A delta is worth it only up to `maxShare` of the full package. */
export function deltaTooLarge(deltaBytes: number, fullBytes: number, maxShare: number): boolean {
  return fullBytes > 0 && deltaBytes > maxShare * fullBytes;
}
