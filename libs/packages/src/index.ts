export * from './identity';
export * from './generations';
export * from './rows';
