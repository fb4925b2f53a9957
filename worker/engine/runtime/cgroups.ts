import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readMountInfo, type MountEntry } from '../rootfs/mountinfo';
import { precondition } from '../../../shared/errors';
import { readSmallFile, tryReadSmallFile } from '../../../shared/sys/files';

export interface CgroupHierarchy {
  mountPoint: string;
  version: 1 | 2;
  /** v1 controllers (cpu, memory, name=systemd...); empty for the unified hierarchy. */
  controllers: string[];
}

export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none';

/** The cgroup hierarchies mounted on this machine, from mountinfo entries. */
export function hierarchiesFrom(mounts: MountEntry[]): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  const seen = new Set<string>();
  for (const m of mounts) {
    if (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2') continue;
    if (m.root !== '/' || seen.has(m.mountPoint)) continue;
    seen.add(m.mountPoint);
    if (m.fsType === 'cgroup2') out.push({ mountPoint: m.mountPoint, version: 2, controllers: [] });
    else {
      const known = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'pids', 'hugetlb', 'rdma', 'misc']);
      const controllers = m.superOptions.filter((o) => known.has(o) || o.startsWith('name='));
      out.push({ mountPoint: m.mountPoint, version: 1, controllers });
    }
  }
  return out;
}

export function cgroupModeOf(h: CgroupHierarchy[]): CgroupMode {
  const v1 = h.some((x) => x.version === 1 && x.controllers.some((c) => !c.startsWith('name=')));
  const v2 = h.some((x) => x.version === 2);
  if (v1 && v2) return 'hybrid';
  if (v1) return 'v1';
  if (v2) return 'v2';
  return 'none';
}

/** The hierarchies as mounted now, read from the mount table. */
export async function cgroupHierarchies(): Promise<CgroupHierarchy[]> {
  return hierarchiesFrom(await readMountInfo());
}

let known: Promise<CgroupHierarchy[]> | undefined;

/**
 * The hierarchies, read once: they change only when the daemon mounts hugetlb at start, which
 * refreshes them. The mount table grows by two lines per running container, and every start
 * and exit asks.
 */
export function knownHierarchies(refresh = false): Promise<CgroupHierarchy[]> {
  if (refresh || !known) known = cgroupHierarchies();
  return known;
}

/** Where the cgroup `path` ("/shoal/<id>") lives in each hierarchy. */
export async function cgroupDirs(path: string): Promise<Array<{ hierarchy: CgroupHierarchy; dir: string }>> {
  return (await knownHierarchies()).map((hierarchy) => ({ hierarchy, dir: join(hierarchy.mountPoint, path) }));
}

/** The v1 directory of one controller for a cgroup path, if that controller is mounted. */
export async function controllerDir(path: string, controller: string): Promise<string | undefined> {
  const h = (await knownHierarchies()).find((x) => x.version === 1 && x.controllers.includes(controller));
  return h ? join(h.mountPoint, path) : undefined;
}

/**
 * rmdir a cgroup and its children. A container's cgroup seldom has children, so rmdir comes
 * first and the directory is read only when that fails: one system call per hierarchy.
 */
