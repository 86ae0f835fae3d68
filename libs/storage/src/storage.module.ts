import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DependencyProbe } from '@bible/common';
import { createS3Client, pingBucket, type S3Config } from './s3';

export interface S3Handle {
  client: S3Client;
  bucket: string;
}

/** Injection tokens: the process's object-store client and its readiness probe. */
export const S3 = Symbol('S3');
export const S3_PROBE = Symbol('S3_PROBE');

/**
 * The object store as an injectable singleton (`S3`) with its readiness probe (`S3_PROBE`), for
 * the services that use it; the others never open a connection to it.
 */
@Global()
@Module({})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(S3) private readonly s3: S3Handle) {}

  static forRoot(config: S3Config): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        {
          provide: S3,
          useFactory: (): S3Handle => ({
            client: createS3Client(config),
            bucket: config.S3_BUCKET,
          }),
        },
        {
          provide: S3_PROBE,
          inject: [S3],
          useFactory: (handle: S3Handle): DependencyProbe => ({
            name: 'object-store',
            ping: () => pingBucket(handle.client, handle.bucket),
          }),
        },
      ],
      exports: [S3, S3_PROBE],
    };
  }

  /** After every worker closed (onModuleDestroy, see bootstrap): no upload still uses it. */
  onApplicationShutdown(): void {
    this.s3.client.destroy();
  }
}
