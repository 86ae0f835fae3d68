import { Controller, Get, Query } from '@nestjs/common';
import { RequireRole } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { type EventsQuery, eventsQuerySchema } from './events.schemas';
import { EventsService } from './events.service';
import './events.openapi';

/** Internal services catch up on events they missed (admins and `service` tokens). */
@Controller('admin/events')
@RequireRole('admin', 'service')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  async list(@Query(new ZodValidationPipe(eventsQuerySchema)) query: EventsQuery) {
    return this.events.page(query);
  }
}
