import { invalid } from '../../../shared/errors';
import { normalizeCapability } from '../runtime/capabilities';
import { parseSignal } from '../runtime/oci';
import type { CreateRequest, HostConfig, RestartPolicy } from './types';

// Request validation for POST /containers/create: JSON types first (what Go's decoder would
// refuse), then the rules dockerd applies to the values. Pure: the caller passes in what the
// machine offers (CPU count, the nofile hard limit).

type T = 'string' | 'bool' | 'int' | 'strings' | 'strmap' | 'object' | 'any' | { obj: Schema } | { arr: T } | 'strOrStrings' | 'ints';
type Schema = Record<string, T>;

const HEALTH: Schema = { Test: 'strings', Interval: 'int', Timeout: 'int', Retries: 'int', StartPeriod: 'int', StartInterval: 'int' };

const MOUNT: Schema = {
  Type: 'string', Source: 'string', Target: 'string', ReadOnly: 'bool', Consistency: 'string',
  BindOptions: { obj: { Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool', ReadOnlyNonRecursive: 'bool', ReadOnlyForceRecursive: 'bool' } },
  VolumeOptions: { obj: { NoCopy: 'bool', Labels: 'strmap', DriverConfig: { obj: { Name: 'string', Options: 'strmap' } }, Subpath: 'string' } },
  TmpfsOptions: { obj: { SizeBytes: 'int', Mode: 'int', Options: 'any' } },
};

const HOST_CONFIG: Schema = {
  Binds: 'strings', ContainerIDFile: 'string', LogConfig: { obj: { Type: 'string', Config: 'strmap' } }, NetworkMode: 'string',
  PortBindings: 'object', RestartPolicy: { obj: { Name: 'string', MaximumRetryCount: 'int' } }, AutoRemove: 'bool',
  VolumeDriver: 'string', VolumesFrom: 'strings', Mounts: { arr: { obj: MOUNT } }, ConsoleSize: 'ints', Annotations: 'strmap',
  CapAdd: 'strings', CapDrop: 'strings', CgroupnsMode: 'string', Dns: 'strings', DnsOptions: 'strings', DnsSearch: 'strings',
  ExtraHosts: 'strings', GroupAdd: 'strings', IpcMode: 'string', Cgroup: 'string', Links: 'strings', OomScoreAdj: 'int',
  PidMode: 'string', Privileged: 'bool', PublishAllPorts: 'bool', ReadonlyRootfs: 'bool', SecurityOpt: 'strings',
  StorageOpt: 'strmap', Tmpfs: 'strmap', UTSMode: 'string', UsernsMode: 'string', ShmSize: 'int', Sysctls: 'strmap',
  Runtime: 'string', Isolation: 'string', CpuShares: 'int', Memory: 'int', NanoCpus: 'int', CgroupParent: 'string',
  BlkioWeight: 'int', BlkioWeightDevice: 'any', BlkioDeviceReadBps: 'any', BlkioDeviceWriteBps: 'any', BlkioDeviceReadIOps: 'any',
  BlkioDeviceWriteIOps: 'any', CpuPeriod: 'int', CpuQuota: 'int', CpuRealtimePeriod: 'int', CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string', CpusetMems: 'string', Devices: { arr: { obj: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' } } },
  DeviceCgroupRules: 'strings', DeviceRequests: 'any', KernelMemoryTCP: 'int', MemoryReservation: 'int', MemorySwap: 'int',
  MemorySwappiness: 'int', OomKillDisable: 'bool', PidsLimit: 'int', Ulimits: { arr: { obj: { Name: 'string', Soft: 'int', Hard: 'int' } } },
  CpuCount: 'int', CpuPercent: 'int', IOMaximumIOps: 'int', IOMaximumBandwidth: 'int', MaskedPaths: 'strings', ReadonlyPaths: 'strings',
  Init: 'bool',
};

const CREATE: Schema = {
  Hostname: 'string', Domainname: 'string', User: 'string', AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool',
  ExposedPorts: 'object', Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool', Env: 'strings', Cmd: 'strOrStrings',
  Healthcheck: { obj: HEALTH }, ArgsEscaped: 'bool', Image: 'string', Volumes: 'object', WorkingDir: 'string',
  Entrypoint: 'strOrStrings', NetworkDisabled: 'bool', MacAddress: 'string', OnBuild: 'strings', Labels: 'strmap',
  StopSignal: 'string', StopTimeout: 'int', Shell: 'strings', HostConfig: { obj: HOST_CONFIG },
  NetworkingConfig: { obj: { EndpointsConfig: 'object' } },
};

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function typeError(path: string, want: string, v: unknown): never {
  const shown = typeof v === 'string' ? ` "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"` : typeof v === 'number' || typeof v === 'boolean' ? ` ${v}` : '';
  throw invalid(`invalid value for ${path}: expected ${want}, got ${kind(v)}${shown}`);
}

