import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { uploadsInFlightKey } from '@bible/common';

/**
 * One recorded multipart upload attempt. `uploadId` is absent while the upload is being created
 * (a crash between CreateMultipartUpload and recording its id leaves only the key).
 */
export interface TrackedUpload {
  /** The sorted-set member, for removal. */
  member: string;
  key: string;
  uploadId?: string;
  startedAt: number;
}

const SEPARATOR = '\n';
const PENDING = 'pending:';

/**
 * The registry of multipart uploads in flight (a Redis sorted set, see `uploadsInFlightKey`),
 * recorded per attempt: two attempts at the same object key (a retry after a crash) are two
 * members, so the retry's clean-up never erases the crashed attempt's record.
 */
export class UploadsInFlight {
  constructor(private readonly redis: Redis) {}

  /** Records an attempt before its upload exists; returns the handle that follows it. */
  async begin(key: string): Promise<UploadAttempt> {
    const pending = `${key}${SEPARATOR}${PENDING}${randomUUID()}`;
    await this.redis.zadd(uploadsInFlightKey(), Date.now(), pending);
    return new UploadAttempt(this.redis, key, pending);
  }

  /** Attempts started before `cutoff` (epoch ms) that were never cleared. */
  async startedBefore(cutoff: number): Promise<TrackedUpload[]> {
    const raw = await this.redis.zrangebyscore(uploadsInFlightKey(), 0, cutoff, 'WITHSCORES');
    const out: TrackedUpload[] = [];
    for (let i = 0; i < raw.length; i += 2) out.push(parseMember(raw[i], Number(raw[i + 1])));
    return out;
  }

  async forget(members: string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(uploadsInFlightKey(), ...members);
  }
}

export class UploadAttempt {
  private members: string[];

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    pending: string,
  ) {
    this.members = [pending];
  }

  /** The upload exists: record its id (then drop the pending record, in one round trip). */
  async created(uploadId: string): Promise<void> {
    const member = `${this.key}${SEPARATOR}${uploadId}`;
    const score = Date.now();
    await this.redis
      .multi()
      .zadd(uploadsInFlightKey(), score, member)
      .zrem(uploadsInFlightKey(), ...this.members)
      .exec();
    this.members = [member];
  }

  /** The upload completed or was aborted: nothing left to sweep. */
  async finished(): Promise<void> {
    await this.redis.zrem(uploadsInFlightKey(), ...this.members);
  }
}

export function parseMember(member: string, startedAt: number): TrackedUpload {
  const at = member.indexOf(SEPARATOR);
  // Members written before uploads were tracked per attempt are a bare key.
  if (at < 0) return { member, key: member, startedAt };
  const key = member.slice(0, at);
  const rest = member.slice(at + 1);
  return rest.startsWith(PENDING)
    ? { member, key, startedAt }
    : { member, key, uploadId: rest, startedAt };
}
