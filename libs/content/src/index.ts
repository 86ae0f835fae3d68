export * from './rows';
export * from './sql';
export * from './media-files';
export * from './verse-timings';
export * from './audio-integrity';
export * from './audio-probe';
export * from './cache-keys';
export * from './catalog.repository';
