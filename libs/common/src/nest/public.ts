import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:public';
/** Marks a route or controller as reachable without a token (health, metrics, keys, OpenAPI). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const IS_OPERABILITY = 'operability:route';
/**
 * Marks health and metrics routes: probes and scrapes must keep answering whatever a client
 * behind the same address does, so rate limits skip them.
 */
export const OperabilityRoute = () => SetMetadata(IS_OPERABILITY, true);
