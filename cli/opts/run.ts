// docker run/create flags into a ContainerCreate request, as the docker CLI builds it.
// Pure: files and the caller's environment come in through `deps`.
import { FlagError, OptionError } from './errors';
import { buildEnv, buildLabels, type LookupEnv, type ReadFile } from './env';
import { parsePorts } from './ports';
import { effectiveCaps, parseExtraHost, parseHealth, parseRestart, parseUlimits, validateIp, type HealthConfig, type RestartPolicy, type Ulimit } from './policy';
import { parseCpus, parseInteger, parseKeyValues, parseSize, parseSwap } from './values';
import { parseMount, parseTmpfs, parseVolumes, type Mount } from './volumes';
import { parseRef, ReferenceError } from '../reference';

/** The run/create flags as the command line parser hands them over (undefined = not given). */
export interface RunFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  attach?: string[];
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  domainname?: string;
  entrypoint?: string;
  label?: string[];
  labelFile?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
  network?: string[];
  networkAlias?: string[];
  ip?: string;
  ip6?: string;
  macAddress?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  shmSize?: string;
  ulimit?: string[];
  device?: string[];
  restart?: string;
  readOnly?: boolean;
  securityOpt?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  groupAdd?: string[];
  sysctl?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthcheck?: boolean; // false with --no-healthcheck
  init?: boolean;
  logDriver?: string;
  logOpt?: string[];
  runtime?: string;
  ipc?: string;
  pid?: string;
  uts?: string;
  userns?: string;
  cgroupns?: string;
  cgroupParent?: string;
  annotation?: string[];
  pull?: string;
  platform?: string;
  quiet?: boolean;
  sigProxy?: boolean;
  detachKeys?: string;
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
  Aliases?: string[];
  MacAddress?: string;
}

export interface HostConfig {
  Binds?: string[];
  NetworkMode: string;
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  RestartPolicy: RestartPolicy;
  AutoRemove?: boolean;
  VolumesFrom?: string[];
  CapAdd?: string[];
  CapDrop?: string[];
  CgroupnsMode?: string;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[];
  GroupAdd?: string[];
  IpcMode?: string;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[];
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  ConsoleSize?: [number, number];
  LogConfig?: { Type: string; Config: Record<string, string> };
  CgroupParent?: string;
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number;
  OomKillDisable?: boolean;
  PidsLimit?: number;
  Ulimits?: Ulimit[];
  Mounts?: Mount[];
  Init?: boolean;
  Annotations?: Record<string, string>;
}

export interface ContainerCreateBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[];
  MacAddress?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  HostConfig: HostConfig;
  NetworkingConfig: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface CreateRequest {
  name?: string;
  platform?: string;
  pull: 'missing' | 'always' | 'never';
  body: ContainerCreateBody;
}

export interface RunDeps {
  readFile: ReadFile;
  lookupEnv: LookupEnv;
  cwd: string;
}

function parseDevice(v: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = v.split(':');
  const isMode = (s: string) => /^[rwm]{1,3}$/.test(s);
  let src = parts[0];
  let dst = src;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (isMode(parts[1])) perms = parts[1];
    else dst = parts[1];
  } else if (parts.length === 3) {
    dst = parts[1];
    if (!isMode(parts[2])) throw new FlagError('--device', v, `invalid device mode: ${parts[2]}`);
    perms = parts[2];
  } else if (parts.length > 3) {
    throw new FlagError('--device', v, `invalid device specification: ${v}`);
  }
  if (!src.startsWith('/')) throw new FlagError('--device', v, `invalid device path: ${src}`);
  if (!dst.startsWith('/')) throw new FlagError('--device', v, `${dst} is not an absolute path`);
  src = src.replace(/\/+$/, '') || '/';
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms };
}

