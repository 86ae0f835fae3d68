import {
  ROOT_CONTEXT,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Span,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { TraceCarrier } from '../queues/queues';

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry SDK. Must run before Nest, pg, ioredis or express are required so their
 * instrumentation can patch them; every service's `main.ts` imports its `instrument.ts` first.
 * Spans are always recorded (so logs carry trace ids and context crosses queues); they are exported
 * only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  // Metrics go through prom-client and logs through pino; without these the SDK would start OTLP
  // metric and log exporters to localhost that retry for seconds at shutdown.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // With an endpoint the SDK builds the batch processor itself, from the OTEL_BSP_* settings
  // (sdk-trace 3's BatchSpanProcessor no longer reads them). Without any processor it would register
  // no tracer provider at all: spans would be non-recording with all-zero ids, so a no-op
  // processor keeps ids real when nothing is exported.
  const exporting = endpoint
    ? { traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }) }
    : { spanProcessors: [new NoopSpanProcessor()] };
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': serviceName,
      'service.namespace': 'bible-packages',
    }),
    ...exporting,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? ''),
      }),
      // A span per middleware (request id, body parser, access log...) on every request cost more
      // than the request's own work and said nothing; routers and handlers keep theirs.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
}

export async function shutdownTelemetry(): Promise<void> {
  const current = sdk;
  sdk = undefined;
  await current?.shutdown().catch(() => undefined);
}

/** Serialises the active trace context (W3C traceparent) into a job payload. */
export function injectTraceCarrier(): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
}

/** The W3C traceparent of the active span, if there is one. */
export function traceparentHeader(): string | undefined {
  return injectTraceCarrier().traceparent;
}

/**
 * Runs `fn` in the trace context carried by a job payload without starting a span: for log lines
 * written about a job outside its processor (BullMQ's `failed` event, for one).
 */
export function inCarrierContext<T>(carrier: TraceCarrier | undefined, fn: () => T): T {
  return context.with(propagation.extract(ROOT_CONTEXT, { ...(carrier ?? {}) }), fn);
}

/** Runs `fn` inside a span whose parent is the trace carried by a job payload. */
export async function withSpanFromCarrier<T>(
  name: string,
  carrier: TraceCarrier | undefined,
  fn: (span: Span) => Promise<T>,
  attributes: Record<string, string | number | boolean> = {},
): Promise<T> {
  const parent = propagation.extract(context.active(), { ...(carrier ?? {}) });
  const tracer = trace.getTracer('bible-packages');
  return tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: 2, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `fn` in a child span of the active context. */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  attributes: Record<string, string | number | boolean> = {},
): Promise<T> {
  return withSpanFromCarrier(name, undefined, fn, attributes);
}

export function currentTraceIds(): { trace_id?: string; span_id?: string } {
  const ctx = trace.getSpan(context.active())?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
