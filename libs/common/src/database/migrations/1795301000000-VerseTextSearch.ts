import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Full-text search inside a text version (GET /v1/text-versions/{id}/search). An expression GIN
 * index rather than a generated tsvector column: change_log and sync payloads carry whole rows
 * (to_jsonb), and a stored vector would bloat both. The `simple` configuration (lower-cased
 * words, no stemming, no stop words) works for every language the catalog holds; queries must
 * use the same expression, to_tsvector('simple', verse_text), to use the index.
 */
export class VerseTextSearch1795301000000 implements MigrationInterface {
  name = 'VerseTextSearch1795301000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX idx_verse_texts_search ON verse_texts USING gin (to_tsvector('simple', verse_text))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX idx_verse_texts_search`);
  }
}
