import { z } from 'zod';
import { baseEnv, databaseEnv, loadConfig, port, redisEnv } from '@bible/common';

export const notifierEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  NOTIFIER_PORT: port.default(3003),
};

export type NotifierConfig = z.infer<z.ZodObject<typeof notifierEnv>>;
export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

export function loadNotifierConfig(): NotifierConfig {
  return loadConfig(notifierEnv, 'notifier');
}
