import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import {
  AddressRefusedError,
  type Cidr,
  guardedLookup,
  refusedRange,
  urlHost,
} from '@bible/common/egress/address-guard';
import { type AttemptResult, parseRetryAfter } from './schedule';

export interface SendResult extends AttemptResult {
  durationMs: number;
}

export interface SenderOptions {
  allowed: readonly Cidr[];
  timeoutMs: number;
  /** Sockets per origin: the per-endpoint concurrency limit. */
  maxSocketsPerOrigin: number;
  /** Origins whose keep-alive agents are kept; the least recently used is closed beyond it. */
  maxOrigins?: number;
}

/** Response bytes read (and recorded) at most; the rest is discarded with the connection. */
const MAX_RESPONSE_BYTES = 16 * 1024;
const ERROR_TEXT_MAX = 500;

/**
 * POSTs signed webhook bodies. One keep-alive agent per endpoint (bounded, LRU) so a busy endpoint
 * reuses its connections; every new connection resolves its host through the SSRF guard, so the
 * checked address is the connected address (no DNS rebinding). Redirects are never followed.
 */
export class WebhookSender {
  private readonly agents = new Map<string, HttpAgent>();
  private readonly lookup: ReturnType<typeof guardedLookup>;

  constructor(private readonly options: SenderOptions) {
    this.lookup = guardedLookup(options.allowed);
  }

  /**
   * One pool per endpoint (not per origin): endpoints on one host must not queue behind each
   * other's sockets, since each has its own concurrency limit.
   */
  private agentFor(endpoint: string, url: URL): HttpAgent {
    const key = `${endpoint} ${url.origin}`;
    const existing = this.agents.get(key);
    if (existing) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.agents.delete(key);
      this.agents.set(key, existing);
      return existing;
    }
    const options = {
      keepAlive: true,
      keepAliveMsecs: 1_000,
      maxSockets: this.options.maxSocketsPerOrigin,
      maxFreeSockets: this.options.maxSocketsPerOrigin,
      scheduling: 'lifo' as const,
      timeout: 30_000,
      lookup: this.lookup,
    };
    const agent = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    this.agents.set(key, agent);
    const max = this.options.maxOrigins ?? 1_000;
    if (this.agents.size > max) {
      const [oldest, old] = this.agents.entries().next().value as [string, HttpAgent];
      this.agents.delete(oldest);
      old.destroy();
    }
    return agent;
  }

  async send(
    endpoint: string,
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<SendResult> {
    const started = performance.now();
    const finish = (result: AttemptResult): SendResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ statusCode: null, error: 'invalid URL', retryAfterMs: null });
    }
    // Node resolves only names through the agent's lookup; an IP literal is checked here.
    const host = urlHost(target);
    if (isIP(host)) {
      const range = refusedRange(host, this.options.allowed);
      if (range)
        return finish({
          statusCode: null,
          error: new AddressRefusedError(host, host, range).message,
          retryAfterMs: null,
        });
    }
    try {
      const { statusCode, retryAfter, bodyText } = await this.post(endpoint, target, body, headers);
      const ok = statusCode >= 200 && statusCode < 300;
      return finish({
        statusCode,
        error: ok ? null : truncate(`HTTP ${statusCode}${bodyText ? `: ${bodyText}` : ''}`),
        retryAfterMs: parseRetryAfter(retryAfter, Date.now()),
      });
    } catch (error) {
      return finish({ statusCode: null, error: truncate(describe(error)), retryAfterMs: null });
    }
  }

  private post(
    endpoint: string,
    url: URL,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ statusCode: number; retryAfter?: string; bodyText: string }> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        agent: this.agentFor(endpoint, url),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'bible-packages-webhooks/1',
        },
      });
      const timer = setTimeout(
        () => req.destroy(new TimeoutError(this.options.timeoutMs)),
        this.options.timeoutMs,
      );
      const done = (error: Error | null, value?: Parameters<typeof resolve>[0]) => {
        clearTimeout(timer);
        if (error) reject(error);
        else if (value) resolve(value);
      };
      req.once('error', (error) => done(error));
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
          // A receiver streaming a large answer costs the connection, not our memory.
          if (size > MAX_RESPONSE_BYTES * 4) res.destroy();
        });
        const settle = () =>
          done(null, {
            statusCode: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            bodyText: Buffer.concat(chunks).toString('utf8', 0, 200).trim(),
          });
        res.once('end', settle);
        res.once('close', settle);
        res.once('error', (error) => done(error));
      });
      req.end(body);
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

export class TimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

function describe(error: unknown): string {
  if (error instanceof AddressRefusedError || error instanceof TimeoutError) return error.message;
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : (e.message ?? String(error));
}

function truncate(text: string): string {
  return text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX)}…` : text;
}
