import { testEnv } from '@bible/testing';
import { reseedDatabase } from '../../../scripts/dist/seed/run-seed';

/**
 * Resets the test database, migrates it and seeds the WEB Bible with the John audio (audio
 * is cached under .stack/cache and uploads are skipped when unchanged, so this takes seconds).
 */
export async function seededTestDatabase(): Promise<Record<string, string>> {
  const env = testEnv();
  await reseedDatabase(env);
  return env;
}
