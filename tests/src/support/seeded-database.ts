import { resetTestDatabase } from '@bible/common/database/testing';
import { testEnv } from '@bible/testing';
import { runSeed } from '../../../scripts/dist/seed/run-seed';

/**
 * Resets the test database, migrates it and seeds the WEB Bible with the John audio (audio
 * is cached under .stack/cache and uploads are skipped when unchanged, so this takes seconds).
 */
export async function seededTestDatabase(): Promise<Record<string, string>> {
  const env = testEnv();
  await resetTestDatabase(env.DATABASE_URL);
  await runSeed({
    databaseUrl: env.DATABASE_URL,
    migrate: true,
    s3: {
      S3_ENDPOINT: env.S3_ENDPOINT,
      S3_REGION: env.S3_REGION,
      S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
      S3_BUCKET: env.S3_BUCKET,
      S3_FORCE_PATH_STYLE: true,
    },
    log: () => undefined,
  });
  return env;
}
