import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:public';
/** Marks a route or controller as reachable without a token (health, metrics, keys, OpenAPI). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