function check(path: string, t: T, v: unknown): unknown {
  if (v === null || v === undefined) return v; // JSON null is Go's zero value
  if (t === 'any') return v;
  if (t === 'string') return typeof v === 'string' ? v : typeError(path, 'a string', v);
  if (t === 'bool') return typeof v === 'boolean' ? v : typeError(path, 'a boolean', v);
  if (t === 'int') return typeof v === 'number' && Number.isInteger(v) ? v : typeError(path, 'an integer', v);
  if (t === 'strings' || t === 'strOrStrings') {
    if (t === 'strOrStrings' && typeof v === 'string') return [v];
    if (!Array.isArray(v)) return typeError(path, 'an array of strings', v);
    v.forEach((x, i) => typeof x === 'string' || typeError(`${path}[${i}]`, 'a string', x));
    return v;
  }
  if (t === 'ints') {
    if (!Array.isArray(v)) return typeError(path, 'an array of integers', v);
    v.forEach((x, i) => (typeof x === 'number' && Number.isInteger(x)) || typeError(`${path}[${i}]`, 'an integer', x));
    return v;
  }
  if (t === 'strmap') {
    if (typeof v !== 'object' || Array.isArray(v)) return typeError(path, 'an object of strings', v);
    for (const [k, x] of Object.entries(v as object)) if (typeof x !== 'string') typeError(`${path}.${k}`, 'a string', x);
    return v;
  }
  if (t === 'object') return typeof v === 'object' && !Array.isArray(v) ? v : typeError(path, 'an object', v);
  if ('arr' in t) {
    if (!Array.isArray(v)) return typeError(path, 'an array', v);
    return v.map((x, i) => check(`${path}[${i}]`, t.arr, x));
  }
  if (typeof v !== 'object' || Array.isArray(v)) return typeError(path, 'an object', v);
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const [k, sub] of Object.entries(t.obj)) if (k in out) out[k] = check(path ? `${path}.${k}` : k, sub, out[k]);
  return out;
}

/** The HostConfig fields POST /containers/{id}/update may change. */
export const UPDATABLE = ['CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap', 'PidsLimit', 'BlkioWeight', 'RestartPolicy'] as const;

/** Type-check an update body (resources and restart policy). */
export function checkUpdateTypes(body: unknown): Partial<HostConfig> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid request body: expected a JSON object');
  const schema: Schema = {};
  for (const k of UPDATABLE) schema[k] = HOST_CONFIG[k];
  return check('', { obj: schema }, body) as Partial<HostConfig>;
}

/** Type-check a create body; strings given for Cmd/Entrypoint become one-element arrays. */
export function checkCreateTypes(body: unknown): CreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid request body: expected a JSON object');
  return check('', { obj: CREATE }, body) as CreateRequest;
}

export const MIN_MEMORY = 6 * 1024 * 1024;

