// Loaded first: instrumentation must patch http/express/pg/ioredis before they are required.
import { startTelemetry } from '@bible/common/telemetry/otel';

startTelemetry('notifier');
