/*
 * Helpers for integration tests that own a throwaway database (TEST_DATABASE_URL). Not exported
 * from the package index: resetting drops everything the connecting role owns.
 */
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source';

export function requireTestDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set: start the stack (scripts/stack/up.sh --deps-only) and export .stack/stack.env',
    );
  }
  return url;
}

/**
 * Empties the test database: drops every object the test role owns (tables, functions, and
 * extensions it created) while extensions installed by the superuser survive, which
 * `DROP SCHEMA public CASCADE` would not allow.
 */
export async function resetTestDatabase(url: string): Promise<void> {
  const client = new Client({ connectionString: url, application_name: 'bible-test-reset' });
  await client.connect();
  try {
    await client.query('DROP OWNED BY CURRENT_USER CASCADE');
    await client.query('CREATE SCHEMA IF NOT EXISTS public');
  } finally {
    await client.end();
  }
}

/** Reset, then an initialized DataSource with every migration applied. */
export async function freshTestDataSource(url = requireTestDatabaseUrl()): Promise<DataSource> {
  await resetTestDatabase(url);
  const dataSource = createDataSource(url, {
    poolMax: 4,
    statementTimeoutMs: 0,
    applicationName: 'bible-test',
    logging: false,
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/**
 * A minimal content graph for trigger and constraint tests: language `eng`, bible version `bv`,
 * John 1:1-3, text versions `tv1`/`tv2`, audio versions `av1`/`av2` (all published).
 */
export async function insertBaseContent(ds: DataSource): Promise<void> {
  await ds.query(`
    INSERT INTO regions (id, name) VALUES ('world', 'World');
    INSERT INTO language_entities (id, name, iso_639_1, iso_639_3, region_id)
      VALUES ('eng', 'English', 'en', 'eng', 'world');
    INSERT INTO bible_versions (id, name, publish_status) VALUES ('bv', 'Protestant', 'published');
    INSERT INTO books (id, name, osis, book_number, bible_version_id, testament)
      VALUES ('john', 'John', 'John', 43, 'bv', 'NT');
    INSERT INTO chapters (id, chapter_number, book_id, total_verses) VALUES ('john-1', 1, 'john', 3);
    INSERT INTO verses (id, chapter_id, verse_number)
      VALUES ('john-1-1', 'john-1', 1), ('john-1-2', 'john-1', 2), ('john-1-3', 'john-1', 3);
    INSERT INTO text_versions (id, language_entity_id, bible_version_id, name, publish_status)
      VALUES ('tv1', 'eng', 'bv', 'Text one', 'published'),
             ('tv2', 'eng', 'bv', 'Text two', 'published');
    INSERT INTO audio_versions (id, language_entity_id, bible_version_id, name, publish_status)
      VALUES ('av1', 'eng', 'bv', 'Audio one', 'published'),
             ('av2', 'eng', 'bv', 'Audio two', 'published');
  `);
}
