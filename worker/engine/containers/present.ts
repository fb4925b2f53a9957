import { invalid } from '../../../shared/errors';
import type { ContainerRecord, ContainerState, ContainerStatus } from './types';

// How containers look through the API: inspect, the list summary, Docker's status strings,
// and the list filters. Pure functions of records.

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** go-units HumanDuration, which `docker ps` statuses use. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

function since(iso: string, now: number): number {
  return Math.max(0, now - Date.parse(iso));
}

/** Docker's State.String(): "Up 3 seconds (healthy)", "Exited (0) 2 minutes ago", "Created"... */
export function statusString(s: ContainerState, now = Date.now()): string {
  if (s.Running) {
    if (s.Paused) return `Up ${humanDuration(since(s.StartedAt, now))} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
    const h = s.Health?.Status;
    if (h && h !== 'none') return `Up ${humanDuration(since(s.StartedAt, now))} (${h === 'starting' ? 'health: starting' : h})`;
    return `Up ${humanDuration(since(s.StartedAt, now))}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${humanDuration(since(s.FinishedAt, now))} ago`;
}

/** The state fields for a status, keeping the rest. */
export function withStatus(s: ContainerState, status: ContainerStatus): ContainerState {
  return {
    ...s,
    Status: status,
    Running: status === 'running' || status === 'paused' || status === 'restarting',
    Paused: status === 'paused',
    Restarting: status === 'restarting',
    Dead: status === 'dead',
  };
}

export function initialState(): ContainerState {
  return { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME };
}

export function commandString(r: ContainerRecord): string {
  return r.Args.length ? `${r.Path} ${r.Args.join(' ')}` : r.Path;
}

export interface SummaryPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export function summaryPorts(r: ContainerRecord): SummaryPort[] {
  const out: SummaryPort[] = [];
  const ports = r.State.Running ? r.NetworkSettings.Ports ?? {} : {};
  const keys = new Set([...Object.keys(ports), ...Object.keys(r.Config.ExposedPorts ?? {})]);
  for (const key of keys) {
    const [p, type] = key.split('/');
    const bindings = ports[key];
    if (bindings && bindings.length) for (const b of bindings) out.push({ ...(b.HostIp ? { IP: b.HostIp } : {}), PrivatePort: Number(p), ...(b.HostPort ? { PublicPort: Number(b.HostPort) } : {}), Type: type ?? 'tcp' });
    else out.push({ PrivatePort: Number(p), Type: type ?? 'tcp' });
  }
  return out;
}

/** Docker inspect (GET /containers/{id}/json). */
export function inspectView(r: ContainerRecord, extra: { execIds: string[]; mergedDir: string; upperDir: string; workDir: string; sizeRw?: number; sizeRootFs?: number }): Record<string, unknown> {
  const { shoal: _meta, NetworkingConfig: _nc, ...rest } = r;
  return {
    Id: rest.Id,
    Created: rest.Created,
    Path: rest.Path,
    Args: rest.Args,
    State: rest.State,
    Image: rest.Image,
    ResolvConfPath: rest.ResolvConfPath,
    HostnamePath: rest.HostnamePath,
    HostsPath: rest.HostsPath,
    LogPath: rest.LogPath,
    Name: rest.Name,
    RestartCount: rest.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: extra.execIds.length ? extra.execIds : null,
    HostConfig: rest.HostConfig,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: [...r.shoal.layerDirs].reverse().join(':'), MergedDir: extra.mergedDir, UpperDir: extra.upperDir, WorkDir: extra.workDir } },
    ...(extra.sizeRw !== undefined ? { SizeRw: extra.sizeRw, SizeRootFs: extra.sizeRootFs } : {}),
    Mounts: rest.Mounts,
    Config: rest.Config,
    NetworkSettings: networkSettingsView(rest.NetworkSettings),
  };
}

/**
 * NetworkSettings as inspect shows it: the deprecated top-level address fields still come
 * from the default bridge endpoint (scripts read .NetworkSettings.IPAddress).
 */
export function networkSettingsView(ns: ContainerRecord['NetworkSettings']): Record<string, unknown> {
  const b = ns.Networks?.bridge;
  return {
    Bridge: ns.Bridge ?? '',
    SandboxID: ns.SandboxID ?? '',
    SandboxKey: ns.SandboxKey ?? '',
    Ports: ns.Ports ?? {},
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: b?.EndpointID ?? '',
    Gateway: b?.Gateway ?? '',
    GlobalIPv6Address: b?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: b?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: b?.IPAddress ?? '',
    IPPrefixLen: b?.IPPrefixLen ?? 0,
    IPv6Gateway: b?.IPv6Gateway ?? '',
    MacAddress: b?.MacAddress ?? '',
    Networks: ns.Networks ?? {},
  };
}

/** One entry of GET /containers/json. */
export function summaryView(r: ContainerRecord, now = Date.now(), size?: { rw: number; rootFs: number }): Record<string, unknown> {
  return {
    Id: r.Id,
    Names: [r.Name],
    Image: r.Config.Image,
    ImageID: r.Image,
    Command: commandString(r),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: summaryPorts(r),
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootFs } : {}),
    Labels: r.Config.Labels ?? {},
    State: r.State.Status,
    Status: statusString(r.State, now),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode || 'bridge' },
    NetworkSettings: { Networks: r.NetworkSettings.Networks ?? {} },
    Mounts: r.Mounts,
  };
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const FILTER_KEYS = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'network', 'volume', 'health', 'is-task', 'publish', 'expose'];

export interface ListContext {
  /** Resolve before/since references to records. */
  lookup(ref: string): ContainerRecord | undefined;
  /** Image IDs matching the ancestor filter values (resolved by the caller). */
  ancestorImageIds: Set<string>;
}

function nameMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

/** Check filter keys and values up front, so a typo is a 400 and not an empty list. */
export function validateListFilters(filters: Map<string, string[]>): void {
  for (const [k, vals] of filters) {
    if (!FILTER_KEYS.includes(k)) throw invalid(`invalid filter '${k}'`);
    for (const v of vals) {
      if (k === 'status' && !STATUSES.includes(v)) throw invalid(`invalid filter 'status=${v}'`);
      if (k === 'exited' && !/^-?\d+$/.test(v)) throw invalid(`invalid filter 'exited=${v}'`);
      if (k === 'health' && !['starting', 'healthy', 'unhealthy', 'none'].includes(v)) throw invalid(`invalid filter 'health=${v}': expected starting, healthy, unhealthy or none`);
    }
  }
}

/** Whether a record passes every filter (values of one key are ORed, keys ANDed). */
export function matchesFilters(r: ContainerRecord, filters: Map<string, string[]>, ctx: ListContext): boolean {
  for (const [k, vals] of filters) {
    if (!vals.length) continue;
    const ok = vals.some((v) => {
      switch (k) {
        case 'id':
          return r.Id.startsWith(v);
        case 'name':
          return nameMatches(v, r.Name) || nameMatches(v, r.Name.slice(1));
        case 'label': {
          const i = v.indexOf('=');
          const key = i < 0 ? v : v.slice(0, i);
          const labels = r.Config.Labels ?? {};
          return i < 0 ? key in labels : labels[key] === v.slice(i + 1);
        }
        case 'status':
          return r.State.Status === v;
        case 'exited':
          return r.State.Status === 'exited' && r.State.ExitCode === Number(v);
        case 'ancestor':
          return ctx.ancestorImageIds.has(r.Image) || r.Config.Image === v || r.Config.Image === `${v}:latest`;
        case 'before': {
          const ref = ctx.lookup(v);
          if (!ref) throw invalid(`No such container: ${v}`);
          return Date.parse(r.Created) < Date.parse(ref.Created);
        }
        case 'since': {
          const ref = ctx.lookup(v);
          if (!ref) throw invalid(`No such container: ${v}`);
          return Date.parse(r.Created) > Date.parse(ref.Created);
        }
        case 'network':
          return Object.entries(r.NetworkSettings.Networks ?? {}).some(([name, ep]) => name === v || (!!ep.NetworkID && ep.NetworkID.startsWith(v))) || r.HostConfig.NetworkMode === v;
        case 'volume':
          return r.Mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v);
        case 'health':
          return (r.State.Health?.Status ?? 'none') === v;
        case 'is-task':
          return v === 'false';
        case 'expose':
          return Object.keys(r.Config.ExposedPorts ?? {}).some((p) => p === v || p === `${v}/tcp`);
        case 'publish':
          return Object.entries(r.NetworkSettings.Ports ?? {}).some(([p, b]) => p === v || p === `${v}/tcp` || (b ?? []).some((x) => x.HostPort === v.split('/')[0]));
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
