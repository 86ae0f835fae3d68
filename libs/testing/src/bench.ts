import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './stack';

/** A benchmark's command-line option `--name value`, or its default. */
export function benchArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A numeric `--name value` option. */
export function benchNumber(name: string, fallback: number): number {
  return Number(benchArg(name, String(fallback)));
}

/** The q-quantile (nearest rank) of ascending values; NaN for none. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Count, p50, p95, p99 and max of samples, rounded to 0.1. */
export function latencySummary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    n: s.length,
    p50: round(quantile(s, 0.5)),
    p95: round(quantile(s, 0.95)),
    p99: round(quantile(s, 0.99)),
    max: round(s[s.length - 1] ?? NaN),
  };
}

/** One operation measured in a child process of its own: time and that process's peak RSS. */
export interface ChildResult {
  ms: number;
  maxRssMiB: number;
}

/**
 * Child side: runs the operation and answers its ChildResult on stdout (the process does
 * nothing else, so its maxRSS is the operation's).
 */
export async function measureInChild(operation: () => Promise<void>): Promise<void> {
  const start = process.hrtime.bigint();
  await operation();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const result: ChildResult = { ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(result));
}

/** Parent side: runs `script --child ...args` and reads its ChildResult. */
export function runChild(script: string, ...args: string[]): ChildResult {
  const out = execFileSync(process.execPath, [script, '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as ChildResult;
}

/** The fastest of `n` runs, with every run's time. */
export function best<T extends { ms: number }>(n: number, fn: () => T): T & { runs: number[] } {
  const runs: T[] = [];
  for (let i = 0; i < n; i++) runs.push(fn());
  const min = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { ...min, runs: runs.map((r) => Math.round(r.ms)) };
}

/**
 * Writes a benchmark's report to bench/results/<name>-<ISO time>.json (git-ignored; figures worth
 * keeping go to docs/benchmarks.md) and returns the file's path.
 */
export function writeBenchResults(
  name: string,
  report: unknown,
  at = new Date().toISOString(),
): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
