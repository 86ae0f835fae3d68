import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root (scripts/dist/lib → ../../..). */
export const repoRoot = resolve(__dirname, '..', '..', '..');

/**
 * Loads `.stack/stack.env` (written by `npm run stack:up`) into process.env without overriding
 * variables the caller already set, so scripts work both inside and outside the local stack.
 */
export function loadStackEnv(file = join(repoRoot, '.stack', 'stack.env')): void {
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    const [, key, raw] = match;
    const value = raw.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    process.env[key] ??= value;
  }
}
