import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  tick(detail?: string): void;
  stop(): void;
  log(message: string): void;
}

/** cli-progress bars on a TTY; plain lines otherwise (CI logs, pipes). */
export function progress(enabled = process.stderr.isTTY === true): Progress {
  let bar: SingleBar | undefined;
  let label = '';
  let done = 0;
  let total = 0;
  return {
    start(name, count) {
      bar?.stop();
      label = name;
      done = 0;
      total = count;
      if (enabled) {
        bar = new SingleBar(
          {
            format: `${name.padEnd(18)} {bar} {value}/{total} {detail}`,
            stream: process.stderr,
            hideCursor: true,
          },
          Presets.shades_classic,
        );
        bar.start(count, 0, { detail: '' });
      }
    },
    tick(detail = '') {
      done++;
      if (bar) bar.increment(1, { detail });
      else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) {
        console.error(`${label}: ${done}/${total}${detail ? ` ${detail}` : ''}`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    log(message) {
      if (bar) bar.stop();
      console.error(message);
      bar = undefined;
    },
  };
}