/** A cpuset list ("0-2,4") to CPU numbers; throws on syntax errors. */
export function parseCpuset(s: string, field = 'CpusetCpus'): number[] {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw invalid(`invalid value for ${field}: '${s}' (expected a list such as 0-2,4)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw invalid(`invalid value for ${field}: '${s}' (range ${part} is reversed)`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

const RLIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as']);

/** Namespaced sysctls a container may set (others would change the host). */
export function sysctlAllowed(name: string, hostNetwork: boolean, hostIpc: boolean): boolean {
  if (name.startsWith('net.')) return !hostNetwork;
  if (['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(name) || name.startsWith('fs.mqueue.')) return !hostIpc;
  return false;
}

export interface HostLimits {
  ncpu: number;
  /** The nofile hard limit the daemon itself has (containers cannot exceed it). */
  nofileHard: number;
  swapAccounting: boolean;
  runtimes: string[];
}

/** Parsed --security-opt values. */
export interface SecurityOptions {
  seccomp: 'default' | 'unconfined' | object;
  noNewPrivileges: boolean;
}

export function parseSecurityOpts(opts: string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false };
  for (const raw of opts ?? []) {
    const i = raw.search(/[=:]/);
    const key = i < 0 ? raw : raw.slice(0, i);
    const val = i < 0 ? '' : raw.slice(i + 1);
    switch (key) {
      case 'no-new-privileges':
        if (val !== '' && val !== 'true' && val !== 'false') throw invalid(`invalid --security-opt: "${raw}" (no-new-privileges takes true or false)`);
        out.noNewPrivileges = val !== 'false';
        break;
      case 'seccomp':
        if (val === 'unconfined') out.seccomp = 'unconfined';
        else if (val === '' || val === 'builtin' || val === 'default') out.seccomp = 'default';
        else {
          try {
            const p = JSON.parse(val) as Record<string, unknown>;
            if (typeof p !== 'object' || p === null || typeof p.defaultAction !== 'string') throw new Error('no defaultAction');
            out.seccomp = p;
          } catch (e) {
            throw invalid(`invalid seccomp profile in --security-opt: ${(e as Error).message}`);
          }
        }
        break;
      case 'apparmor':
      case 'label':
        // No LSM on these machines: accepted and ignored, as dockerd does without AppArmor/SELinux.
        break;
      default:
        throw invalid(`invalid --security-opt: "${raw}"`);
    }
  }
  return out;
}

export function normalizeRestartPolicy(p: Partial<RestartPolicy> | null | undefined): RestartPolicy {
  const name = (p?.Name ?? '') as string;
  const max = p?.MaximumRetryCount ?? 0;
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalid(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'unless-stopped', or 'on-failure'`);
  if (max < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

/**
 * Check HostConfig values as dockerd does; returns warnings (e.g. swap limit unsupported)
 * and normalizes a few fields in place (restart policy, capability names).
 */
export function validateHostConfig(hc: Partial<HostConfig>, limits: HostLimits): string[] {
  const warnings: string[] = [];
  const mem = hc.Memory ?? 0;
  if (mem < 0) throw invalid(`invalid Memory value ${mem}: must be a positive number of bytes`);
  if (mem > 0 && mem < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  const swap = hc.MemorySwap ?? 0;
  if (swap < -1) throw invalid(`invalid MemorySwap value ${swap}: use -1 for unlimited swap`);
  if (swap > 0 && mem === 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < mem) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (swap !== 0 && !limits.swapAccounting) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    hc.MemorySwap = -1;
  }
  const res = hc.MemoryReservation ?? 0;
  if (res < 0) throw invalid(`invalid MemoryReservation value ${res}`);
  if (res > 0 && res < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (mem > 0 && res > 0 && mem < res) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness !== -1 && (hc.MemorySwappiness < 0 || hc.MemorySwappiness > 100)) {
    throw invalid(`Invalid value: ${hc.MemorySwappiness}, valid memory swappiness range is 0-100`);
  }

  const nano = hc.NanoCpus ?? 0;
  if (nano < 0) throw invalid(`invalid NanoCpus value ${nano}`);
  if (nano > 0 && ((hc.CpuPeriod ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0)) throw invalid('Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
  if (nano > 0 && (nano < 1e7 || nano > limits.ncpu * 1e9)) throw invalid(`Range of CPUs is from 0.01 to ${limits.ncpu}.00, as there are only ${limits.ncpu} CPUs available`);
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = hc.CpuQuota ?? 0;
  if (quota !== 0 && quota !== -1 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((hc.CpuShares ?? 0) < 0) throw invalid(`invalid CpuShares value ${hc.CpuShares}`);
  if (hc.CpusetCpus) {
    const cpus = parseCpuset(hc.CpusetCpus);
    const bad = cpus.filter((c) => c >= limits.ncpu);
    if (bad.length) throw invalid(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: 0-${limits.ncpu - 1}`);
  }
  if (hc.CpusetMems) parseCpuset(hc.CpusetMems, 'CpusetMems');
  if ((hc.ShmSize ?? 0) < 0) throw invalid('SHM size can not be less than 0');
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw invalid(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if ((hc.BlkioWeight ?? 0) !== 0 && ((hc.BlkioWeight ?? 0) < 10 || (hc.BlkioWeight ?? 0) > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');

  hc.RestartPolicy = normalizeRestartPolicy(hc.RestartPolicy);
  if (hc.AutoRemove && hc.RestartPolicy.Name !== '' && hc.RestartPolicy.Name !== 'no') {
    throw invalid("can't create 'AutoRemove' container with restart policy");
  }

  if (hc.CapAdd) hc.CapAdd = hc.CapAdd.map((c) => normalizeCapability(c));
  if (hc.CapDrop) hc.CapDrop = hc.CapDrop.map((c) => normalizeCapability(c));
  parseSecurityOpts(hc.SecurityOpt);

  for (const u of hc.Ulimits ?? []) {
    if (!RLIMITS.has(u.Name)) throw invalid(`invalid ulimit name: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalid(`invalid ulimit ${u.Name}: soft limit ${u.Soft} is above the hard limit ${u.Hard}`);
    if (u.Name === 'nofile' && u.Hard > limits.nofileHard) throw invalid(`invalid ulimit nofile: hard limit ${u.Hard} exceeds this machine's limit of ${limits.nofileHard}`);
  }

  const logType = hc.LogConfig?.Type ?? '';
  if (!['', 'json-file', 'k8s-file', 'local'].includes(logType)) throw invalid(`logging driver "${logType}" is not supported (shoal keeps json-file logs)`);

  if (hc.Runtime && !limits.runtimes.includes(hc.Runtime)) throw invalid(`unknown or invalid runtime name: ${hc.Runtime}`);

  for (const mode of [['IpcMode', hc.IpcMode], ['PidMode', hc.PidMode], ['UTSMode', hc.UTSMode]] as const) {
    const v = mode[1] ?? '';
    const ok = mode[0] === 'IpcMode' ? ['', 'private', 'shareable', 'host', 'none'].includes(v) || v.startsWith('container:') : mode[0] === 'PidMode' ? v === '' || v === 'host' || v.startsWith('container:') : v === '' || v === 'host';
    if (!ok) throw invalid(`invalid ${mode[0]}: ${v}`);
  }
  if (hc.UsernsMode && hc.UsernsMode !== 'host' && hc.UsernsMode !== '') throw invalid(`invalid UsernsMode: ${hc.UsernsMode} (user namespaces are not supported)`);

  const hostNet = hc.NetworkMode === 'host';
  for (const k of Object.keys(hc.Sysctls ?? {})) {
    if (!sysctlAllowed(k, hostNet, hc.IpcMode === 'host')) throw invalid(`sysctl '${k}' is not allowed${k.startsWith('net.') && hostNet ? ' in the host network namespace' : ''}`);
  }
  for (const d of hc.Devices ?? []) {
    if (!d.PathOnHost?.startsWith('/')) throw invalid(`invalid device mapping: PathOnHost '${d.PathOnHost}' must be an absolute path`);
    if (d.CgroupPermissions && !/^[rwm]{1,3}$/.test(d.CgroupPermissions)) throw invalid(`invalid device mode: ${d.CgroupPermissions}`);
  }
  if (hc.CgroupParent && (!/^\/?[\w.-]+(\/[\w.-]+)*\/?$/.test(hc.CgroupParent) || hc.CgroupParent.split('/').includes('..'))) {
    throw invalid(`invalid CgroupParent: ${hc.CgroupParent}`);
  }
  for (const [dest] of Object.entries(hc.Tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw invalid(`invalid tmpfs mount: ${dest} must be an absolute path`);
  }
  return warnings;
}

/** Validate the container-level config fields that have rules beyond their types. */
export function validateConfig(c: CreateRequest): void {
  if (c.StopSignal && parseSignal(c.StopSignal) === undefined) throw invalid(`invalid signal: ${c.StopSignal}`);
  if (c.StopTimeout !== undefined && c.StopTimeout !== null && c.StopTimeout < -1) throw invalid(`invalid StopTimeout ${c.StopTimeout}`);
  const hc = c.Healthcheck;
  if (hc) {
    for (const [k, v] of [['Interval', hc.Interval], ['Timeout', hc.Timeout], ['StartPeriod', hc.StartPeriod], ['StartInterval', hc.StartInterval]] as const) {
      if (v !== undefined && v !== null && v !== 0 && v < 1e6) throw invalid(`Healthcheck.${k} in a health check must be at least 1ms, or 0 for the default`);
    }
    if ((hc.Retries ?? 0) < 0) throw invalid('Healthcheck.Retries must not be negative');
    if (hc.Test && hc.Test.length && !['NONE', 'CMD', 'CMD-SHELL'].includes(hc.Test[0])) throw invalid(`invalid Healthcheck.Test: the first element must be NONE, CMD or CMD-SHELL, not "${hc.Test[0]}"`);
  }
  if (c.Hostname && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,253})$/.test(c.Hostname)) throw invalid(`invalid hostname format: ${c.Hostname}`);
  for (const e of c.Env ?? []) if (e.startsWith('=') || e === '') throw invalid(`invalid environment variable: "${e}"`);
  if (c.WorkingDir && !c.WorkingDir.startsWith('/')) throw invalid(`the working directory '${c.WorkingDir}' is invalid, it needs to be an absolute path`);
}
