import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { metricsRegistry } from '../telemetry/metrics';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;
const watched = new Set<Queue>();
let gauge: Gauge<'queue' | 'state'> | undefined;

/**
 * Exports `bible_queue_depth{queue,state}` for `queue`, sampled at scrape time. The builders and
 * the gateway both report the package-build queue, so the backlog stays visible (and KEDA can
 * wake builders scaled to zero) while no builder runs; every reporter sees the same counts, so
 * queries take max(), never sum().
 */
export function reportQueueDepth(queue: Queue): void {
  watched.add(queue);
  gauge ??= new Gauge({
    name: 'bible_queue_depth',
    help: 'Jobs in a BullMQ queue by state (sampled at scrape time).',
    labelNames: ['queue', 'state'] as const,
    registers: [metricsRegistry],
    async collect() {
      await Promise.all(
        [...watched].map(async (q) => {
          try {
            const counts = await q.getJobCounts(...STATES);
            for (const [state, n] of Object.entries(counts)) this.set({ queue: q.name, state }, n);
          } catch {
            /* Redis down: keep the last values */
          }
        }),
      );
    },
  });
}

/** Stops reporting `queue` (call before closing it). */
export function stopReportingQueueDepth(queue: Queue): void {
  watched.delete(queue);
}
