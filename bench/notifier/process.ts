// What both notifier benches need to run the notifier as it runs in the cluster and watch it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@bible/testing';

/**
 * The chart's `notifier.nodeOptions` (helm/bible-packages/values.yaml), so the benches measure
 * memory under the heap settings pods get; `--node-options` on the command line overrides it.
 */
export function notifierNodeOptions(argv: string[] = process.argv): string {
  const i = argv.indexOf('--node-options');
  if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
  const values = readFileSync(join(repoRoot, 'helm/bible-packages/values.yaml'), 'utf8');
  const block = /^notifier:\n((?:[ #].*\n|\n)*)/m.exec(values)?.[1] ?? '';
  const options = /^ {2}nodeOptions: '([^']*)'/m.exec(block)?.[1];
  if (options === undefined) throw new Error('notifier.nodeOptions not found in values.yaml');
  return options;
}

function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

/** Resident memory of a process now. */
export const rssMiB = (pid: number) => statusMiB(pid, 'VmRSS');
/** Peak resident memory of a process so far. */
export const hwmMiB = (pid: number) => statusMiB(pid, 'VmHWM');
