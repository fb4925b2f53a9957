// A task's secret and config files on the host: one tmpfs per task under the daemon's exec root
// (<execRoot>/secrets/<task id>), so secret data never reaches a disk. Each file is bind-mounted
// read-only into the container at its target; the tmpfs goes when the container is removed.
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { internal, invalid } from '../../../shared/errors';
import { run } from '../../../shared/exec';
import type { Logger } from '../../../shared/log';
import type { MountRequest } from '../../engine/contracts';
import type { TaskFile } from './plan';

const PAGE = 4096;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The container's binds for a task's files (pure). */
export function bindsFor(dir: string, files: readonly TaskFile[]): MountRequest[] {
  return files.map((f) => ({ Type: 'bind', Source: join(dir, f.hostName), Target: f.target, ReadOnly: true }));
}

/** Bytes the task's tmpfs needs: whole pages per file, plus one page each to spare. */
export function tmpfsSize(files: readonly TaskFile[]): number {
  return files.reduce((n, f) => n + Math.ceil(f.data.length / PAGE) * PAGE + PAGE, PAGE);
}

async function isMountPoint(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(dir), fs.stat(dirname(dir))]);
  return a.dev !== b.dev;
}

export class TaskFileStore {
  constructor(
    readonly root: string,
    private readonly log?: Logger,
  ) {}

  dir(taskId: string): string {
    if (!TASK_ID.test(taskId)) throw invalid(`task ID ${JSON.stringify(taskId)} cannot name a directory`);
    return join(this.root, taskId);
  }

  /**
   * Write the files on a new tmpfs for the task (any earlier one is replaced) and return the
   * container's binds. Nothing is written unless the tmpfs is mounted; on failure nothing stays.
   */
  async prepare(taskId: string, files: readonly TaskFile[]): Promise<MountRequest[]> {
    await this.release(taskId);
    if (!files.length) return [];
    const dir = this.dir(taskId);
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    await fs.mkdir(dir, { mode: 0o700 });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `mode=0700,nosuid,nodev,noexec,size=${tmpfsSize(files)}`, 'shoal-secrets', dir]);
      if (!(await isMountPoint(dir))) throw internal(`${dir} is not a mount point after mounting a tmpfs on it; secrets are not written to disk`);
      for (const f of files) {
        const path = join(dir, f.hostName);
        await fs.writeFile(path, f.data, { mode: 0o600, flag: 'wx' });
        await fs.chown(path, f.uid, f.gid);
        await fs.chmod(path, f.mode);
      }
      // Nothing writes here again; the container's binds are read-only too.
      await run('mount', ['-o', 'remount,ro', dir]);
    } catch (e) {
      await this.release(taskId).catch((err) => this.log?.warn({ task: taskId, err }, 'cannot clean up a task secrets directory'));
      throw e;
    }
    return bindsFor(dir, files);
  }

  /** Unmount and remove the task's directory, if there is one. */
  async release(taskId: string): Promise<void> {
    const dir = this.dir(taskId);
    try {
      await fs.stat(dir);
    } catch {
      return;
    }
    if (await isMountPoint(dir)) {
      await run('umount', [dir], { okCodes: [0, 32] });
      // Busy (a process of ours has it open): detach it now; the kernel frees it when let go.
      if (await isMountPoint(dir)) await run('umount', ['-l', dir]);
      if (await isMountPoint(dir)) throw internal(`cannot unmount ${dir}`);
    }
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** Every task's files (after leaving the swarm, when no task container is left). */
  async releaseAll(): Promise<void> {
    for (const id of await this.taskIds()) await this.release(id);
  }

  /** Tasks that have a directory here. */
  async taskIds(): Promise<string[]> {
    try {
      return (await fs.readdir(this.root)).filter((n) => TASK_ID.test(n));
    } catch {
      return [];
    }
  }
}
