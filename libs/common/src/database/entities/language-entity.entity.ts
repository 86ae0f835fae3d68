import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { ContentRecord } from './content-record';
import { Region } from './region.entity';

@Entity('language_entities')
@Check('chk_language_entities_iso_639_1', `"iso_639_1" ~ '^[a-z]{2}$'`)
@Check('chk_language_entities_iso_639_3', `"iso_639_3" ~ '^[a-z]{3}$'`)
@Index('idx_language_entities_region_id', ['regionId'])
@Index('idx_language_entities_iso_639_3', ['iso6393'])
// GIN trigram index (gin_trgm_ops) for `?q=` search; TypeORM cannot express operator classes, so
// the migration owns its definition and the schema builder leaves it alone.
@Index('idx_language_entities_name_trgm', { synchronize: false })
export class LanguageEntity extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_language_entities' })
  id!: string;

  @Column('text')
  name!: string;

  @Column('text', { name: 'iso_639_1', nullable: true })
  iso6391!: string | null;

  @Column('text', { name: 'iso_639_3', nullable: true })
  iso6393!: string | null;

  @Column('text', { name: 'region_id', nullable: true })
  regionId!: string | null;

  @ManyToOne(() => Region, { nullable: true })
  @JoinColumn({ name: 'region_id', foreignKeyConstraintName: 'fk_language_entities_region_id' })
  region?: Relation<Region>;
}
