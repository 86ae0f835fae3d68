import { Client } from 'pg';
import { Redis } from 'ioredis';
import {
  MIGRATIONS_TABLE,
  SETTING_CHANGE_SOURCE,
  SETTING_USER_ID,
  migrations,
} from '@bible/common/database/index';
import { contentCachePrefix } from '@bible/content';

export async function connect(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bible-import' });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to the database (DATABASE_URL): ${(error as Error).message}`, {
      cause: error,
    });
  }
  const rows = await client
    .query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`)
    .catch(() => ({ rows: [] as { name: string }[] }));
  const applied = new Set(rows.rows.map((r) => r.name));
  const pending = migrations.map((m) => m.name).filter((n) => !applied.has(n));
  if (pending.length > 0) {
    await client.end();
    throw new Error(
      `the database schema is not up to date (${pending.length} pending migration(s)): run \`npm run migrate\` first`,
    );
  }
  return client;
}

/** Runs `work` in one transaction attributed to `user` with change source `import`. */
export async function inTransaction<T>(
  client: Client,
  user: string,
  work: () => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT set_config($1, $2, true), set_config($3, $4, true)', [
      SETTING_USER_ID,
      user,
      SETTING_CHANGE_SOURCE,
      'import',
    ]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Tells gateways that content changed (their catalog cache keys embed this generation). Best
 * effort: without Redis the cache expires by its TTL.
 */
export async function invalidateCatalogCache(
  databaseUrl: string,
  redisUrl?: string,
): Promise<void> {
  if (!redisUrl) return;
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.incr(`${contentCachePrefix(databaseUrl)}:generation`);
  } catch {
    /* best effort */
  } finally {
    redis.disconnect();
  }
}

export interface Changes {
  inserted: number;
  updated: number;
}

export const add = (a: Changes, b: Changes): Changes => ({
  inserted: a.inserted + b.inserted,
  updated: a.updated + b.updated,
});
