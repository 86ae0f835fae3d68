import type { DynamicModule, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { InfraModule, POSTGRES_PROBE, REDIS_PROBE } from './infra.module';
import { OperabilityModule } from './operability.module';

/** What every service's config.ts holds from databaseEnv and redisEnv. */
export interface ServiceInfraConfig {
  DATABASE_URL: string;
  DATABASE_POOL_MAX: number;
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  REDIS_URL: string;
}

export interface ServiceModuleOptions {
  /** Commands fail at once while Redis is down (request paths; see InfraOptions). */
  redisFailFast?: boolean;
  /** Readiness probes besides Postgres and Redis (e.g. the object store's). */
  probes?: symbol[];
  /** The service's own modules, after Postgres, Redis and the health and metrics endpoints. */
  imports?: ModuleMetadata['imports'];
  providers?: Provider[];
}

/**
 * A service's global root module: Postgres and Redis from its config (InfraModule), health and
 * metrics endpoints with their readiness probes, its validated config provided (and exported)
 * under `token`, then its own modules and providers.
 */
export function serviceModule(
  module: Type,
  serviceName: string,
  token: symbol,
  config: ServiceInfraConfig,
  options: ServiceModuleOptions = {},
): DynamicModule {
  return {
    module,
    global: true,
    imports: [
      InfraModule.forRoot({
        serviceName,
        database: {
          url: config.DATABASE_URL,
          poolMax: config.DATABASE_POOL_MAX,
          statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
        },
        redisUrl: config.REDIS_URL,
        redisFailFast: options.redisFailFast,
      }),
      OperabilityModule.register({
        probes: [POSTGRES_PROBE, REDIS_PROBE, ...(options.probes ?? [])],
      }),
      ...(options.imports ?? []),
    ],
    providers: [{ provide: token, useValue: config }, ...(options.providers ?? [])],
    exports: [token],
  };
}
