export * from './rules';
export * from './write-sql';
export * from './relay-rules';
export * from './health';
