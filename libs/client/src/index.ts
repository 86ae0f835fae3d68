// Public API of @bible/client, the reference offline client (docs/client.md).
export * from './api';
export { OfflineClient, type ClientOptions, type Status } from './client';
export { LocalStore, type OutboxEntry, type OutboxStatus, type Operation } from './store';
export { packageTable, toPackageRow, type Scope } from './mirror';
