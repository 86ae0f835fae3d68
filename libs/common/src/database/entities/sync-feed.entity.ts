import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** Where the change-feed relay (sync-service) stands: the last relayed change_log position. */
@Entity('sync_relay_state')
@Check('chk_sync_relay_state_position', `"txid" >= 0 AND "change_id" >= 0`)
export class SyncRelayState {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_sync_relay_state' })
  name!: string;

  @Column('bigint', { default: 0 })
  txid!: string;

  @Column('bigint', { name: 'change_id', default: 0 })
  changeId!: string;

  /** changed_at of the last relayed change (relay lag = now - this while there is a backlog). */
  @Column('timestamptz', { name: 'last_changed_at', nullable: true })
  lastChangedAt!: Date | null;

  @Column('bigint', { name: 'relayed_count', default: 0 })
  relayedCount!: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}

/**
 * Per sync scope, the newest change_log position deleted by retention: a pull cursor below it is
 * expired (the client resyncs from a package).
 */
@Entity('change_log_horizons')
@Check(
  'chk_change_log_horizons_scope_column',
  `"scope_column" IN ('audio_version_id', 'text_version_id')`,
)
export class ChangeLogHorizon {
  @PrimaryColumn('text', {
    name: 'scope_column',
    primaryKeyConstraintName: 'pk_change_log_horizons',
  })
  scopeColumn!: 'audio_version_id' | 'text_version_id';

  @PrimaryColumn('text', { name: 'scope_id', primaryKeyConstraintName: 'pk_change_log_horizons' })
  scopeId!: string;

  @Column('bigint')
  txid!: string;

  @Column('bigint', { name: 'change_id' })
  changeId!: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}
