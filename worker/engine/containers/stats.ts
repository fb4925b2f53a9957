import { promises as fs } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { controllerDir } from '../runtime/cgroups';
import { ZERO_TIME } from './present';

// docker stats from the container's cgroup v1 files, /proc/stat and its network namespace.

const USER_HZ_NS = 1e7; // 100 Hz ticks (cpuacct.stat, /proc/stat) in nanoseconds

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsSample {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }> | null };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; failcnt?: number; limit?: number; stats?: Record<string, number> };
  name: string;
  id: string;
  networks?: Record<string, Record<string, number>>;
}

const read = (p: string) => fs.readFile(p, 'utf8').catch(() => undefined);
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s.trim()));

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** The host's total CPU time in ns, from the first line of /proc/stat. */
export function systemCpuNs(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  return line.trim().split(/\s+/).slice(1, 9).reduce((s, v) => s + Number(v), 0) * USER_HZ_NS;
}

/** Interfaces of /proc/<pid>/net/dev (loopback left out, as Docker does). */
export function parseNetDev(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3], tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11] };
  }
  return out;
}

export function emptyCpu(): CpuStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

/** One sample; `running` false gives Docker's all-zero answer for a stopped container. */
export async function sampleStats(o: { id: string; name: string; cgroupPath: string; pid: number; running: boolean; ncpu: number; previous?: StatsSample }): Promise<StatsSample> {
  const base: StatsSample = {
    read: ZERO_TIME,
    preread: o.previous?.read ?? ZERO_TIME,
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpu(),
    precpu_stats: o.previous?.cpu_stats ?? emptyCpu(),
    memory_stats: {},
    name: o.name,
    id: o.id,
  };
  if (!o.running) return base;
  const dir = async (c: string) => (await controllerDir(o.cgroupPath, c)) ?? '/nonexistent';
  const cpuacct = await dir('cpuacct');
  const cpu = await dir('cpu');
  const memory = await dir('memory');
  const pids = await dir('pids');
  const blkio = await dir('blkio');
  const acct = parseKeyValues(await read(join(cpuacct, 'cpuacct.stat')));
  const percpu = (await read(join(cpuacct, 'cpuacct.usage_percpu')))?.trim().split(/\s+/).map(Number);
  const throttle = parseKeyValues(await read(join(cpu, 'cpu.stat')));
  base.read = new Date().toISOString();
  base.cpu_stats = {
    cpu_usage: { total_usage: num(await read(join(cpuacct, 'cpuacct.usage'))) ?? 0, ...(percpu ? { percpu_usage: percpu } : {}), usage_in_kernelmode: (acct.system ?? 0) * USER_HZ_NS, usage_in_usermode: (acct.user ?? 0) * USER_HZ_NS },
    system_cpu_usage: systemCpuNs((await read('/proc/stat')) ?? ''),
    online_cpus: o.ncpu,
    throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
  };
  const limit = num(await read(join(memory, 'memory.limit_in_bytes')));
  base.memory_stats = {
    usage: num(await read(join(memory, 'memory.usage_in_bytes'))),
    max_usage: num(await read(join(memory, 'memory.max_usage_in_bytes'))),
    failcnt: num(await read(join(memory, 'memory.failcnt'))),
    // "No limit" is a huge number in cgroup v1; Docker shows the machine's memory instead.
    limit: limit === undefined ? undefined : Math.min(limit, os.totalmem()),
    stats: parseKeyValues(await read(join(memory, 'memory.stat'))),
  };
  const pidsMax = (await read(join(pids, 'pids.max')))?.trim();
  base.pids_stats = { current: num(await read(join(pids, 'pids.current'))), ...(pidsMax && pidsMax !== 'max' ? { limit: Number(pidsMax) } : {}) };
  const io = (await read(join(blkio, 'blkio.throttle.io_service_bytes_recursive'))) ?? '';
  const ios = io
    .split('\n')
    .map((l) => /^(\d+):(\d+) (\w+) (\d+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ major: Number(m[1]), minor: Number(m[2]), op: m[3].toLowerCase(), value: Number(m[4]) }));
  base.blkio_stats = { io_service_bytes_recursive: ios.length ? ios : null };
  if (o.pid > 0) {
    const dev = await read(`/proc/${o.pid}/net/dev`);
    if (dev) base.networks = parseNetDev(dev);
  }
  return base;
}
