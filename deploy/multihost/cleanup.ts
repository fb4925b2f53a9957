// What a host's shoald leaves on the machine beyond its namespace: containers (stopped through
// the API while it answers), then whatever survives it: processes in its cgroups, mounts under
// its roots, the cgroups themselves.
import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../../shared/client';
import { run } from '../../shared/exec';
import { cgroupDirs, removeCgroup } from '../../worker/engine/runtime/cgroups';
import { mountsUnder } from '../../worker/engine/rootfs/mountinfo';
import { waitGone } from './procs';

/** Stop and remove every container through the API; false when shoald did not answer. */
export async function removeContainersViaApi(socket: string, timeoutMs = 30_000): Promise<boolean> {
  const client = new EngineClient(`unix://${socket}`);
  const signal = AbortSignal.timeout(timeoutMs);
  setMaxListeners(0, signal); // one deadline for every container's calls, all in flight at once
  try {
    const list = await client.get<Array<{ Id: string; State: string }>>('/containers/json', { query: { all: 1 }, signal });
    await Promise.all(
      list.map(async (c) => {
        if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') await client.post(`/containers/${c.Id}/stop`, { query: { t: 2 }, signal }).catch(() => undefined);
        await client.delete(`/containers/${c.Id}`, { query: { force: 1, v: 1 }, signal }).catch(() => undefined);
      }),
    );
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function cgroupTree(dir: string): Promise<string[]> {
  const out = [dir];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) out.push(...(await cgroupTree(join(dir, e.name))));
  return out;
}

/**
 * End every process under the cgroup parent (thawing frozen ones first: a frozen task cannot
 * act on SIGKILL), then remove the cgroups in every hierarchy.
 */
export async function removeCgroupParent(parent: string): Promise<void> {
  const pids = new Set<number>();
  for (const { hierarchy, dir } of await cgroupDirs(parent)) {
    for (const d of await cgroupTree(dir)) {
      if (hierarchy.controllers.includes('freezer')) await fs.writeFile(join(d, 'freezer.state'), 'THAWED').catch(() => undefined);
      if (hierarchy.version === 2) await fs.writeFile(join(d, 'cgroup.freeze'), '0').catch(() => undefined);
      const procs = await fs.readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const p of procs.split('\n').filter(Boolean)) pids.add(Number(p));
    }
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const p of pids) await waitGone(p, 10_000);
  await removeCgroup(parent);
}

/** Unmount everything at or under dir, deepest first; a busy mount is detached lazily. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) {
    const r = await run('umount', [m], { okCodes: [0, 1, 32] });
    if (r.code !== 0 && (await mountsUnder(m)).includes(m)) await run('umount', ['-l', m], { okCodes: [0, 1, 32] });
  }
}
