import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import {
  COMPLETE_SESSION_SQL,
  CREATE_SESSION_SQL,
  GET_SESSION_SQL,
  type SessionRow,
} from '@bible/sync';
import { PgService } from './pg';
import type { CompleteSessionBody, CreateSessionBody } from './sync.schemas';

export function sessionView(s: SessionRow) {
  return {
    sessionId: s.id,
    deviceId: s.device_id,
    packageId: s.package_id,
    status: s.status,
    startedAt: s.started_at.toISOString(),
    completedAt: s.completed_at ? s.completed_at.toISOString() : null,
    changesDownloaded: s.changes_downloaded,
    changesUploaded: s.changes_uploaded,
    conflictsCount: s.conflicts_count,
  };
}

/** Sync sessions: one per device sync run, owned by the user who started it. */
@Injectable()
export class SyncSessionsService extends PgService {
  async create(user: AuthUser, body: CreateSessionBody) {
    const { rows } = await this.pool.query<SessionRow>(CREATE_SESSION_SQL, [
      user.id,
      body.deviceId,
      body.packageId ?? null,
      body.cursor ?? null,
    ]);
    return sessionView(rows[0]);
  }

  async get(user: AuthUser, id: string) {
    const { rows } = await this.pool.query<SessionRow>(GET_SESSION_SQL, [id]);
    if (!rows[0] || rows[0].user_id !== user.id) throw notFound(id);
    return sessionView(rows[0]);
  }

  /**
   * Closes an active session. Uploads and conflicts are counted by the server as pushes happen;
   * downloads too when pulls name the session, and the client may report its own total (the
   * larger figure is kept). Completing a closed session again with the same status is a no-op.
   */
  async complete(user: AuthUser, id: string, body: CompleteSessionBody) {
    const { rows } = await this.pool.query<SessionRow>(COMPLETE_SESSION_SQL, [
      id,
      user.id,
      body.status,
      body.changesDownloaded ?? null,
      body.cursor ?? null,
      body.error ?? null,
    ]);
    if (rows[0]) return sessionView(rows[0]);
    const existing = await this.get(user, id);
    if (existing.status === body.status) return existing;
    throw new AppError(409, ErrorCode.Conflict, `Sync session ${id} is already ${existing.status}`);
  }
}

function notFound(id: string): AppError {
  return new AppError(404, ErrorCode.NotFound, `Sync session ${id} not found`);
}
