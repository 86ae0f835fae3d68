import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { OperabilityRoute, Public } from './public';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DEPENDENCY_PROBES, type DependencyProbe, withTimeout } from './probes';
import { isShuttingDown } from './lifecycle';

/** Each readiness probe must answer within this budget so readiness flips to 503 in well under 5 s. */
const PROBE_TIMEOUT_MS = 2_000;

@Public()
@OperabilityRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
  ) {}

  /** Liveness: the event loop answers. Never touches dependencies (a DB outage must not restart pods). */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every dependency answers, and the process is not draining. */
  @Get('ready')
  @HealthCheck()
  ready() {
    if (isShuttingDown()) {
      throw new ServiceUnavailableException({ status: 'shutting_down' });
    }
    return this.health.check(
      this.probes.map((probe) => async () => {
        const indicator = this.indicators.check(probe.name);
        const started = Date.now();
        try {
          await withTimeout(probe.ping(), PROBE_TIMEOUT_MS, probe.name);
          return indicator.up({ latencyMs: Date.now() - started });
        } catch (error) {
          return indicator.down({ message: (error as Error).message });
        }
      }),
    );
  }
}
