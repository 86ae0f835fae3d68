export * from './constants';
export * from './entities';
export { migrations } from './migrations';
export { createDataSource, dataSourceOptions, type DataSourceFactoryOptions } from './data-source';
export { schemaDrift, migrationStatus, type MigrationState } from './drift';
export { setChangeContext, type ChangeContext } from './change-context';
export { pgPool, inTransaction } from './pg';
export { advisoryLocks } from './advisory-locks';
