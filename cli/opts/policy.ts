// Restart policy, healthcheck, ulimits, capabilities, extra hosts and DNS flags.
import { isIP } from 'node:net';
import { FlagError, OptionError } from './errors';
import { parseGoDuration, parseInteger } from './values';

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

/** no | always | unless-stopped | on-failure[:N], validated as the daemon would. */
export function parseRestart(value: string): RestartPolicy {
  const i = value.indexOf(':');
  const name = i < 0 ? value : value.slice(0, i);
  const count = i < 0 ? undefined : value.slice(i + 1);
  let max = 0;
  if (count !== undefined) {
    if (!/^-?\d+$/.test(count)) throw new OptionError('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== undefined) throw new OptionError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
      return { Name: name === '' ? 'no' : name, MaximumRetryCount: 0 };
    case 'on-failure':
      if (max < 0) throw new OptionError('invalid restart policy: maximum retry count cannot be negative');
      return { Name: name, MaximumRetryCount: max };
    default:
      throw new OptionError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
  none?: boolean;
}

export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The --health-* flags into Config.Healthcheck (durations in nanoseconds), or undefined. */
export function parseHealth(f: HealthFlags): HealthConfig | undefined {
  const dur = (v: string | undefined, flag: string) => {
    if (v === undefined) return 0;
    const ns = parseGoDuration(v, flag);
    if (ns < 0) throw new OptionError(`${flag} cannot be negative`);
    return ns;
  };
  const interval = dur(f.interval, '--health-interval');
  const timeout = dur(f.timeout, '--health-timeout');
  const startPeriod = dur(f.startPeriod, '--health-start-period');
  const startInterval = dur(f.startInterval, '--health-start-interval');
  const retries = f.retries === undefined ? 0 : parseInteger(f.retries, '--health-retries');
  if (retries < 0) throw new OptionError('--health-retries cannot be negative');
  const any = f.cmd !== undefined || f.interval !== undefined || f.timeout !== undefined || f.startPeriod !== undefined || f.startInterval !== undefined || f.retries !== undefined;
  if (f.none) {
    if (any) throw new OptionError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const hc: HealthConfig = { Test: f.cmd ? ['CMD-SHELL', f.cmd] : [] };
  if (interval) hc.Interval = interval;
  if (timeout) hc.Timeout = timeout;
  if (startPeriod) hc.StartPeriod = startPeriod;
  if (startInterval) hc.StartInterval = startInterval;
  if (retries) hc.Retries = retries;
  return hc;
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** --ulimit name=soft[:hard]; a later value for the same name wins. */
export function parseUlimits(values: string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw new FlagError('--ulimit', v, `invalid ulimit argument: ${v}`);
    const name = v.slice(0, eq);
    if (!ULIMITS.has(name)) throw new FlagError('--ulimit', v, `invalid ulimit type: ${name}`);
    const limits = v.slice(eq + 1).split(':');
    if (limits.length > 2) throw new FlagError('--ulimit', v, `too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
    const num = (s: string) => {
      if (!/^[+-]?\d+$/.test(s)) throw new FlagError('--ulimit', v, `strconv.ParseInt: parsing "${s}": invalid syntax`);
      return Number(s);
    };
    const soft = num(limits[0]);
    const hard = limits.length === 2 ? num(limits[1]) : soft;
    if (soft > hard) throw new FlagError('--ulimit', v, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    byName.set(name, { Name: name, Hard: hard, Soft: soft });
  }
  return [...byName.values()];
}

function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  if (u === 'ALL' || u.startsWith('CAP_')) return u;
  return `CAP_${u}`;
}

/** Normalised CapAdd/CapDrop: "ALL" trumps the rest, adding wins over dropping, sorted. */
export function effectiveCaps(add: string[], drop: string[]): { CapAdd?: string[]; CapDrop?: string[] } {
  let a = new Set(add.map(normalizeCap));
  let d = new Set(drop.map(normalizeCap));
  if (a.has('ALL')) a = new Set(['ALL']);
  if (d.has('ALL')) d = new Set(['ALL']);
  const capDrop = [...d].filter((c) => !a.has(c)).sort();
  const capAdd = [...a].sort();
  return { ...(capAdd.length ? { CapAdd: capAdd } : {}), ...(capDrop.length ? { CapDrop: capDrop } : {}) };
}

/** --add-host host:ip (or host=ip); ip may be "host-gateway". */
export function parseExtraHost(v: string): string {
  let i = v.indexOf('=');
  if (i < 0) i = v.indexOf(':');
  if (i <= 0) throw new FlagError('--add-host', v, `bad format for add-host: "${v}"`);
  const host = v.slice(0, i);
  let ip = v.slice(i + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== 'host-gateway' && isIP(ip) === 0) throw new FlagError('--add-host', v, `invalid IP address in add-host: "${ip}"`);
  return `${host}:${ip}`;
}

export function validateIp(v: string, flag: string): string {
  if (isIP(v.trim()) === 0) throw new FlagError(flag, v, `IP address is not correctly formatted: ${v}`);
  return v.trim();
}
