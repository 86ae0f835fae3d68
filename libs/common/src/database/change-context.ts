import type { EntityManager, QueryRunner } from 'typeorm';
import { SETTING_CHANGE_SOURCE, SETTING_USER_ID } from './constants';

export interface ChangeContext {
  /** Recorded as updated_by / changed_by. */
  userId?: string;
  /** Recorded as change_log.change_source, e.g. `api`, `sync`, `seed` (default `server`). */
  changeSource?: string;
}

/**
 * Tells the triggers who is writing and why, for the current transaction only (set_config with
 * is_local = true), so pooled connections never leak the setting to the next user. Call it
 * inside the transaction that writes.
 */
export async function setChangeContext(
  runner: EntityManager | QueryRunner,
  context: ChangeContext,
): Promise<void> {
  await runner.query(`SELECT set_config($1, $2, true), set_config($3, $4, true)`, [
    SETTING_USER_ID,
    context.userId ?? '',
    SETTING_CHANGE_SOURCE,
    context.changeSource ?? '',
  ]);
}
