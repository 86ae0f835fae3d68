import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, metricsRegistry, pgPool } from '@bible/common';

interface Backlog {
  undispatched: string;
  undispatched_age: number | null;
  pending: string;
  pending_age: number | null;
  enabled: string;
  disabled: string;
}

/**
 * Backlog gauges, read from Postgres at scrape time (one query, partial/status indexes): events
 * not yet fanned out, deliveries not yet delivered, the age of the oldest of each, and endpoints
 * by state. Every replica reports the same values; alerts take max().
 */
@Injectable()
export class BacklogGauges {
  readonly gauges: Gauge[];

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    const pool: Pool = pgPool(dataSource);
    let pending: Promise<Backlog | undefined> | undefined;
    let at = 0;
    // The gauges share one query per scrape.
    const read = () => {
      if (!pending || Date.now() - at > 1_000) {
        at = Date.now();
        pending = pool
          .query<Backlog>(
            `SELECT (SELECT count(*) FROM events WHERE dispatched_at IS NULL) AS undispatched,
                    (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM events WHERE dispatched_at IS NULL) AS undispatched_age,
                    (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
                    (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM webhook_deliveries WHERE status = 'pending') AS pending_age,
                    (SELECT count(*) FROM webhook_subscriptions WHERE active) AS enabled,
                    (SELECT count(*) FROM webhook_subscriptions WHERE NOT active) AS disabled`,
          )
          .then((r) => r.rows[0])
          .catch(() => undefined);
      }
      return pending;
    };
    const gauge = (
      name: string,
      help: string,
      set: (g: Gauge, b: Backlog) => void,
      labelNames: string[] = [],
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [metricsRegistry],
        async collect() {
          const backlog = await read();
          if (backlog) set(this, backlog);
        },
      });
    this.gauges = [
      gauge(
        'bible_events_undispatched',
        'Events not yet fanned out to webhook deliveries.',
        (g, b) => g.set(Number(b.undispatched)),
      ),
      gauge(
        'bible_events_undispatched_oldest_age_seconds',
        'Age of the oldest event not yet fanned out (0 when none).',
        (g, b) => g.set(b.undispatched_age ?? 0),
      ),
      gauge(
        'bible_webhook_deliveries_pending',
        'Webhook deliveries not yet delivered or given up.',
        (g, b) => g.set(Number(b.pending)),
      ),
      gauge(
        'bible_webhook_deliveries_pending_oldest_age_seconds',
        'Age of the oldest pending webhook delivery (0 when none).',
        (g, b) => g.set(b.pending_age ?? 0),
      ),
      gauge(
        'bible_webhook_endpoints',
        'Webhook subscriptions by state (enabled, disabled).',
        (g, b) => {
          g.set({ state: 'enabled' }, Number(b.enabled));
          g.set({ state: 'disabled' }, Number(b.disabled));
        },
        ['state'],
      ),
    ];
  }
}
