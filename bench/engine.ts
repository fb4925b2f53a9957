// Engine benchmarks: container start to exit against bare crun, shoald's idle RSS, and the
// memory each running container costs outside itself. Figures only; nothing here fails on timing.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from '../shared/exec';
import { startDaemon, loadBusybox, busyboxRootfs, SHOAL, type TestDaemon } from '../test/helpers/daemon';
import { runCli } from '../test/helpers/docker';
import { median, percentile, timeIt, rssBytes, pssBytes, mb, ms } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

/** Bare `crun run` of the same busybox rootfs with limits and a new netns: the baseline. */
async function bareCrun(): Promise<{ once: () => Promise<number>; close: () => Promise<void> }> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-bench-crun-'));
  const rootfs = join(dir, 'rootfs');
  await fs.mkdir(rootfs);
  await run('tar', ['-xf', '-', '-C', rootfs], { input: await busyboxRootfs() });
  await run('crun', ['spec', '-b', dir]);
  const cfg = JSON.parse(await fs.readFile(join(dir, 'config.json'), 'utf8'));
  cfg.process.terminal = false;
  cfg.process.args = ['/bin/true'];
  cfg.root = { path: rootfs, readonly: true };
  cfg.linux.resources = { ...cfg.linux.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 100 } };
  await fs.writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  const state = join(dir, 'state');
  let i = 0;
  return {
    async once() {
      cfg.linux.cgroupsPath = `/shoal-bench/crun-${i}`;
      await fs.writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
      const n = i++;
      return timeIt(() => run('crun', ['--root', state, 'run', '-b', dir, `bench-${process.pid}-${n}`]));
    },
    async close() {
      for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'blkio', 'hugetlb', 'systemd', 'unified']) await fs.rmdir(`/sys/fs/cgroup/${c}/shoal-bench`).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

interface Phases {
  total: number[];
  create: number[];
  start: number[];
  wait: number[];
  remove: number[];
}

/**
 * create + start + wait + delete through the REST API from this one process, each call timed.
 * Back to back, so what the daemon leaves for after an answer (deleting a removed container's
 * files) lands on the next run's figures.
 */
async function apiRun(d: TestDaemon, n: number): Promise<Phases> {
  const p: Phases = { total: [], create: [], start: [], wait: [], remove: [] };
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  for (let i = 0; i < n; i++) {
    const t0 = now();
    const { Id } = await d.client.post<{ Id: string }>('/containers/create', { body: { Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 64 * 1024 * 1024, PidsLimit: 100 } } });
    const t1 = now();
    const waited = d.client.post<{ StatusCode: number }>(`/containers/${Id}/wait`, { query: { condition: 'next-exit' } });
    await d.client.post(`/containers/${Id}/start`);
    const t2 = now();
    const { StatusCode } = await waited;
    const t3 = now();
    if (StatusCode !== 0) throw new Error(`container exited ${StatusCode}`);
    await d.client.delete(`/containers/${Id}`);
    const t4 = now();
    p.total.push(t4 - t0);
    p.create.push(t1 - t0);
    p.start.push(t2 - t1);
    p.wait.push(t3 - t2);
    p.remove.push(t4 - t3);
  }
  return p;
}

async function cliRun(d: TestDaemon, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    times.push(await timeIt(async () => {
      const r = await runCli(process.execPath, [SHOAL, '-H', d.host, 'run', '--rm', 'busybox', 'true']);
      if (r.code !== 0) throw new Error(`shoal run failed: ${r.stderr}`);
    }));
  }
  return times;
}

async function perContainerMemory(d: TestDaemon, k: number): Promise<{ perContainer: number; monitor: number; daemon: number }> {
  const daemonBefore = rssBytes(d.proc.pid!);
  const ids: string[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const { Id } = await d.client.post<{ Id: string }>('/containers/create', { body: { Image: 'busybox', Cmd: ['sleep', '600'] } });
      await d.client.post(`/containers/${Id}/start`);
      ids.push(Id);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const daemonAfter = rssBytes(d.proc.pid!);
    // The monitors are the conmon processes whose pid files the engine keeps.
    const pids = (await run('pgrep', ['-P', '1', '-x', 'conmon'], { okCodes: [0, 1] })).stdout.split('\n').filter(Boolean).map(Number);
    const ours: number[] = [];
    for (const pid of pids) {
      const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (ids.some((id) => cmd.includes(id))) ours.push(pid);
    }
    const monitor = ours.reduce((s, p) => s + pssBytes(p), 0) / Math.max(1, ours.length);
    const daemon = Math.max(0, daemonAfter - daemonBefore) / k;
    return { perContainer: monitor + daemon, monitor, daemon };
  } finally {
    for (const id of ids) await d.client.delete(`/containers/${id}`, { query: { force: 1 } }).catch(() => undefined);
  }
}

export async function engineBench(): Promise<void> {
  const d = await startDaemon({ extraArgs: ['--log-level', 'warn'] });
  try {
    await loadBusybox(d);
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssBytes(d.proc.pid!);
    await apiRun(d, 3); // warm caches
    // The baseline half before and half after, so a machine that gets busier or quieter meanwhile
    // weighs on both.
    const bare = await bareCrun();
    const crun: number[] = [];
    let phases: Phases;
    try {
      for (let i = 0; i < RUNS / 2; i++) crun.push(await bare.once());
      phases = await apiRun(d, RUNS);
      while (crun.length < RUNS) crun.push(await bare.once());
    } finally {
      await bare.close();
    }
    const api = phases.total;
    const cli = await cliRun(d, Math.min(RUNS, 10));
    console.log(`\n== run --rm busybox true, start to exit (${RUNS} runs each; the baseline half before, half after) ==`);
    console.log(`  bare crun run (baseline)      median ${ms(median(crun))}  p90 ${ms(percentile(crun, 90))}`);
    console.log(`  shoald REST create/start/wait/delete  median ${ms(median(api))}  p90 ${ms(percentile(api, 90))}  = ${(median(api) / median(crun)).toFixed(2)}x crun (target <= 2x)`);
    console.log(`    by call, medians: create ${ms(median(phases.create))}, start ${ms(median(phases.start))}, wait ${ms(median(phases.wait))}, delete ${ms(median(phases.remove))}`);
    console.log(`  shoal run --rm (CLI, incl. node start-up)  median ${ms(median(cli))}`);
    await new Promise((r) => setTimeout(r, 2000));
    const worked = rssBytes(d.proc.pid!);
    console.log(`\n== shoald RSS ==\n  idle after start, image loaded: ${mb(idle)} (target <= 80 MB)\n  at rest after the ${RUNS + 3 + Math.min(RUNS, 10)} containers above: ${mb(worked)}`);
    const mem = await perContainerMemory(d, 10);
    console.log(`\n== memory held outside each running container (10 containers) ==`);
    console.log(`  ${mb(mem.perContainer)} per container: monitor (conmon PSS) ${mb(mem.monitor)} + daemon growth ${mb(mem.daemon)} (target <= 2 MB)`);
  } finally {
    await d.destroy();
  }
}
