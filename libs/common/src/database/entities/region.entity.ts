import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { ContentRecord } from './content-record';

@Entity('regions')
@Check('chk_regions_iso_3166_alpha2', `"iso_3166_alpha2" ~ '^[A-Z]{2}$'`)
@Check('chk_regions_iso_3166_alpha3', `"iso_3166_alpha3" ~ '^[A-Z]{3}$'`)
export class Region extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_regions' })
  id!: string;

  @Column('text')
  name!: string;

  @Column('text', { name: 'iso_3166_alpha2', nullable: true })
  iso3166Alpha2!: string | null;

  @Column('text', { name: 'iso_3166_alpha3', nullable: true })
  iso3166Alpha3!: string | null;
}
