export * from './probes';
export * from './public';
export * from './lifecycle';
export * from './operability.module';
export * from './infra.module';
export * from './bootstrap';
export * from './logging';
export * from './service-module';
