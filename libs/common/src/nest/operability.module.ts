import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { DEPENDENCY_PROBES, type DependencyProbe } from './probes';

/**
 * `/health/live`, `/health/ready` and `/metrics` for every service. `probes` lists the injection
 * tokens of the DependencyProbe providers this service's readiness depends on.
 */
@Module({})
export class OperabilityModule {
  static register(options: {
    probes: (string | symbol | (new (...args: never[]) => DependencyProbe))[];
  }): DynamicModule {
    const probesProvider: Provider = {
      provide: DEPENDENCY_PROBES,
      useFactory: (...probes: DependencyProbe[]) => probes,
      inject: options.probes,
    };
    return {
      module: OperabilityModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
      controllers: [HealthController, MetricsController],
      providers: [probesProvider],
    };
  }
}
