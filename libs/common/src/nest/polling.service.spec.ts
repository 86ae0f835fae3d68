import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { PollingService } from './polling.service';

/** Runs the passes it is given in order; after the last it waits an hour. */
class Scripted extends PollingService {
  readonly calls: number[] = [];
  readonly failures: number[] = [];
  running = false;

  constructor(private readonly script: (() => Promise<number>)[]) {
    super('scripted');
  }

  protected async pass(): Promise<number> {
    this.calls.push(Date.now());
    const step = this.script[this.calls.length - 1] ?? (() => Promise.resolve(3_600_000));
    this.running = true;
    try {
      return await step();
    } finally {
      this.running = false;
    }
  }

  protected override backoffMs(): number {
    return 20;
  }

  protected override passFailed(_error: unknown, failures: number): void {
    this.failures.push(failures);
  }

  poke(): void {
    this.wake();
  }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await delay(5);
  assert.ok(check(), 'condition not reached in 1 s');
};

describe('PollingService', () => {
  it('goes again at once on 0 and waits the time a pass returns', async () => {
    const loop = new Scripted([async () => 0, async () => 60, async () => 0]);
    loop.onApplicationBootstrap();
    await until(() => loop.calls.length === 4);
    await loop.onModuleDestroy();
    assert.ok(loop.calls[1] - loop.calls[0] < 30);
    assert.ok(loop.calls[2] - loop.calls[1] >= 55);
  });

  it('reports failures in a row with their count and backs off, then resets the count', async () => {
    const fail = () => Promise.reject(new Error('down'));
    const loop = new Scripted([fail, fail, async () => 0, fail]);
    loop.onApplicationBootstrap();
    await until(() => loop.calls.length === 5);
    await loop.onModuleDestroy();
    assert.deepEqual(loop.failures, [1, 2, 1]);
    assert.ok(loop.calls[1] - loop.calls[0] >= 15);
  });

  it('wake() ends a wait, or skips the next one when it comes during a pass', async () => {
    let release!: () => void;
    const loop = new Scripted([
      async () => 3_600_000,
      () => new Promise<number>((r) => (release = () => r(3_600_000))),
    ]);
    loop.onApplicationBootstrap();
    await until(() => loop.calls.length === 1);
    loop.poke();
    await until(() => loop.running);
    loop.poke();
    release();
    await until(() => loop.calls.length === 3);
    await loop.onModuleDestroy();
  });

  it('shutdown wakes a sleeping loop and waits for the running pass', async () => {
    let finished = false;
    const loop = new Scripted([
      async () => {
        await delay(50);
        finished = true;
        return 3_600_000;
      },
    ]);
    loop.onApplicationBootstrap();
    await until(() => loop.running);
    const started = Date.now();
    await loop.onModuleDestroy();
    assert.ok(finished, 'the running pass finished before shutdown returned');
    assert.ok(Date.now() - started < 1_000, 'the hour-long wait was cut short');
    assert.equal(loop.calls.length, 1);
  });
});
