import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  AppError,
  ErrorCode,
  type PackageBuildJob,
  QueueName,
  REDIS,
  injectTraceCarrier,
  queueDefaults,
  withTimeout,
  queuePrefix,
  reportQueueDepth,
  stopReportingQueueDepth,
} from '@bible/common';

export type JobState = 'queued' | 'active' | 'completed' | 'failed';

export interface BuildJobView {
  state: JobState;
  progress: number;
  stage: string;
  failedReason?: string;
  attemptsMade: number;
  result?: { packageIds: string[] };
}

/** The gateway's side of the package-build queue: enqueue (deduplicated by job id) and observe. */
@Injectable()
export class BuildQueue implements OnModuleDestroy {
  private readonly queue: Queue<PackageBuildJob>;

  constructor(@Inject(REDIS) redis: Redis) {
    this.queue = new Queue<PackageBuildJob>(QueueName.PackageBuild, {
      prefix: queuePrefix(),
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.PackageBuild],
    });
    // The backlog stays visible while the builders are scaled to zero (KEDA wakes them on it).
    reportQueueDepth(this.queue);
  }

  /**
   * Adds the build unless a job with this id exists: concurrent identical requests share one build.
   * A previously failed job is retried, so asking again after a failure builds again.
   */
  async enqueue(jobId: string, payload: Omit<PackageBuildJob, 'trace'>): Promise<JobState> {
    return withTimeout(
      (async () => {
        const existing = await this.queue.getJob(jobId);
        if (existing) {
          const state = await existing.getState();
          if (state === 'failed') {
            await existing.retry('failed');
            return 'queued';
          }
          if (state !== 'unknown' && state !== 'completed')
            return state === 'active' ? 'active' : 'queued';
          if (state === 'completed') await existing.remove().catch(() => undefined);
        }
        await this.queue.add('build', { ...payload, trace: injectTraceCarrier() }, { jobId });
        return 'queued';
      })(),
      5_000,
      'the job queue',
    ).catch((error: Error) => {
      throw new AppError(
        503,
        ErrorCode.ServiceUnavailable,
        `Could not queue the build: ${error.message}`,
        [],
        {
          'Retry-After': '5',
        },
      );
    });
  }

  async view(jobId: string): Promise<BuildJobView | null> {
    const job: Job<PackageBuildJob> | undefined = await withTimeout(
      this.queue.getJob(jobId),
      3_000,
      'the job queue',
    ).catch(() => undefined);
    if (!job) return null;
    const raw = await job.getState();
    const state: JobState =
      raw === 'active'
        ? 'active'
        : raw === 'completed'
          ? 'completed'
          : raw === 'failed'
            ? 'failed'
            : 'queued';
    const progress = (typeof job.progress === 'object' ? job.progress : {}) as {
      percent?: number;
      stage?: string;
    };
    return {
      state,
      progress: state === 'completed' ? 100 : Math.round(progress.percent ?? 0),
      stage:
        state === 'completed'
          ? 'done'
          : (progress.stage ?? (state === 'queued' ? 'queued' : 'starting')),
      failedReason: job.failedReason || undefined,
      attemptsMade: job.attemptsMade,
      result: job.returnvalue as { packageIds: string[] } | undefined,
    };
  }

  async onModuleDestroy(): Promise<void> {
    stopReportingQueueDepth(this.queue);
    await this.queue.close();
  }
}
