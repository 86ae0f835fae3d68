export * from './error-codes';
export * from './unavailable';
