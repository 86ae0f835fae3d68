import { Check, Column, Entity, Generated, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { EVENT_TYPES, type EventType } from '../../events/types';
import type { TraceCarrier } from '../../queues/queues';
import { sqlIn } from '../constants';

/**
 * The events outbox: written in the transaction of the fact it reports, read in (txid, seq)
 * order below `change_log_safe_xmin()` (gap-free, like change_log) by the notifier and the
 * replay feed.
 */
@Entity('events')
@Check('chk_events_type', sqlIn('type', EVENT_TYPES))
@Unique('uq_events_seq', ['seq'])
@Index('idx_events_txid_seq', ['txid', 'seq'])
@Index('idx_events_type_txid_seq', ['type', 'txid', 'seq'])
@Index('idx_events_undispatched_seq', ['seq'], { where: '"dispatched_at" IS NULL' })
@Index('idx_events_push_undispatched_seq', ['seq'], { where: '"push_dispatched_at" IS NULL' })
@Index('idx_events_created_at', ['createdAt'])
export class EventRecord {
  /** Stable event id; every webhook delivery of the event carries it as `webhook-id`. */
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_events' })
  id!: string;

  /** Insertion order within a transaction (bigint: a string in JS). */
  @Column({ type: 'bigint', generatedIdentity: 'ALWAYS' })
  @Generated('increment')
  seq!: string;

  /** Writing transaction id (`change_log_current_txid()`). */
  @Column('bigint', { default: () => 'change_log_current_txid()' })
  txid!: string;

  @Column('text')
  type!: EventType;

  @Column('jsonb')
  data!: Record<string, unknown>;

  /** The user the event concerns (package requester, conflicting editor), for device push. */
  @Column('text', { name: 'user_id', nullable: true })
  userId!: string | null;

  /** W3C trace carrier of the transaction that wrote the event. */
  @Column('jsonb', { nullable: true })
  trace!: TraceCarrier | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  /** Set by the notifier once the event is fanned out to webhook deliveries. */
  @Column('timestamptz', { name: 'dispatched_at', nullable: true })
  dispatchedAt!: Date | null;

  /** Set by the notifier's push dispatcher once the event has its fan-out job (device push). */
  @Column('timestamptz', { name: 'push_dispatched_at', nullable: true })
  pushDispatchedAt!: Date | null;
}
