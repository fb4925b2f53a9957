// Moving a process into a cgroup (every container start writes cgroup.procs) takes the kernel's
// cgroup_threadgroup_rwsem for writing. By default that waits for an RCU grace period: 10-25 ms
// per start on the test machines, most of `crun create`. The cgroup2 mount option
// `favordynmods` keeps the lock in its writer-friendly mode (cheap moves, slightly dearer
// forks), which is the trade a container host wants; systemd sets it for the same reason.
// The option lives on the cgroup2 root and applies to the whole machine, v1 hierarchies too.
import { run, CommandError } from '../../../shared/exec';
import type { Logger } from '../../../shared/log';
import { readMountInfo, type MountEntry } from '../rootfs/mountinfo';

export type FavorPlan =
  | { action: 'none'; reason: string }
  | { action: 'remount'; mountPoint: string };

/** What to do, from the mount table: remount the cgroup2 root with favordynmods unless it has it. */
export function planFavorDynmods(mounts: MountEntry[]): FavorPlan {
  const v2 = mounts.find((m) => m.fsType === 'cgroup2' && m.root === '/');
  if (!v2) return { action: 'none', reason: 'no cgroup2 mount' };
  if (v2.superOptions.includes('favordynmods')) return { action: 'none', reason: 'already set' };
  return { action: 'remount', mountPoint: v2.mountPoint };
}

/**
 * Set favordynmods on the cgroup2 mount once, at daemon start. A kernel without the option
 * (before 6.0) refuses the remount; shoald then runs as before, only slower to start containers.
 * The remount keeps the mount's other options: mount(8) merges them from the mount table.
 */
export async function favorDynamicModifications(log: Logger): Promise<boolean> {
  const plan = planFavorDynmods(await readMountInfo());
  if (plan.action === 'none') return plan.reason === 'already set';
  try {
    await run('mount', ['-o', 'remount,favordynmods', plan.mountPoint]);
    log.info({ mountPoint: plan.mountPoint }, 'set favordynmods on the cgroup2 mount: moving container processes into cgroups no longer waits for an RCU grace period');
    return true;
  } catch (e) {
    log.warn({ mountPoint: plan.mountPoint, err: e instanceof CommandError ? e.stderr.trim() : String(e) }, 'cannot set favordynmods on the cgroup2 mount; container starts will be slower');
    return false;
  }
}
