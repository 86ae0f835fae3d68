import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type PackageBuildJob,
  QueueName,
  REDIS,
  getLogger,
  inCarrierContext,
  queueDefaults,
  withSpanFromCarrier,
  workerDefaults,
  queuePrefix,
  lockRenewTime,
  reportQueueDepth,
  stopReportingQueueDepth,
} from '@bible/common';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';
import { failureCode, isPermanent } from './build-events';
import { buildsTotal, queueWait } from './metrics';
import { PackageBuildService, type BuildResult } from './package-build.service';
import { PublishRepository } from './publish.repository';

/** Abort reason of a build stopped because its builder is shutting down. */
class ReleasedForShutdown extends Error {
  constructor() {
    super('the builder is shutting down: the build goes back to the queue');
    this.name = 'ReleasedForShutdown';
  }
}

/**
 * How long running builds may go on after SIGTERM before they are aborted and handed back to the
 * queue: the shutdown timeout minus a margin (at most 10 s) for the abort's clean-up (multipart
 * upload aborted, unpublished objects deleted) and the hand-back, so the process still exits on
 * its own inside the termination grace period.
 */
export function releaseAfterMs(shutdownTimeoutMs: number): number {
  return shutdownTimeoutMs - Math.min(10_000, Math.floor(shutdownTimeoutMs / 2));
}

/**
 * The BullMQ consumer of package builds. Locks are renewed while a build runs; a worker killed
 * mid-build stops renewing, and stalled-job detection hands the job to another worker.
 */