async function rmdirTree(dir: string): Promise<void> {
  // A cgroup whose last tasks are still exiting (or not yet reaped) answers EBUSY for a
  // while; on a loaded machine that can take seconds. So does one with child cgroups.
  const deadline = Date.now() + 15_000;
  let childrenGone = false;
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    try {
      await fs.rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw e;
    }
    if (!childrenGone) {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) await rmdirTree(join(dir, e.name));
      childrenGone = true;
      if (entries.some((e) => e.isDirectory())) continue; // retry at once
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Whether no process is left in the cgroup `path` (a missing cgroup is empty). */
/**
 * Wait until a cgroup v1 freezer reports FROZEN: a runtime's pause can return while the kernel
 * is still FREEZING its tasks (runc waits for it; crun 1.8 does not always). Without a v1
 * freezer hierarchy (cgroup2), the runtime's own answer stands. FAILED_PRECONDITION after `ms`.
 */
export async function waitFrozen(path: string, ms = 2000): Promise<void> {
  const dir = await controllerDir(path, 'freezer');
  if (!dir) return;
  const deadline = Date.now() + ms;
  for (;;) {
    const state = (await fs.readFile(join(dir, 'freezer.state'), 'utf8').catch(() => 'FROZEN')).trim();
    if (state === 'FROZEN') return;
    if (Date.now() >= deadline) throw precondition(`the container's cgroup is still ${state} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function cgroupEmpty(path: string): Promise<boolean> {
  const h = (await knownHierarchies()).find((x) => x.version === 2 || x.controllers.some((c) => !c.startsWith('name=')));
  if (!h) return true;
  return (readSmallFile(join(h.mountPoint, path, 'cgroup.procs')) ?? '').trim() === '';
}

/** Remove the cgroup `path` (and any child cgroups) from every hierarchy. */
export async function removeCgroup(path: string): Promise<void> {
  const errors: string[] = [];
  await Promise.all((await cgroupDirs(path)).map(({ dir }) => rmdirTree(dir).catch((e) => errors.push(`${dir}: ${(e as Error).message}`))));
  if (errors.length) throw new Error(`cannot remove cgroup ${path}: ${errors.join('; ')}`);
}

/** Remove `parent` from every hierarchy if it is empty; a busy or missing one is left alone. */
export async function removeCgroupIfEmpty(parent: string): Promise<void> {
  for (const { dir } of await cgroupDirs(parent)) await fs.rmdir(dir).catch(() => undefined);
}

/** Names of the child cgroups of `parent`, across all hierarchies. */
export async function childCgroups(parent: string): Promise<string[]> {
  const names = new Set<string>();
  for (const { dir } of await cgroupDirs(parent)) {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) names.add(e.name);
  }
  return [...names];
}

/** Parse memory.oom_control ("oom_kill_disable 0\nunder_oom 0\noom_kill 1"). */
export function parseOomControl(text: string): { oomKill: number; underOom: boolean } {
  const kv = new Map(text.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string]));
  return { oomKill: Number(kv.get('oom_kill') ?? 0), underOom: kv.get('under_oom') === '1' };
}

/**
 * Whether the memory cgroup's OOM killer fired: the v1 oom_kill counter, or the unified
 * memory.events oom_kill count.
 */
export async function oomKilled(path: string): Promise<boolean> {
  const mem = await controllerDir(path, 'memory');
  const read = (file: string) => tryReadSmallFile(file) ?? '';
  if (mem) {
    const text = read(join(mem, 'memory.oom_control'));
    if (text && parseOomControl(text).oomKill > 0) return true;
  }
  const unified = (await knownHierarchies()).find((h) => h.version === 2);
  if (unified) {
    const ev = read(join(unified.mountPoint, path, 'memory.events'));
    const m = /^oom_kill (\d+)/m.exec(ev);
    if (m && Number(m[1]) > 0) return true;
  }
  return false;
}

/** PIDs in the cgroup (from the pids or memory controller), for top. */
export async function cgroupPids(path: string): Promise<number[]> {
  for (const c of ['pids', 'memory', 'cpu']) {
    const dir = await controllerDir(path, c);
    if (!dir) continue;
    const text = await fs.readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => undefined);
    if (text !== undefined) return text.split('\n').filter(Boolean).map(Number);
  }
  return [];
}

/** Whether the memory controller accounts swap (memory.memsw.*), which MemorySwap needs. */
export async function swapAccounting(): Promise<boolean> {
  const h = (await knownHierarchies()).find((x) => x.version === 1 && x.controllers.includes('memory'));
  if (!h) return false;
  return fs.access(join(h.mountPoint, 'memory.memsw.limit_in_bytes')).then(() => true, () => false);
}