function securityOpts(values: string[], read: ReadFile): string[] {
  return values.map((opt) => {
    if (opt === 'no-new-privileges') return opt;
    let [k, v] = [opt, ''];
    const eq = opt.indexOf('=');
    const colon = opt.indexOf(':');
    const i = eq >= 0 ? eq : colon;
    if (i < 0) throw new OptionError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    k = opt.slice(0, i);
    v = opt.slice(i + 1);
    if (k === 'seccomp' && v !== 'unconfined' && v !== 'builtin') {
      let content: Buffer;
      try {
        content = read(v);
      } catch (e) {
        throw new OptionError(`opening seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(content.toString()))}`;
      } catch (e) {
        throw new OptionError(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
    }
    return `${k}=${v}`;
  });
}

/** Build the ContainerCreate request for `image` and its command `args` from the flags. */
export function buildCreateRequest(f: RunFlags, image: string, args: string[], deps: RunDeps): CreateRequest {
  try {
    parseRef(image);
  } catch (e) {
    if (e instanceof ReferenceError) throw new OptionError(e.message);
    throw e;
  }
  const pull = f.pull ?? 'missing';
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never') throw new OptionError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);

  const attach = (f.attach ?? []).map((a) => {
    const s = a.toLowerCase();
    if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new FlagError('-a, --attach', a, 'valid streams are STDIN, STDOUT and STDERR');
    return s;
  });
  if (f.detach && attach.length) throw new OptionError('conflicting options: cannot specify both --attach and --detach');
  if (f.rm && f.restart !== undefined && f.restart !== '' && f.restart !== 'no') throw new OptionError('conflicting options: cannot specify both --restart and --rm');

  let attachStdin = attach.includes('stdin') || !!f.interactive;
  let attachStdout = attach.length === 0 || attach.includes('stdout');
  let attachStderr = attach.length === 0 || attach.includes('stderr');
  if (f.detach) attachStdin = attachStdout = attachStderr = false;

  const memory = f.memory === undefined ? 0 : parseSize(f.memory, '-m, --memory');
  const memorySwap = f.memorySwap === undefined ? 0 : parseSwap(f.memorySwap, '--memory-swap');
  const memoryReservation = f.memoryReservation === undefined ? 0 : parseSize(f.memoryReservation, '--memory-reservation');
  const shmSize = f.shmSize === undefined ? 0 : parseSize(f.shmSize, '--shm-size');
  const nanoCpus = f.cpus === undefined ? 0 : parseCpus(f.cpus, '--cpus');
  const cpuShares = f.cpuShares === undefined ? 0 : parseInteger(f.cpuShares, '-c, --cpu-shares');
  const cpuQuota = f.cpuQuota === undefined ? 0 : parseInteger(f.cpuQuota, '--cpu-quota');
  const cpuPeriod = f.cpuPeriod === undefined ? 0 : parseInteger(f.cpuPeriod, '--cpu-period');
  const pidsLimit = f.pidsLimit === undefined ? undefined : parseInteger(f.pidsLimit, '--pids-limit');
  const stopTimeout = f.stopTimeout === undefined ? undefined : parseInteger(f.stopTimeout, '--stop-timeout');
  const oomScoreAdj = f.oomScoreAdj === undefined ? 0 : parseInteger(f.oomScoreAdj, '--oom-score-adj');
  const swappiness = f.memorySwappiness === undefined ? undefined : parseInteger(f.memorySwappiness, '--memory-swappiness');
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new OptionError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  const ulimits = parseUlimits(f.ulimit ?? []);
  const dns = (f.dns ?? []).map((d) => validateIp(d, '--dns'));
  const extraHosts = (f.addHost ?? []).map(parseExtraHost);
  const env = buildEnv(f.envFile ?? [], f.env ?? [], deps.readFile, deps.lookupEnv);
  const labels = buildLabels(f.labelFile ?? [], f.label ?? [], deps.readFile);
  const mounts = (f.mount ?? []).map(parseMount);
  const devices = (f.device ?? []).map(parseDevice);
  const sysctls = parseKeyValues(f.sysctl ?? [], '--sysctl', { bareKey: 'error' });
  const annotations = parseKeyValues(f.annotation ?? [], '--annotation', { bareKey: 'error' });
  const logOpts = parseKeyValues(f.logOpt ?? [], '--log-opt', { bareKey: 'error' });
  if (f.ip !== undefined) validateIp(f.ip, '--ip');
  if (f.ip6 !== undefined) validateIp(f.ip6, '--ip6');

  const ports = parsePorts(f.publish ?? [], f.expose ?? []);
  const vols = parseVolumes(f.volume ?? [], deps.cwd);
  const tmpfs = parseTmpfs(f.tmpfs ?? []);
  const health = parseHealth({ cmd: f.healthCmd, interval: f.healthInterval, timeout: f.healthTimeout, startPeriod: f.healthStartPeriod, startInterval: f.healthStartInterval, retries: f.healthRetries, none: f.healthcheck === false });
  const restart = parseRestart(f.restart ?? 'no');
  const caps = effectiveCaps(f.capAdd ?? [], f.capDrop ?? []);
  const secOpts = securityOpts(f.securityOpt ?? [], deps.readFile);

  const networks = f.network ?? [];
  const networkMode = networks[0] ?? 'default';
  const endpoints: Record<string, EndpointSettings> = {};
  networks.forEach((n) => (endpoints[n] = {}));
  if (!networks.length) endpoints[networkMode] = {};
  const ep = endpoints[networkMode];
  if (f.ip !== undefined || f.ip6 !== undefined) ep.IPAMConfig = { ...(f.ip !== undefined ? { IPv4Address: f.ip } : {}), ...(f.ip6 !== undefined ? { IPv6Address: f.ip6 } : {}) };
  if (f.networkAlias?.length) ep.Aliases = [...f.networkAlias];
  if (f.macAddress) ep.MacAddress = f.macAddress;

  const hc: HostConfig = { NetworkMode: networkMode, RestartPolicy: restart };
  if (vols.binds.length) hc.Binds = vols.binds;
  if (Object.keys(ports.bindings).length) hc.PortBindings = ports.bindings;
  if (f.rm) hc.AutoRemove = true;
  if (f.volumesFrom?.length) hc.VolumesFrom = f.volumesFrom;
  Object.assign(hc, caps);
  if (f.cgroupns) hc.CgroupnsMode = f.cgroupns;
  if (dns.length) hc.Dns = dns;
  if (f.dnsOption?.length) hc.DnsOptions = f.dnsOption;
  if (f.dnsSearch?.length) hc.DnsSearch = f.dnsSearch;
  if (extraHosts.length) hc.ExtraHosts = extraHosts;
  if (f.groupAdd?.length) hc.GroupAdd = f.groupAdd;
  if (f.ipc) hc.IpcMode = f.ipc;
  if (oomScoreAdj) hc.OomScoreAdj = oomScoreAdj;
  if (f.pid) hc.PidMode = f.pid;
  if (f.privileged) hc.Privileged = true;
  if (f.publishAll) hc.PublishAllPorts = true;
  if (f.readOnly) hc.ReadonlyRootfs = true;
  if (secOpts.length) hc.SecurityOpt = secOpts;
  if (Object.keys(tmpfs).length) hc.Tmpfs = tmpfs;
  if (f.uts) hc.UTSMode = f.uts;
  if (f.userns) hc.UsernsMode = f.userns;
  if (shmSize) hc.ShmSize = shmSize;
  if (Object.keys(sysctls).length) hc.Sysctls = sysctls;
  if (f.runtime) hc.Runtime = f.runtime;
  if (f.logDriver || Object.keys(logOpts).length) hc.LogConfig = { Type: f.logDriver ?? '', Config: logOpts };
  if (f.cgroupParent) hc.CgroupParent = f.cgroupParent;
  if (cpuShares) hc.CpuShares = cpuShares;
  if (memory) hc.Memory = memory;
  if (nanoCpus) hc.NanoCpus = nanoCpus;
  if (cpuPeriod) hc.CpuPeriod = cpuPeriod;
  if (cpuQuota) hc.CpuQuota = cpuQuota;
  if (f.cpusetCpus) hc.CpusetCpus = f.cpusetCpus;
  if (f.cpusetMems) hc.CpusetMems = f.cpusetMems;
  if (devices.length) hc.Devices = devices;
  if (memoryReservation) hc.MemoryReservation = memoryReservation;
  if (memorySwap) hc.MemorySwap = memorySwap;
  if (swappiness !== undefined) hc.MemorySwappiness = swappiness;
  if (f.oomKillDisable) hc.OomKillDisable = true;
  if (pidsLimit !== undefined) hc.PidsLimit = pidsLimit;
  if (ulimits.length) hc.Ulimits = ulimits;
  if (mounts.length) hc.Mounts = mounts;
  if (f.init) hc.Init = true;
  if (Object.keys(annotations).length) hc.Annotations = annotations;

  const openStdin = !!f.interactive;
  const body: ContainerCreateBody = {
    ...(f.hostname ? { Hostname: f.hostname } : {}),
    ...(f.domainname ? { Domainname: f.domainname } : {}),
    ...(f.user ? { User: f.user } : {}),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(ports.exposed).length ? { ExposedPorts: ports.exposed } : {}),
    Tty: !!f.tty,
    OpenStdin: openStdin,
    StdinOnce: openStdin && attachStdin && !f.detach,
    ...(env.length ? { Env: env } : {}),
    ...(args.length ? { Cmd: args } : {}),
    ...(health ? { Healthcheck: health } : {}),
    Image: image,
    ...(Object.keys(vols.volumes).length ? { Volumes: vols.volumes } : {}),
    ...(f.workdir ? { WorkingDir: f.workdir } : {}),
    ...(f.entrypoint !== undefined ? { Entrypoint: [f.entrypoint] } : {}),
    ...(Object.keys(labels).length ? { Labels: labels } : {}),
    ...(f.stopSignal ? { StopSignal: f.stopSignal } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    HostConfig: hc,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return { name: f.name, platform: f.platform, pull, body };
}
