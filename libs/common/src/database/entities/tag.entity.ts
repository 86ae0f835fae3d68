import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import { ContentRecord } from './content-record';

@Entity('tags')
@Unique('uq_tags_key_value', ['key', 'value'])
export class Tag extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_tags' })
  id!: string;

  @Column('text')
  key!: string;

  @Column('text')
  value!: string;
}
