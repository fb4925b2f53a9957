import { promises as fs, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../shared/exec';
import { errorMessage, unavailable } from '../../../shared/errors';
import type { Logger } from '../../../shared/log';
import { cgroupHierarchies, cgroupModeOf, knownHierarchies, type CgroupMode } from './cgroups';

export type RuntimeName = 'crun' | 'runc';

export interface RuntimeProbe {
  requested: RuntimeName;
  available: Record<RuntimeName, boolean>;
  cgroupMode: CgroupMode;
  /** hugetlb is compiled in and enabled (/proc/cgroups). */
  hugetlbInKernel: boolean;
  /** Some v1 hierarchy carries the hugetlb controller. */
  hugetlbMounted: boolean;
}

export type RuntimeDecision =
  | { action: 'use'; runtime: RuntimeName }
  | { action: 'mount-hugetlb' }
  | { action: 'fallback'; runtime: RuntimeName; reason: string; fix?: string }
  | { action: 'fail'; reason: string };

export const HUGETLB_MOUNT_DIR = '/sys/fs/cgroup/hugetlb';
export const HUGETLB_FIX = `mkdir -p ${HUGETLB_MOUNT_DIR} && mount -t cgroup -o hugetlb cgroup ${HUGETLB_MOUNT_DIR}`;

/**
 * Which runtime to use. crun (1.8) refuses cgroup v1/hybrid machines unless the hugetlb
 * controller has a v1 mount, so: mount it first; if that fails, fall back to runc and say
 * what to run. `mountError` is set on the second pass, after a failed mount attempt.
 */
export function decideRuntime(p: RuntimeProbe, mountError?: string): RuntimeDecision {
  const other: RuntimeName = p.requested === 'crun' ? 'runc' : 'crun';
  if (!p.available[p.requested]) {
    if (p.available[other] && (other === 'runc' || crunUsable(p))) return { action: 'fallback', runtime: other, reason: `${p.requested} is not installed` };
    return { action: 'fail', reason: `no usable OCI runtime: ${p.requested} is not installed${p.available[other] ? '' : `, nor is ${other}`}` };
  }
  if (p.requested === 'runc' || crunUsable(p)) return { action: 'use', runtime: p.requested };
  // crun on a v1/hybrid machine without a hugetlb mount.
  if (p.hugetlbInKernel && mountError === undefined) return { action: 'mount-hugetlb' };
  const reason = p.hugetlbInKernel
    ? `crun needs the hugetlb cgroup v1 controller mounted, and mounting it failed: ${mountError}`
    : 'crun needs the hugetlb cgroup v1 controller, which this kernel does not enable';
  if (p.available.runc) return { action: 'fallback', runtime: 'runc', reason, fix: p.hugetlbInKernel ? HUGETLB_FIX : undefined };
  return { action: 'fail', reason };
}

function crunUsable(p: RuntimeProbe): boolean {
  return p.cgroupMode === 'v2' || p.cgroupMode === 'none' || p.hugetlbMounted;
}

/** Find an executable on PATH or in the sbin directories (runc lives in /usr/sbin on Debian). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      await fs.access(p, fsc.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function parseProcCgroups(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , , enabled] = line.split(/\s+/);
    out.set(name, enabled === '1');
  }
  return out;
}

async function probe(requested: RuntimeName, paths: Record<RuntimeName, string | undefined>): Promise<RuntimeProbe> {
  const h = await cgroupHierarchies();
  const kernel = parseProcCgroups(await fs.readFile('/proc/cgroups', 'utf8').catch(() => ''));
  return {
    requested,
    available: { crun: !!paths.crun, runc: !!paths.runc },
    cgroupMode: cgroupModeOf(h),
    hugetlbInKernel: kernel.get('hugetlb') === true,
    hugetlbMounted: h.some((x) => x.version === 1 && x.controllers.includes('hugetlb')),
  };
}

async function mountHugetlb(): Promise<void> {
  await fs.mkdir(HUGETLB_MOUNT_DIR, { recursive: true });
  await run('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', HUGETLB_MOUNT_DIR]);
}

/** Settle the runtime at daemon start: mount hugetlb if crun needs it, else fall back to runc. */
export async function selectRuntime(requested: RuntimeName, log: Logger): Promise<{ name: RuntimeName; path: string }> {
  const paths = { crun: await findExecutable('crun'), runc: await findExecutable('runc') };
  let p = await probe(requested, paths);
  let d = decideRuntime(p);
  if (d.action === 'mount-hugetlb') {
    let mountError: string | undefined;
    try {
      await mountHugetlb();
      log.info({ dir: HUGETLB_MOUNT_DIR }, 'mounted the hugetlb cgroup controller for crun');
    } catch (e) {
      mountError = errorMessage(e);
    }
    p = await probe(requested, paths);
    d = decideRuntime(p, mountError ?? (p.hugetlbMounted ? undefined : 'the mount did not appear'));
  }
  await knownHierarchies(true);
  switch (d.action) {
    case 'use':
      return { name: d.runtime, path: paths[d.runtime]! };
    case 'fallback':
      log.warn({ reason: d.reason, fix: d.fix }, d.fix ? `falling back to ${d.runtime}: ${d.reason}; to use crun, run as root: ${d.fix}` : `falling back to ${d.runtime}: ${d.reason}`);
      return { name: d.runtime, path: paths[d.runtime]! };
    case 'fail':
      throw unavailable(d.reason);
    default:
      throw unavailable('runtime selection did not settle');
  }
}
