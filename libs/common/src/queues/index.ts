export * from './queues';
export * from './maintenance';
export * from './depth';
