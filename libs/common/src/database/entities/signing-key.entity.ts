import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** A package-signing public key published by key id (see migration SigningKeys). */
@Entity('signing_keys')
@Check('chk_signing_keys_algorithm', `"algorithm" IN ('Ed25519')`)
@Check('chk_signing_keys_key_id', `"key_id" ~ '^[A-Za-z0-9._-]{1,64}$'`)
export class SigningKeyRecord {
  @PrimaryColumn('text', { name: 'key_id', primaryKeyConstraintName: 'pk_signing_keys' })
  keyId!: string;

  @Column('text', { default: 'Ed25519' })
  algorithm!: 'Ed25519';

  /** Raw 32-byte public key, base64. */
  @Column('text', { name: 'public_key' })
  publicKey!: string;

  @Column('text', { name: 'public_key_pem' })
  publicKeyPem!: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { name: 'retired_at', nullable: true })
  retiredAt!: Date | null;
}
