/** A dependency a service needs to be ready (Postgres, Redis, object store...). */
export interface DependencyProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  ping(): Promise<void>;
}

/** Injection token for the list of probes readiness checks. */
export const DEPENDENCY_PROBES = Symbol('DEPENDENCY_PROBES');

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
