import { Global, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, getLogger } from '@bible/common';
import type { SigningKey } from '@bible/package-format';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';
import { loadSigningKey, registerPublicKey } from './signing-key';

export const SIGNING_KEY = Symbol('SIGNING_KEY');

@Injectable()
class SigningKeyRegistrar implements OnApplicationBootstrap {
  constructor(
    @Inject(SIGNING_KEY) private readonly key: SigningKey | undefined,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.key) {
      getLogger().warn('no signing key configured: packages will be unsigned (development only)');
      return;
    }
    await registerPublicKey(this.db, this.key);
    getLogger().info({ keyId: this.key.keyId }, 'signing key registered');
  }
}

@Global()
@Module({
  providers: [
    {
      provide: SIGNING_KEY,
      inject: [BUILDER_CONFIG],
      useFactory: (config: BuilderConfig) => loadSigningKey(config),
    },
    SigningKeyRegistrar,
  ],
  exports: [SIGNING_KEY],
})
export class SigningModule {}
