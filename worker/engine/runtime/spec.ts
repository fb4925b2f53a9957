import { defaultSeccompProfile, type SeccompProfile } from './seccomp';

// The parts of the OCI runtime spec (config.json, runtime-spec v1.0.2) that shoal writes.

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciRlimit {
  type: string; // RLIMIT_NOFILE ...
  soft: number;
  hard: number;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient?: string[] };
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    cgroupsPath?: string;
    resources?: OciResources;
    devices?: OciDevice[];
    maskedPaths?: string[];
    readonlyPaths?: string[];
    seccomp?: SeccompProfile;
    sysctl?: Record<string, string>;
  };
  annotations?: Record<string, string>;
}

/** How the container joins a namespace: a fresh one, the host's, or an existing one by path. */
export type NamespaceMode = { mode: 'new' } | { mode: 'host' } | { mode: 'path'; path: string };

export interface OciSpecInput {
  rootfs: string;
  readonlyRootfs?: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  hostname?: string;
  domainname?: string;
  namespaces: { network: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; uts?: NamespaceMode };
  /** User mounts (binds, volumes, tmpfs, /etc/hosts...); one with a default's destination replaces it. */
  mounts?: OciMount[];
  resources?: {
    memory?: number;
    memorySwap?: number; // memory + swap, -1 unlimited
    memoryReservation?: number;
    memorySwappiness?: number;
    oomKillDisable?: boolean;
    cpuShares?: number;
    cpuQuota?: number;
    cpuPeriod?: number;
    cpusetCpus?: string;
    cpusetMems?: string;
    pidsLimit?: number;
  };
  cgroupsPath: string;
  capabilities: string[];
  privileged?: boolean;
  /** 'default' is shoal's profile for the container's capabilities. */
  seccomp: 'default' | 'unconfined' | SeccompProfile;
  noNewPrivileges?: boolean;
  shmSize?: number;
  rlimits?: OciRlimit[];
  oomScoreAdj?: number;
  sysctls?: Record<string, string>;
  devices?: Array<OciDevice & { permissions?: string }>;
  /** Overrides of the masked and read-only /proc and /sys paths (HostConfig.MaskedPaths, ReadonlyPaths). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  annotations?: Record<string, string>;
  arch?: string;
}

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** /proc and /sys entries hidden from containers: they leak host data or control the host. */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The device nodes every container may use (the runtime creates them); everything else is denied. */
const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // net/tun
];

function defaultMounts(input: OciSpecInput): OciMount[] {
  const ro = input.privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${input.shmSize && input.shmSize > 0 ? input.shmSize : DEFAULT_SHM_SIZE}`] },
  ];
}

function namespace(type: OciNamespace['type'], mode: NamespaceMode | undefined): OciNamespace[] {
  const m = mode ?? { mode: 'new' };
  if (m.mode === 'host') return [];
  if (m.mode === 'path') return [{ type, path: m.path }];
  return [{ type }];
}

/** Depth of a path, for mount ordering: parents are mounted before what lies beneath them. */
function depth(p: string): number {
  return p.replace(/\/+$/, '').split('/').length;
}

/**
 * The OCI runtime config for one container: a pure function of what the container manager
 * decided, so every rule here is unit-tested without a runtime.
 */
export function buildOciSpec(input: OciSpecInput): OciSpec {
  const caps = input.capabilities;
  const userMounts = input.mounts ?? [];
  const taken = new Set(userMounts.map((m) => m.destination.replace(/\/+$/, '') || '/'));
  // A user mount at a default's place replaces it, and one over /dev (or /sys) replaces
  // the defaults beneath it too.
  const defaults = defaultMounts(input).filter((m) => ![...taken].some((t) => m.destination === t || (t !== '/' && m.destination.startsWith(`${t}/`))));
  const mounts = [...defaults, ...[...userMounts].sort((a, b) => depth(a.destination) - depth(b.destination))];

  const r = input.resources ?? {};
  const resources: OciResources = { devices: input.privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES] };
  const memory: NonNullable<OciResources['memory']> = {};
  if (r.memory && r.memory > 0) memory.limit = r.memory;
  if (r.memoryReservation && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  if (r.memorySwap !== undefined && r.memorySwap !== 0) memory.swap = r.memorySwap;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) resources.memory = memory;
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.cpuShares && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpuQuota && r.cpuQuota > 0) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) resources.pids = { limit: r.pidsLimit };
  for (const d of input.devices ?? []) {
    if (d.type === 'c' || d.type === 'b') resources.devices!.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions ?? 'rwm' });
  }

  let seccomp: SeccompProfile | undefined;
  if (!input.privileged) {
    if (input.seccomp === 'default') seccomp = defaultSeccompProfile(caps, input.arch);
    else if (input.seccomp !== 'unconfined') seccomp = input.seccomp;
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: input.terminal ?? false,
      ...(input.terminal && input.consoleSize ? { consoleSize: input.consoleSize } : {}),
      user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids?.length ? { additionalGids: input.user.additionalGids } : {}) },
      args: input.args,
      env: input.env,
      cwd: input.cwd || '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [] },
      ...(input.rlimits?.length ? { rlimits: input.rlimits } : {}),
      noNewPrivileges: input.noNewPrivileges ?? false,
      ...(input.oomScoreAdj ? { oomScoreAdj: input.oomScoreAdj } : {}),
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs ?? false },
    ...(input.hostname ? { hostname: input.hostname } : {}),
    ...(input.domainname ? { domainname: input.domainname } : {}),
    mounts,
    linux: {
      namespaces: [
        ...namespace('pid', input.namespaces.pid),
        ...namespace('network', input.namespaces.network),
        { type: 'mount' },
        ...namespace('ipc', input.namespaces.ipc),
        ...namespace('uts', input.namespaces.uts),
      ],
      cgroupsPath: input.cgroupsPath,
      resources,
      ...(input.devices?.length ? { devices: input.devices.map(({ permissions: _p, ...d }) => d) } : {}),
      maskedPaths: input.privileged ? [] : input.maskedPaths ?? DEFAULT_MASKED_PATHS,
      readonlyPaths: input.privileged ? [] : input.readonlyPaths ?? DEFAULT_READONLY_PATHS,
      ...(seccomp ? { seccomp } : {}),
      ...(input.sysctls && Object.keys(input.sysctls).length ? { sysctl: input.sysctls } : {}),
    },
    ...(input.annotations ? { annotations: input.annotations } : {}),
  };
  return spec;
}

/** The process spec for an exec into a running container (crun/runc exec --process). */
export function buildExecProcess(input: {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  capabilities: string[];
  noNewPrivileges?: boolean;
  rlimits?: OciRlimit[];
}): OciProcess {
  const caps = input.capabilities;
  return {
    terminal: input.terminal,
    ...(input.terminal && input.consoleSize ? { consoleSize: input.consoleSize } : {}),
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids?.length ? { additionalGids: input.user.additionalGids } : {}) },
    args: input.args,
    env: input.env,
    cwd: input.cwd || '/',
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [] },
    ...(input.rlimits?.length ? { rlimits: input.rlimits } : {}),
    noNewPrivileges: input.noNewPrivileges ?? false,
  };
}
