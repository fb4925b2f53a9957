import type { NetworkSetupResult } from '../contracts';
import { computeCapabilities } from '../runtime/capabilities';
import type { NamespaceMode, OciDevice, OciRlimit, OciSpecInput } from '../runtime/spec';
import { DEFAULT_PATH } from './merge';
import { ociMountOf } from './mounts';
import type { ContainerRecord } from './types';
import { parseSecurityOpts } from './validate';

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Replace entries with the same key in place, append the rest (moby's ReplaceOrAppendEnvValues). */
export function replaceOrAppendEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const o of overrides) {
    const i = out.findIndex((e) => envKey(e) === envKey(o));
    if (i >= 0) out[i] = o;
    else out.push(o);
  }
  return out;
}

/** The process environment: PATH, HOSTNAME, TERM for a tty, the config's Env, HOME from passwd. */
export function processEnv(opts: { env: string[]; hostname: string; tty: boolean; home: string }): string[] {
  const base = [DEFAULT_PATH, `HOSTNAME=${opts.hostname}`, ...(opts.tty ? ['TERM=xterm'] : [])];
  const env = replaceOrAppendEnv(base, opts.env);
  return env.some((e) => envKey(e) === 'HOME') ? env : [...env, `HOME=${opts.home || '/'}`];
}

export interface SpecContext {
  rootfs: string;
  cgroupsPath: string;
  files: { hosts: string; resolvConf: string; hostname: string };
  network: NetworkSetupResult;
  /** Namespaces joined from other containers (IpcMode/PidMode container:<id>). */
  ipc?: NamespaceMode;
  pid?: NamespaceMode;
  availableCaps: string[];
  nofileHard: number;
  devices: Array<OciDevice & { permissions?: string }>;
  arch?: string;
}

const RLIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** nofile at the machine's hard limit (without CAP_SYS_RESOURCE nothing higher works), plus Ulimits. */
export function rlimitsFor(ulimits: ContainerRecord['HostConfig']['Ulimits'], nofileHard: number): OciRlimit[] {
  const out = new Map<string, OciRlimit>([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', soft: nofileHard, hard: nofileHard }]]);
  for (const u of ulimits ?? []) {
    const type = RLIMIT_NAMES[u.Name];
    if (type) out.set(type, { type, soft: u.Soft, hard: u.Hard });
  }
  return [...out.values()];
}

/** CPU limits: NanoCpus become a CFS quota over a 100 ms period, as dockerd does. */
export function cpuLimits(hc: ContainerRecord['HostConfig']): { cpuQuota?: number; cpuPeriod?: number } {
  if (hc.NanoCpus && hc.NanoCpus > 0) {
    const period = 100_000;
    return { cpuPeriod: period, cpuQuota: Math.round((hc.NanoCpus * period) / 1e9) };
  }
  return { cpuQuota: hc.CpuQuota || undefined, cpuPeriod: hc.CpuPeriod || undefined };
}

/** Docker's default swap: as much again as memory (MemorySwap = 2 x Memory) when unset. */
export function memorySwap(hc: ContainerRecord['HostConfig']): number | undefined {
  if (!hc.Memory) return undefined;
  if (hc.MemorySwap === -1) return -1;
  if (hc.MemorySwap > 0) return hc.MemorySwap;
  return hc.Memory * 2;
}

/** Everything the runtime config needs, from the record and what start-up resolved. */
export function specInputFor(r: ContainerRecord, ctx: SpecContext): OciSpecInput {
  const hc = r.HostConfig;
  const sec = parseSecurityOpts(hc.SecurityOpt);
  const caps = computeCapabilities({ capAdd: hc.CapAdd, capDrop: hc.CapDrop, privileged: hc.Privileged, available: ctx.availableCaps });
  const ro = !!hc.ReadonlyRootfs;
  const fileOpts = ['rbind', 'rprivate', ...(ro ? ['ro'] : [])];
  const mounts = [
    { destination: '/etc/resolv.conf', type: 'bind', source: ctx.files.resolvConf, options: fileOpts },
    { destination: '/etc/hostname', type: 'bind', source: ctx.files.hostname, options: fileOpts },
    { destination: '/etc/hosts', type: 'bind', source: ctx.files.hosts, options: fileOpts },
    ...r.Mounts.map((mp) => ociMountOf(mp, r.shoal.tmpfs?.[mp.Destination])),
  ];
  const network: NamespaceMode = ctx.network.hostNetwork ? { mode: 'host' } : ctx.network.netnsPath ? { mode: 'path', path: ctx.network.netnsPath } : { mode: 'new' };
  const ipc: NamespaceMode = ctx.ipc ?? (hc.IpcMode === 'host' ? { mode: 'host' } : { mode: 'new' });
  const pid: NamespaceMode = ctx.pid ?? (hc.PidMode === 'host' ? { mode: 'host' } : { mode: 'new' });
  const uts: NamespaceMode = hc.UTSMode === 'host' ? { mode: 'host' } : { mode: 'new' };
  const cs = hc.ConsoleSize;
  return {
    rootfs: ctx.rootfs,
    readonlyRootfs: ro,
    args: [r.Path, ...r.Args],
    env: processEnv({ env: r.Config.Env, hostname: r.Config.Hostname, tty: r.Config.Tty, home: r.shoal.user.home }),
    cwd: r.Config.WorkingDir || '/',
    user: { uid: r.shoal.user.uid, gid: r.shoal.user.gid, additionalGids: r.shoal.user.additionalGids },
    terminal: r.Config.Tty,
    ...(r.Config.Tty && cs && cs[0] > 0 && cs[1] > 0 ? { consoleSize: { height: cs[0], width: cs[1] } } : {}),
    hostname: uts.mode === 'host' ? undefined : r.Config.Hostname,
    domainname: uts.mode === 'host' ? undefined : r.Config.Domainname || undefined,
    namespaces: { network, ipc, pid, uts },
    mounts,
    resources: {
      memory: hc.Memory || undefined,
      memorySwap: hc.Memory ? memorySwap(hc) : undefined,
      memoryReservation: hc.MemoryReservation || undefined,
      memorySwappiness: hc.MemorySwappiness ?? undefined,
      oomKillDisable: hc.OomKillDisable ?? undefined,
      cpuShares: hc.CpuShares || undefined,
      ...cpuLimits(hc),
      cpusetCpus: hc.CpusetCpus || undefined,
      cpusetMems: hc.CpusetMems || undefined,
      pidsLimit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : undefined,
    },
    cgroupsPath: ctx.cgroupsPath,
    capabilities: caps,
    privileged: hc.Privileged,
    seccomp: sec.seccomp as OciSpecInput['seccomp'],
    noNewPrivileges: sec.noNewPrivileges,
    shmSize: hc.ShmSize || undefined,
    rlimits: rlimitsFor(hc.Ulimits, ctx.nofileHard),
    oomScoreAdj: hc.OomScoreAdj || undefined,
    sysctls: hc.Sysctls,
    devices: ctx.devices,
    maskedPaths: hc.MaskedPaths ?? undefined,
    readonlyPaths: hc.ReadonlyPaths ?? undefined,
    annotations: { 'io.shoal.container.name': r.Name.slice(1) },
    arch: ctx.arch,
  };
}
