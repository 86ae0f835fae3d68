export * from './stack';
export * from './service-process';
export * from './local-servers';
export * from './http';
export * from './otlp-receiver';
export * from './tcp-proxy';
export * from './webhook-receiver';
export * from './push-fakes';
