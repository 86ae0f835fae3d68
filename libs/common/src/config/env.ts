import { z } from 'zod';

/** Thrown (and turned into a non-zero exit by `loadConfig`) when the environment is invalid. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        const parsed = new URL(value);
        return protocols.includes(parsed.protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

export const port = z.coerce.number().int().min(1).max(65535);

/** Variables every service reads. Service-specific schemas extend these fragments. */
export const baseEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_NAME: z.string().min(1).optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(25_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']).optional(),
  /** Namespace of every Redis key (queues, rate limits): lets several stacks share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'must be 1-40 characters of [a-z0-9_-]')
    .default('bible'),
};

export const databaseEnv = {
  DATABASE_URL: url(['postgres', 'postgresql']),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
};

export const redisEnv = {
  REDIS_URL: url(['redis', 'rediss']),
};

export const s3Env = {
  S3_ENDPOINT: url(['http', 'https']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1),
  S3_SECRET_ACCESS_KEY: z.string().min(1),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
  S3_FORCE_PATH_STYLE: bool.default(true),
};

export const jwtEnv = {
  /** HS256 shared secret; used when JWT_JWKS_URL is not set. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** RS256/ES256 verification through a JWKS endpoint. */
  JWT_JWKS_URL: url(['http', 'https']).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
};

export type EnvShape = Record<string, z.ZodType>;

/**
 * Validates `env` against `shape` once at boot. Returns the typed config or throws a ConfigError
 * naming every invalid variable. Values are never echoed (they may be secrets).
 */
export function parseConfig<S extends EnvShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.join('.') || '(root)',
      message:
        issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
    })),
  );
}

/** parseConfig for process entry points: prints a readable error and exits 1. */
export function loadConfig<S extends EnvShape>(shape: S, service: string): z.infer<z.ZodObject<S>> {
  try {
    return parseConfig(shape);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        JSON.stringify({ level: 'fatal', service, msg: error.message, invalid: error.issues }) +
          '\n',
      );
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
