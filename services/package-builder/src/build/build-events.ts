import type { NewEventOf, PackageType } from '@bible/common';
import type { PackageRequestRow } from '@bible/packages';
import { AudioSourceError } from './audio-fetcher';

/** A package_requests row completed or failed by a build. */
export type BuildRequest = Pick<PackageRequestRow, 'id' | 'requested_by'>;

/** What `package.ready` needs of a published part. */
export interface PublishedPart {
  packageId: string;
  packageKey: string;
  packageType: PackageType;
  partNumber: number | null;
  totalParts: number | null;
  sizeBytes: number;
  contentSha256: string;
  contentRevision: string;
}

/** A build failure as recorded on the request rows and in `package.failed`. */
export interface BuildFailure {
  reason: string;
  errorCode: string;
  attempts: number;
}

/** Stable class of a build failure (the event's `errorCode`). */
export function failureCode(error: unknown): string {
  if (error instanceof AudioSourceError) return `AUDIO_${error.reason.toUpperCase()}`;
  const message = error instanceof Error ? error.message : String(error);
  if (/no longer (exists|published)/.test(message)) return 'CONTENT_UNAVAILABLE';
  if (/selects no books/.test(message)) return 'NO_BOOKS';
  if (/^package request .* not found$/.test(message)) return 'REQUEST_NOT_FOUND';
  if (/stalled more than allowable limit/.test(message)) return 'STALLED';
  if (/request the full (parts|package)$/.test(message)) return 'DELTA_NOT_POSSIBLE';
  return 'BUILD_ERROR';
}

/** Errors retrying cannot fix: the job fails at once with its reason. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof AudioSourceError) return error.reason !== 'unreadable';
  return ['CONTENT_UNAVAILABLE', 'NO_BOOKS', 'DELTA_NOT_POSSIBLE'].includes(failureCode(error));
}

function requesters(requests: readonly BuildRequest[]): {
  requestIds: string[];
  requestedBy: string[];
  userId: string | null;
} {
  const requestedBy = [
    ...new Set(requests.map((r) => r.requested_by).filter((u): u is string => !!u)),
  ].sort();
  return {
    requestIds: requests.map((r) => r.id).sort(),
    requestedBy,
    // The event's user is the requester when there is exactly one (all of them are in data).
    userId: requestedBy.length === 1 ? requestedBy[0] : null,
  };
}

/** One `package.ready` per published package, every part of a chunked series included. */
export function packageReadyEvents(
  parts: readonly PublishedPart[],
  requests: readonly BuildRequest[],
): NewEventOf<'package.ready'>[] {
  const { requestIds, requestedBy, userId } = requesters(requests);
  return parts.map((p) => ({
    type: 'package.ready',
    userId,
    data: {
      packageId: p.packageId,
      packageKey: p.packageKey,
      type: p.packageType,
      part: p.partNumber,
      partCount: p.totalParts,
      sizeBytes: p.sizeBytes,
      contentSha256: p.contentSha256,
      contentRevision: p.contentRevision,
      requestIds,
      requestedBy,
    },
  }));
}

/** `package.failed` for the request rows a final failure has just failed (none: no event). */
export function packageFailedEvents(
  jobId: string,
  failure: BuildFailure,
  requests: readonly (BuildRequest & { package_key: string })[],
): NewEventOf<'package.failed'>[] {
  if (requests.length === 0) return [];
  const { requestIds, requestedBy, userId } = requesters(requests);
  return [
    {
      type: 'package.failed',
      userId,
      data: {
        packageKey: requests[0].package_key,
        jobId,
        requestIds,
        requestedBy,
        reason: failure.reason,
        errorCode: failure.errorCode,
        attempts: failure.attempts,
      },
    },
  ];
}
