import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { getLogger } from '@bible/common';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';

const PREFIX = 'bible-builder-';

/**
 * The folder this process assembles packages in: `BUILD_TMP_DIR/bible-builder-<pid>`. A builder
 * killed mid-build cannot remove its folders, so each one, at start, removes the folders of
 * processes that no longer run (and its own pid's, left by an earlier container run). Builders
 * sharing BUILD_TMP_DIR on one host never remove each other's live work.
 */
@Injectable()
export class BuildWorkspace implements OnModuleInit {
  private readonly dir: string;

  constructor(@Inject(BUILDER_CONFIG) private readonly config: BuilderConfig) {
    this.dir = join(config.BUILD_TMP_DIR, `${PREFIX}${process.pid}`);
  }

  root(): string {
    return this.dir;
  }

  async onModuleInit(): Promise<void> {
    const removed = await removeAbandonedWorkspaces(this.config.BUILD_TMP_DIR);
    if (removed.length > 0)
      getLogger().info({ removed }, 'removed build folders of builders that no longer run');
    await mkdir(this.dir, { recursive: true });
  }
}

/** Removes `bible-builder-<pid>` folders under `base` whose process is gone or is this one. */
export async function removeAbandonedWorkspaces(base: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(base).catch(() => [])) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : NaN);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid !== process.pid && isRunning(pid)) continue;
    await rm(join(base, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
