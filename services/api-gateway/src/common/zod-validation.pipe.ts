import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { AppError, ErrorCode } from '@bible/common';
import { nulStringPaths } from './pg-types';

/** Validates one argument against a zod schema; failures are 400s with field-level details. */
@Injectable()
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.infer<T> {
    const location = metadata.type === 'custom' ? 'input' : metadata.type;
    // Postgres text cannot hold NUL: refused here for every input, as a field-level 400.
    const nul = nulStringPaths(value);
    if (nul.length > 0)
      throw new AppError(
        400,
        ErrorCode.ValidationFailed,
        'Request validation failed',
        nul.map((path) => ({
          field: [location, ...path].join('.'),
          message: 'must not contain NUL (U+0000) characters',
          code: 'invalid_string',
        })),
      );
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
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
