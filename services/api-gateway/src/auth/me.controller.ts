import { Controller, Get } from '@nestjs/common';
import type { AuthUser } from './auth.types';
import { CurrentUser } from './decorators';

@Controller('me')
export class MeController {
  /** The caller's identity as the gateway sees it (lets clients check their token). */
  @Get()
  me(@CurrentUser() user: AuthUser): AuthUser {
    return user;
  }
}
