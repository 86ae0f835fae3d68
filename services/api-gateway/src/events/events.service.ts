import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  decodeEventCursor,
  encodeEventCursor,
  pgPool,
  positionOfEvent,
  readEvents,
  toWebhookPayload,
} from '@bible/common';
import type { EventsQuery } from './events.schemas';

export interface FeedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The replayable event feed (GET /v1/admin/events). */
@Injectable()
export class EventsService {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  async page(query: EventsQuery): Promise<{ items: FeedEvent[]; nextCursor: string | null }> {
    const events = await readEvents(this.pool, {
      after: query.after ? decodeEventCursor(query.after) : null,
      types: query.types,
      limit: query.limit,
    });
    const last = events[events.length - 1];
    return {
      items: events.map((e) => ({ id: e.id, ...toWebhookPayload(e) })),
      // Nothing new: the same cursor, so a consumer polls from where it is.
      nextCursor: last ? encodeEventCursor(positionOfEvent(last)) : (query.after ?? null),
    };
  }
}
