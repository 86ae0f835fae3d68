import { Global, Module } from '@nestjs/common';
import { AuthGuard } from './auth.guard';
import { MeController } from './me.controller';
import { TokenVerifier } from './token-verifier';

@Global()
@Module({
  controllers: [MeController],
  providers: [TokenVerifier, AuthGuard],
  exports: [TokenVerifier, AuthGuard],
})
export class AuthModule {}
