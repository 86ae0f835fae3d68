import type {
  FactoryProvider,
  InjectionToken,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { REDIS } from '../nest/infra.module';
import { getLogger } from '../telemetry/logger';
import { withSpan } from '../telemetry/otel';
import { type QueuePayloads, QueueName, queueDefaults, queuePrefix } from './queues';

/** The maintenance queue of each service (one per owning service). */
export type MaintenanceQueueName =
  | QueueName.Maintenance
  | QueueName.NotifierMaintenance
  | QueueName.GatewayMaintenance
  | QueueName.SyncMaintenance;

export type MaintenanceTask<Q extends MaintenanceQueueName> = QueuePayloads[Q]['task'];

export interface ScheduledTask {
  /** Interval in ms; 0 or less disables the task (its scheduler is removed). */
  every: number;
  /** Runs one occurrence; a throw fails the job with its message and BullMQ retries it. */
  run: () => Promise<unknown>;
}

export interface MaintenanceOptions {
  /**
   * At most this many jobs of the queue run at once across every replica (BullMQ global
   * concurrency); 1 keeps the tasks of a queue from overlapping each other.
   */
  globalConcurrency?: number;
}

/**
 * Periodic work of one service as BullMQ job schedulers on its maintenance queue: every replica
 * upserts the same schedulers (id = task name) and runs a worker, and each occurrence runs on
 * exactly one replica, whatever the replica count. Occurrences are ordinary jobs: retried with
 * the queue's defaults, failures recorded with their reason, visible in a queue console.
 * Schedulers of tasks this version no longer has are removed.
 */
export class MaintenanceSchedule<Q extends MaintenanceQueueName>
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly connection: Redis;
  // Typed by the task record below; the queue itself only sees `{ task }`.
  private readonly queue: Queue<{ task: string }>;
  private worker?: Worker<{ task: string }>;
  private registering?: Promise<void>;

  constructor(
    private readonly name: Q,
    redis: Redis,
    private readonly tasks: Record<MaintenanceTask<Q>, ScheduledTask>,
    private readonly options: MaintenanceOptions = {},
  ) {
    // Its own connection that waits through Redis outages (a service's shared connection may
    // fail fast for request paths); closed with the schedule.
    this.connection = redis.duplicate({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: true,
    });
    this.connection.on('error', () => undefined);
    this.queue = new Queue<{ task: string }>(name, {
      prefix: queuePrefix(),
      connection: this.connection,
      defaultJobOptions: queueDefaults[name],
    });
    this.queue.on('error', () => undefined);
  }

  /**
   * Starts the worker and registers the schedulers in the background (boot never waits for
   * Redis), again after every reconnect, so a Redis that lost its data gets them back.
   */
  start(): void {
    this.worker = new Worker<{ task: string }>(this.name, (job) => this.process(job), {
      prefix: queuePrefix(),
      connection: this.connection,
      concurrency: 1,
    });
    this.worker.on('error', (error) =>
      getLogger().warn({ err: error.message, queue: this.name }, 'maintenance worker error'),
    );
    this.worker.on('failed', (job, error) =>
      getLogger().warn(
        { err: error.message, queue: this.name, task: job?.data.task, attempt: job?.attemptsMade },
        'maintenance task failed',
      ),
    );
    const register = () => {
      this.registering = this.register().catch((error: Error) =>
        getLogger().warn(
          { err: error.message, queue: this.name },
          'maintenance schedulers not registered',
        ),
      );
    };
    this.connection.on('ready', register);
    if (this.connection.status === 'ready') register();
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Upserts a scheduler per enabled task; removes disabled and unknown ones. */
  async register(): Promise<void> {
    if (this.options.globalConcurrency !== undefined)
      await this.queue.setGlobalConcurrency(this.options.globalConcurrency);
    const tasks = Object.entries(this.tasks) as [MaintenanceTask<Q>, ScheduledTask][];
    for (const [task, { every }] of tasks) {
      if (every > 0) {
        await this.queue.upsertJobScheduler(task, { every }, { name: task, data: { task } });
      } else {
        await this.queue.removeJobScheduler(task);
      }
    }
    const known = new Set<string>(tasks.map(([task]) => task));
    for (const scheduler of await this.queue.getJobSchedulers()) {
      if (!known.has(scheduler.key)) await this.queue.removeJobScheduler(scheduler.key);
    }
  }

  private async process(job: Job<{ task: string }>): Promise<unknown> {
    const task = (this.tasks as Record<string, ScheduledTask | undefined>)[job.data.task];
    if (!task) throw new Error(`unknown maintenance task "${job.data.task}"`);
    // A trace of its own per run, so the task's log lines carry a trace id like a request's.
    return withSpan(`maintenance.${job.data.task}`, () => task.run(), {
      'messaging.system': 'bullmq',
      'messaging.destination.name': this.name,
      'messaging.message.id': job.id ?? '',
    });
  }

  /**
   * Stops taking jobs, waits for the running one, closes the queue and its connection. During a
   * Redis outage the running job could not record its end anyway: the worker closes at once
   * (its job's lock expires and another replica retries it) instead of holding up shutdown.
   */
  async close(): Promise<void> {
    await this.worker?.close(this.connection.status !== 'ready');
    await this.queue.close();
    // Rejects a registration still waiting for Redis, so shutdown never waits for an outage.
    this.connection.disconnect();
    await this.registering;
  }
}

/** The injection token of a service's maintenance schedule. */
export function maintenanceScheduleToken(name: MaintenanceQueueName): string {
  return `maintenance-schedule:${name}`;
}

/**
 * A service's maintenance schedule as a Nest provider: `tasks` receives the injected `inject`
 * providers; the schedule starts after boot and closes (worker, queue, connection) on shutdown.
 */
export function maintenanceScheduleProvider<Q extends MaintenanceQueueName, D extends unknown[]>(
  name: Q,
  inject: InjectionToken[],
  tasks: (...deps: D) => Record<MaintenanceTask<Q>, ScheduledTask>,
  options?: MaintenanceOptions,
): FactoryProvider<MaintenanceSchedule<Q>> {
  return {
    provide: maintenanceScheduleToken(name),
    inject: [REDIS, ...inject],
    useFactory: (redis: Redis, ...deps: D) =>
      new MaintenanceSchedule(name, redis, tasks(...deps), options),
  };
}
