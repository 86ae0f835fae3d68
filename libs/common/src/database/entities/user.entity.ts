import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { USER_ROLES, sqlIn, type UserRole } from '../constants';
import { TimestampedRecord } from './content-record';

/**
 * Known users. Ids are JWT `sub` values; other tables store user ids without a foreign key so a
 * valid token from the identity provider works before (or without) a row here, and audit columns
 * survive a user's removal.
 */
@Entity('users')
@Check('chk_users_role', sqlIn('role', USER_ROLES))
export class User extends TimestampedRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_users' })
  id!: string;

  @Column('text', { name: 'display_name', nullable: true })
  displayName!: string | null;

  @Column('text', { default: 'user' })
  role!: UserRole;
}
