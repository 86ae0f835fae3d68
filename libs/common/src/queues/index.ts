export * from './queues';
export * from './depth';
