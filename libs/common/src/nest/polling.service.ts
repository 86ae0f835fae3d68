import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { getLogger } from '../telemetry/logger';

/**
 * A provider that runs `pass` in a loop from application bootstrap until module destroy (the
 * notifier's claim-and-fan-out dispatchers, the sync-service's change relay). `pass` returns how
 * long to wait before the next pass (0 = go again at once). A failed pass is reported
 * (`passFailed`) and the loop backs off exponentially (`backoffMs`). `wake()` ends the current
 * wait, or skips the next one when a pass is running; shutdown wakes a sleeping loop and waits
 * for the running pass.
 */
export abstract class PollingService implements OnApplicationBootstrap, OnModuleDestroy {
  #stopping = false;
  #loop?: Promise<void>;
  #endSleep?: () => void;
  #wakePending = false;
  #failures = 0;

  readonly #name: string;

  protected constructor(name: string) {
    this.#name = name;
  }

  /** One pass; returns how long to wait before the next. */
  protected abstract pass(): Promise<number>;

  /** The wait after `failures` failed passes in a row: 500 ms doubling, up to 10 s. */
  protected backoffMs(failures: number): number {
    return Math.min(10_000, 250 * 2 ** Math.min(failures, 6));
  }

  /**
   * Reports a failed pass: once, then every 50th in a row, so a database outage does not flood
   * the logs.
   */
  protected passFailed(error: unknown, failures: number): void {
    if (failures === 1 || failures % 50 === 0)
      getLogger().warn(
        { err: (error as Error).message, failures },
        `${this.#name} failed; retrying`,
      );
  }

  onApplicationBootstrap(): void {
    this.#loop = this.#run();
  }

  async onModuleDestroy(): Promise<void> {
    this.#stopping = true;
    this.#endSleep?.();
    await this.#loop;
  }

  protected wake(): void {
    this.#wakePending = true;
    this.#endSleep?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        const waitMs = await this.pass();
        this.#failures = 0;
        if (waitMs > 0) await this.#sleep(waitMs);
      } catch (error) {
        this.#failures++;
        this.passFailed(error, this.#failures);
        await this.#sleep(this.backoffMs(this.#failures));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping || this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#endSleep = undefined;
        this.#wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#endSleep = done;
    });
  }
}
