export * from './s3';
export * from './storage.module';
export * from './object-socket';
export * from './open-object';
export * from './multipart-upload';
export * from './uploads-in-flight';
export * from './multipart-sweep';
