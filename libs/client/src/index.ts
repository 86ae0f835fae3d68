// Public API of @bible/client, the reference offline client (docs/client.md).
export * from './api';
