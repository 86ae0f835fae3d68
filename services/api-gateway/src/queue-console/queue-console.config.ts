import { z } from 'zod';
import { port } from '@bible/common';

/**
 * The queue console (Bull Board) on an internal listener of the gateway. Off unless
 * QUEUE_CONSOLE_PORT is set; never on the public port. It binds to loopback by default, which
 * `kubectl port-forward` reaches and nothing else in the cluster does.
 */
export const queueConsoleEnv = {
  QUEUE_CONSOLE_PORT: port.optional(),
  QUEUE_CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  QUEUE_CONSOLE_USER: z.string().min(1).default('admin'),
  /** Basic-auth password (from a Secret); required when the console is on. */
  QUEUE_CONSOLE_PASSWORD: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Retry, promote, clean, pause, add and remove are refused (405) unless this is false. */
  QUEUE_CONSOLE_READ_ONLY: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
};

type QueueConsoleConfig = z.infer<z.ZodObject<typeof queueConsoleEnv>> & { GATEWAY_PORT: number };

/** Cross-field rules of the console settings, as `NAME: message` lines. */
export function queueConsoleProblems(c: QueueConsoleConfig): string[] {
  if (c.QUEUE_CONSOLE_PORT === undefined) return [];
  const problems: string[] = [];
  if (!c.QUEUE_CONSOLE_PASSWORD)
    problems.push('QUEUE_CONSOLE_PASSWORD: is required when QUEUE_CONSOLE_PORT is set');
  if (c.QUEUE_CONSOLE_PORT === c.GATEWAY_PORT)
    problems.push('QUEUE_CONSOLE_PORT: must differ from GATEWAY_PORT (the console is internal)');
  return problems;
}
