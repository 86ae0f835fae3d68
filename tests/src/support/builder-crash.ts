import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { type S3Config, createS3Client, parseMember } from '@bible/storage';
import {
  type RunningService,
  type TcpProxy,
  eventually,
  startService,
  startTcpProxy,
} from '@bible/testing';
import { seededTestDatabase } from './seeded-database';

/**
 * The stack of a test that interrupts a builder mid-upload: the seeded test database, a gateway,
 * a TCP proxy in front of the object store (a builder started with `S3_ENDPOINT: proxy.url` can
 * be throttled), and the object store and Redis clients to see what an attempt left behind.
 */
export class BuilderCrashStack {
  readonly builders: RunningService[] = [];

  private constructor(
    readonly env: Record<string, string>,
    readonly gateway: RunningService,
    readonly proxy: TcpProxy,
    readonly s3: S3Client,
    readonly redis: Redis,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<BuilderCrashStack> {
    const stackEnv = { ...(await seededTestDatabase()), ...env };
    const s3 = createS3Client({ ...stackEnv, S3_FORCE_PATH_STYLE: true } as unknown as S3Config);
    const redis = new Redis(stackEnv.REDIS_URL);
    await redis.del(`${stackEnv.QUEUE_PREFIX}:uploads-in-flight`);
    const proxy = await startTcpProxy(Number(new URL(stackEnv.S3_ENDPOINT).port));
    const gateway = await startService('api-gateway', {
      ...stackEnv,
      // Build rate-limit windows live in the shared Redis for an hour: a second run of the
      // suites within the hour must not be refused.
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    });
    return new BuilderCrashStack(stackEnv, gateway, proxy, s3, redis);
  }

  /** Starts a builder with the stack's environment and `env`; stopped with the stack. */
  async startBuilder(env: Record<string, string> = {}): Promise<RunningService> {
    const builder = await startService('package-builder', { ...this.env, ...env });
    this.builders.push(builder);
    return builder;
  }

  /** The multipart upload a builder has under way (key and upload id), once there is one. */
  async uploadInFlight(): Promise<{ key: string; uploadId: string }> {
    const attempt = await eventually(
      async () => {
        const members = await this.redis.zrange(this.uploadsKey(), 0, -1);
        return members.map((m) => parseMember(m, 0)).find((t) => t.uploadId);
      },
      120_000,
      50,
    );
    return { key: attempt.key, uploadId: attempt.uploadId as string };
  }

  /** Incomplete multipart uploads of an object key. */
  async incompleteUploads(key: string): Promise<{ UploadId?: string }[]> {
    const listed = await this.s3.send(
      new ListMultipartUploadsCommand({ Bucket: this.env.S3_BUCKET, Prefix: key }),
    );
    return listed.Uploads ?? [];
  }

  /** Resolves once no upload attempt is recorded in flight. */
  async noUploadsInFlight(intervalMs: number): Promise<void> {
    await eventually(
      async () => ((await this.redis.zcard(this.uploadsKey())) === 0 ? true : undefined),
      30_000,
      intervalMs,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.gateway.stop('SIGKILL'),
      ...this.builders.map((b) => b.stop('SIGKILL')),
    ]);
    await this.proxy.close();
    this.redis.disconnect();
    this.s3.destroy();
  }

  private uploadsKey(): string {
    return `${this.env.QUEUE_PREFIX}:uploads-in-flight`;
  }
}
