import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './stack';

export type ServiceName = 'api-gateway' | 'package-builder' | 'sync-service' | 'notifier';

export const portVariable: Record<ServiceName, string> = {
  'api-gateway': 'GATEWAY_PORT',
  'package-builder': 'BUILDER_PORT',
  'sync-service': 'SYNC_PORT',
  notifier: 'NOTIFIER_PORT',
};

/** A free TCP port on loopback (tests run services on their own ports beside the dev stack). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface RunningService {
  name: ServiceName;
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the process wrote (JSON log lines), for assertions and failure messages. */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
let reaping = false;

/**
 * Services die with the test process that started them, also when it is stopped (Ctrl-C, a lane
 * of scripts/run-tests.mjs stopped): otherwise they keep their ports and database connections.
 */
function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (reaping) return;
  reaping = true;
  const killAll = () => {
    for (const c of running) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(signal, () => {
      killAll();
      process.exit(code);
    });
}

/** Spawns a built service (`services/<name>/dist/main.js`) as a real process. */
export function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  port: number,
): RunningService {
  const child = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    cwd: repoRoot,
    env: { ...env, [portVariable[name]]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `url` until it answers `status` (default 200) or the timeout passes. */
export async function waitForStatus(
  url: string,
  status = 200,
  timeoutMs = 60_000,
): Promise<number> {
  const started = Date.now();
  let last = 0;
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      last = res.status;
      await res.arrayBuffer();
      if (res.status === status) return Date.now() - started;
    } catch {
      last = 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** Starts a service and waits until its readiness answers 200; fails with its output otherwise. */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  options: { port?: number; timeoutMs?: number } = {},
): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const service = spawnService(name, env, port);
  try {
    await Promise.race([
      waitForStatus(`${service.url}/health/ready`, 200, options.timeoutMs ?? 60_000),
      service.exited.then((code) => {
        throw new Error(`${name} exited with code ${code} before becoming ready`);
      }),
    ]);
  } catch (error) {
    await service.stop('SIGKILL');
    throw new Error(
      `${(error as Error).message}\n--- ${name} output ---\n${service.output().slice(-5_000)}`,
      { cause: error },
    );
  }
  return service;
}
