export * from './types';
export * from './record';
export * from './envelope';
export * from './cursor';
export * from './feed';
export * from './retention';