@Injectable()
export class BuildWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<PackageBuildJob, BuildResult>;
  private workerConnection?: Redis;
  private readonly queue: Queue<PackageBuildJob>;
  private readonly aborts = new Map<string, AbortController>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(BUILDER_CONFIG) private readonly config: BuilderConfig,
    private readonly builder: PackageBuildService,
    private readonly repo: PublishRepository,
  ) {
    this.queue = new Queue<PackageBuildJob>(QueueName.PackageBuild, {
      prefix: queuePrefix(),
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.PackageBuild],
    });
    reportQueueDepth(this.queue);
  }

  onApplicationBootstrap(): void {
    // BullMQ needs its own blocking connection per worker; one handed to it stays ours to close.
    this.workerConnection = this.redis.duplicate();
    this.worker = new Worker<PackageBuildJob, BuildResult>(
      QueueName.PackageBuild,
      (job, token) => this.process(job, token),
      {
        prefix: queuePrefix(),
        connection: this.workerConnection,
        concurrency: this.config.BUILDER_CONCURRENCY,
        lockDuration: this.config.BUILDER_LOCK_DURATION_MS,
        lockRenewTime: lockRenewTime(this.config.BUILDER_LOCK_DURATION_MS),
        stalledInterval: Math.min(
          workerDefaults.stalledInterval,
          this.config.BUILDER_LOCK_DURATION_MS,
        ),
        maxStalledCount: workerDefaults.maxStalledCount,
        autorun: true,
      },
    );
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
      // Outside the processor's span, so the line joins the job's trace by its carrier.
      inCarrierContext(job.data.trace, () =>
        getLogger().warn(
          { jobId: job.id, attempt: job.attemptsMade, final, err: error.message },
          'package build failed',
        ),
      );
      // The processor has recorded its own failures already (this is a no-op then); this catches
      // the ones it never saw, such as a job that stalled too often.
      void this.recordFailure(job.id as string, error, job.attemptsMade, final);
    });
    this.worker.on('error', (error) =>
      getLogger().error({ err: error.message }, 'build worker error'),
    );
    // An outage outlasted the lock: the job goes back to the queue, so stop this copy of the
    // build now instead of finishing work whose result BullMQ will refuse ("Missing lock").
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) this.aborts.get(jobId)?.abort(new Error('lost the job lock'));
    });
  }

  private async process(job: Job<PackageBuildJob>, token?: string): Promise<BuildResult> {
    queueWait.observe(
      { queue: QueueName.PackageBuild },
      Math.max(0, ((job.processedOn ?? Date.now()) - job.timestamp) / 1000),
    );
    const jobId = job.id as string;
    return withSpanFromCarrier(
      'package.build',
      job.data.trace,
      async (span) => {
        const request = await this.repo.loadRequest(job.data.requestId);
        if (!request)
          throw new UnrecoverableError(`package request ${job.data.requestId} not found`);
        const base = request.base_package_id
          ? await this.repo.baseGeneration(request.base_package_id)
          : undefined;
        if (base === null) {
          throw new UnrecoverableError(
            `base package ${request.base_package_id} is no longer available; request a full package`,
          );
        }
        const type = request.params.packageType;
        span.setAttribute('package.type', type);
        await this.repo.markActive(jobId, job.attemptsMade + 1);
        const started = Date.now();
        getLogger().info(
          { jobId, requestId: job.data.requestId, type, attempt: job.attemptsMade + 1 },
          'package build started',
        );
        const abort = new AbortController();
        this.aborts.set(jobId, abort);
        let lastWrite = 0;
        let lastReported = '';
        try {
          const result = await this.builder.build({
            requestId: job.data.requestId,
            jobId,
            params: request.params,
            requestedBy: request.requested_by ?? 'system',
            base,
            signal: abort.signal,
            onProgress: async (stage, percent) => {
              // Stages report per chunk; Redis (and SSE clients) only hear of visible changes.
              const rounded = Math.round(percent);
              if (`${stage}:${rounded}` === lastReported) return;
              lastReported = `${stage}:${rounded}`;
              await job.updateProgress({ stage, percent: rounded });
              // Postgres keeps a durable copy, written at most twice a second.
              if (Date.now() - lastWrite > 500) {
                lastWrite = Date.now();
                await this.repo.progress(jobId, stage, percent);
              }
            },
          });
          buildsTotal.inc({ type, status: result.reused ? 'reused' : 'success' });
          getLogger().info(
            {
              jobId,
              packageIds: result.packageIds,
              reused: result.reused,
              durationMs: Date.now() - started,
            },
            'package built',
          );
          return result;
        } catch (error) {
          if (abort.signal.reason instanceof ReleasedForShutdown && token) {
            await this.release(job, token);
            // Tells BullMQ the job has been moved already (no failure, no attempt used).
            throw new WaitingError();
          }
          buildsTotal.inc({ type, status: 'failure' });
          const permanent = isPermanent(error);
          const attempts = job.attemptsMade + 1;
          // Recorded before BullMQ hears of it, so a final failure and its package.failed event
          // are durable even if this process dies before the job is moved to failed.
          await this.recordFailure(
            jobId,
            error,
            attempts,
            permanent || attempts >= (job.opts.attempts ?? 1),
          );
          if (permanent) throw new UnrecoverableError((error as Error).message);
          throw error;
        } finally {
          this.aborts.delete(jobId);
        }
      },
      {
        'messaging.system': 'bullmq',
        'messaging.destination.name': QueueName.PackageBuild,
        'messaging.message.id': jobId,
      },
    );
  }

  /**
   * Hands an aborted build's job back to the queue at once, instead of leaving it locked until the
   * lock expires; the builder's clean-up has already removed what the attempt uploaded.
   */
  private async release(job: Job<PackageBuildJob>, token: string): Promise<void> {
    const jobId = job.id as string;
    try {
      await this.repo.requeue(jobId);
      await job.moveToWait(token);
      getLogger().info({ jobId }, 'package build handed back to the queue (shutting down)');
    } catch (error) {
      // The lock then expires and stalled-job detection hands the job to another builder.
      getLogger().warn(
        { jobId, err: (error as Error).message },
        'could not hand the build back to the queue; it is retried once its lock expires',
      );
    }
  }

  private async recordFailure(
    jobId: string,
    error: unknown,
    attempts: number,
    final: boolean,
  ): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      await this.repo.fail(jobId, { reason, errorCode: failureCode(error), attempts }, final);
    } catch (dbError) {
      getLogger().error(
        { jobId, err: (dbError as Error).message, reason },
        'could not record the build failure',
      );
    }
  }

  /**
   * Stops taking jobs and lets running builds finish; builds still running at releaseAfterMs are
   * aborted and handed back to the queue, so a scaled-in builder exits within its grace period
   * and another builder takes the job at once.
   */
  async onModuleDestroy(): Promise<void> {
    const release = setTimeout(() => {
      if (this.aborts.size > 0)
        getLogger().info(
          { jobIds: [...this.aborts.keys()] },
          'shutdown: aborting unfinished builds to hand them back to the queue',
        );
      for (const abort of this.aborts.values()) abort.abort(new ReleasedForShutdown());
    }, releaseAfterMs(this.config.SHUTDOWN_TIMEOUT_MS));
    try {
      await this.worker?.close();
    } finally {
      clearTimeout(release);
      this.workerConnection?.disconnect();
    }
    stopReportingQueueDepth(this.queue);
    await this.queue.close();
  }
}
