export * from './otel';
export * from './logger';
export * from './metrics';
