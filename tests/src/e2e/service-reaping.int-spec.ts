// Services started by a test process (libs/testing startService) die with it, also when it is stopped by a signal (a lane of
// scripts/run-tests.mjs stopped, Ctrl-C): a real gateway against the local stack.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freshTestDataSource } from '@bible/common/database/testing';
import { repoRoot, testEnv } from '@bible/testing';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('services started by a test process', { timeout: 120_000 }, () => {
  before(async () => {
    await (await freshTestDataSource(testEnv().DATABASE_URL)).destroy();
  });

  const leftovers: number[] = [];
  after(() => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`are killed when that process gets ${signal}`, async () => {
      const script = `
        const { startService, testEnv } = require(${JSON.stringify(join(repoRoot, 'libs/testing/dist'))});
        startService('api-gateway', testEnv()).then((s) => console.log('pid ' + s.process.pid));
        setInterval(() => undefined, 1000);`;
      const parent = spawn(process.execPath, ['-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const pid = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no service pid: ${out}`)), 60_000);
        parent.stdout.on('data', () => {
          const match = /pid (\d+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
      });
      leftovers.push(pid);
      assert.ok(alive(pid), 'the gateway runs');
      parent.kill(signal);
      const [code] = (await once(parent, 'exit')) as [number | null];
      assert.equal(code, signal === 'SIGTERM' ? 143 : 130);
      const deadline = Date.now() + 5_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, 'the gateway died with the process that started it');
    });
  }
});
