import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AppError, DATA_SOURCE, ErrorCode, setChangeContext } from '@bible/common';
import { returning } from '@bible/content';
import { ContentCache } from './content-cache';

export const PUBLISHABLE = {
  'text-versions': { table: 'text_versions', label: 'Text version' },
  'audio-versions': { table: 'audio_versions', label: 'Audio version' },
  'bible-versions': { table: 'bible_versions', label: 'Bible version' },
  'media-files': { table: 'media_files', label: 'Media file' },
} as const;
export type Publishable = keyof typeof PUBLISHABLE;

export interface PublishResult {
  id: string;
  publishStatus: string;
  changed: boolean;
  version: number;
  updatedAt: string;
}

/**
 * Publish / unpublish. One transaction that records who and why (setChangeContext), so the
 * change_log triggers feed it to sync and package invalidation like any other change; a request
 * that does not change the status writes nothing.
 */
@Injectable()
export class PublishingService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly cache: ContentCache,
  ) {}

  async setStatus(
    kind: Publishable,
    id: string,
    status: 'published' | 'draft',
    userId: string,
  ): Promise<PublishResult> {
    const { table, label } = PUBLISHABLE[kind];
    const result = await this.db.transaction(async (manager) => {
      await setChangeContext(manager, { userId, changeSource: 'api' });
      const rows = await manager.query<
        { publish_status: string; upload_status?: string; version: number; updated_at: Date }[]
      >(`SELECT * FROM ${table} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
      const current = rows[0];
      if (!current) throw new AppError(404, ErrorCode.NotFound, `${label} ${id} not found`);
      if (current.publish_status === status) {
        return {
          id,
          publishStatus: status,
          changed: false,
          version: current.version,
          updatedAt: new Date(current.updated_at).toISOString(),
        };
      }
      if (
        kind === 'media-files' &&
        status === 'published' &&
        current.upload_status !== 'completed'
      ) {
        throw new AppError(409, ErrorCode.Conflict, `${label} ${id} has no completed upload`, [
          { field: 'id', message: `upload status is ${current.upload_status}` },
        ]);
      }
      const [updated] = await returning<{ version: number; updated_at: Date }>(
        manager,
        `UPDATE ${table} SET publish_status = $2 WHERE id = $1 RETURNING version, updated_at`,
        [id, status],
      );
      return {
        id,
        publishStatus: status,
        changed: true,
        version: updated.version,
        updatedAt: new Date(updated.updated_at).toISOString(),
      };
    });
    if (result.changed) await this.cache.invalidate();
    return result;
  }
}
