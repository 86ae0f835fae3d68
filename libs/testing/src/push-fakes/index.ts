export * from './common';
export * from './fcm';
export * from './apns';
export * from './webpush';
