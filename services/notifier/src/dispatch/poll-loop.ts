import { getLogger } from '@bible/common';

/**
 * A claim-and-fan-out loop shared by the webhook and push dispatchers: runs `pass` until stopped;
 * `pass` returns how long to wait before the next pass (0 = go again at once). Failures back off
 * exponentially (up to 10 s) and log once, then every 50th time, so a database outage does not
 * flood the logs. `stop()` wakes a sleeping loop and waits for the running pass.
 */
export class PollLoop {
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<number>,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const waitMs = await this.pass();
        this.failures = 0;
        if (waitMs > 0) await this.sleep(waitMs);
      } catch (error) {
        this.failures++;
        if (this.failures === 1 || this.failures % 50 === 0)
          getLogger().warn(
            { err: (error as Error).message, failures: this.failures },
            `${this.name} failed; retrying`,
          );
        await this.sleep(Math.min(10_000, 250 * 2 ** Math.min(this.failures, 6)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
