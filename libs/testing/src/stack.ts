import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..', '..');

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(file)) return env;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/**
 * Environment for integration tests: the local stack's variables (from `.stack/stack.env`, started
 * by `npm test`), with DATABASE_URL pointed at the dedicated test database.
 */
export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const stack = {
    ...readEnvFile(join(repoRoot, '.stack', 'stack.env')),
    ...pickDefined(process.env),
    // Another test database (an integration lane's) brings its own Redis prefix below.
    ...pickDefined({ TEST_DATABASE_URL: overrides.TEST_DATABASE_URL }),
  };
  if (!stack.TEST_DATABASE_URL) {
    throw new Error(
      'TEST_DATABASE_URL is not set: run the tests with `npm test` (it starts the stack)',
    );
  }
  // Queues and rate limits are namespaced per test database so suites never consume each
  // other's jobs (or the dev stack's) through the shared Redis.
  const database = new URL(stack.TEST_DATABASE_URL).pathname
    .slice(1)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');
  return pickDefined({
    ...stack,
    QUEUE_PREFIX: `t-${database}`.slice(0, 40),
    DATABASE_URL: stack.TEST_DATABASE_URL,
    NODE_ENV: 'test',
    LOG_LEVEL: stack.TEST_LOG_LEVEL ?? 'warn',
    ...overrides,
  });
}

function pickDefined(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
