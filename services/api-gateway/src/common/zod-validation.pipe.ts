import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { AppError, ErrorCode } from '@bible/common';

/** Validates one argument against a zod schema; failures are 400s with field-level details. */
@Injectable()
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.infer<T> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const location = metadata.type === 'custom' ? 'input' : metadata.type;
    throw new AppError(
      400,
      ErrorCode.ValidationFailed,
      'Request validation failed',
      result.error.issues.map((issue) => ({
        field: [location, ...issue.path.map(String)].join('.'),
        message: issue.message,
        code: issue.code,
      })),
    );
  }
}
