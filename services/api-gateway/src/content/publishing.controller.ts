import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser, RequireRole } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { idParamsSchema } from './content.schemas';
import { type Publishable, PublishingService } from './publishing.service';

type Params = { id: string };
const params = new ZodValidationPipe(idParamsSchema);

/** Editors publish and unpublish versions and media files (docs/content.md, Publishing). */
@Controller()
@RequireRole('editor')
export class PublishingController {
  constructor(private readonly publishing: PublishingService) {}

  private set(kind: Publishable, id: string, publish: boolean, user: AuthUser) {
    return this.publishing.setStatus(kind, id, publish ? 'published' : 'draft', user.id);
  }

  @Post('text-versions/:id/publish')
  @HttpCode(200)
  publishText(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('text-versions', p.id, true, user);
  }

  @Post('text-versions/:id/unpublish')
  @HttpCode(200)
  unpublishText(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('text-versions', p.id, false, user);
  }

  @Post('audio-versions/:id/publish')
  @HttpCode(200)
  publishAudio(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('audio-versions', p.id, true, user);
  }

  @Post('audio-versions/:id/unpublish')
  @HttpCode(200)
  unpublishAudio(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('audio-versions', p.id, false, user);
  }

  @Post('bible-versions/:id/publish')
  @HttpCode(200)
  publishBible(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('bible-versions', p.id, true, user);
  }

  @Post('bible-versions/:id/unpublish')
  @HttpCode(200)
  unpublishBible(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('bible-versions', p.id, false, user);
  }

  @Post('media-files/:id/publish')
  @HttpCode(200)
  publishMedia(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('media-files', p.id, true, user);
  }

  @Post('media-files/:id/unpublish')
  @HttpCode(200)
  unpublishMedia(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return this.set('media-files', p.id, false, user);
  }
}
