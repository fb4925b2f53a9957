// Published ports: parse `-p` specs and PortBindings, choose host ports, report them as Docker does. Pure.
import { invalid, conflict } from '../../shared/errors';
import type { PortBinding, PortMap } from '../engine/contracts';
import { isIPv4 } from '../../shared/net/ipv4';

export type Proto = 'tcp' | 'udp' | 'sctp';
const PROTOS: Proto[] = ['tcp', 'udp', 'sctp'];

/** What the container asked for: a host port, a host port range to pick from, or any (ephemeral). */
export interface WantedBinding {
  proto: Proto;
  containerPort: number;
  /** "" for every host address. */
  hostIp: string;
  /** Inclusive range to pick from; undefined for the ephemeral range. */
  hostPorts?: [number, number];
}

/** A host port bound to a container port. */
export interface Binding {
  proto: Proto;
  containerPort: number;
  /** "0.0.0.0" for every host address. */
  hostIp: string;
  hostPort: number;
}

export const ANY = '0.0.0.0';

function portNumber(s: string, what: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw invalid(`invalid ${what} '${s}': expected a number from 1 to 65535`);
  return Number(s);
}

function portRange(s: string, what: string): [number, number] {
  const [a, b] = s.split('-', 2);
  const lo = portNumber(a, what);
  const hi = b === undefined ? lo : portNumber(b, what);
  if (hi < lo) throw invalid(`invalid ${what} range '${s}': the end is below the start`);
  return [lo, hi];
}

function proto(s: string | undefined): Proto {
  const p = (s ?? 'tcp').toLowerCase();
  if (!PROTOS.includes(p as Proto)) throw invalid(`invalid protocol '${s}': expected tcp, udp or sctp`);
  return p as Proto;
}

/** "80/tcp" (or "80") -> port and protocol. */
export function parsePortKey(key: string): { port: number; proto: Proto } {
  const [p, pr] = key.split('/', 2);
  return { port: portNumber(p, 'container port'), proto: proto(pr) };
}

export function portKey(port: number, pr: Proto): string {
  return `${port}/${pr}`;
}

function hostIpOf(ip: string | undefined): string {
  const v = (ip ?? '').trim();
  if (v === '' || v === ANY) return '';
  if (v.includes(':')) throw invalid(`invalid host IP '${v}': IPv6 port bindings are not supported`);
  if (!isIPv4(v)) throw invalid(`invalid host IP '${v}'`);
  return v;
}

/**
 * Parse a `docker run -p` value: [ip:][hostPort:]containerPort[/proto], ports possibly ranges.
 * Returns PortBindings entries as the Docker CLI sends them.
 */
export function parsePublishSpec(spec: string): Array<{ key: string; binding: PortBinding }> {
  let rest = spec.trim();
  let pr: Proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    pr = proto(rest.slice(slash + 1));
    rest = rest.slice(0, slash);
  }
  let ip = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw invalid(`invalid port spec '${spec}': unclosed '['`);
    ip = rest.slice(1, close);
    rest = rest.slice(close + 1).replace(/^:/, '');
  }
  const parts = rest.split(':');
  if (parts.length > 3) throw invalid(`invalid port spec '${spec}': expected [ip:][hostPort:]containerPort[/protocol]`);
  let hostPart = '';
  if (parts.length === 3) [ip, hostPart] = [parts[0], parts[1]];
  else if (parts.length === 2) hostPart = parts[0];
  const containerPart = parts[parts.length - 1];
  if (containerPart === '') throw invalid(`invalid port spec '${spec}': no container port`);
  const hostIp = hostIpOf(ip);
  const [clo, chi] = portRange(containerPart, 'container port');
  const out: Array<{ key: string; binding: PortBinding }> = [];
  if (hostPart === '') {
    for (let p = clo; p <= chi; p++) out.push({ key: portKey(p, pr), binding: { HostIp: hostIp, HostPort: '' } });
    return out;
  }
  const [hlo, hhi] = portRange(hostPart, 'host port');
  if (clo === chi) {
    out.push({ key: portKey(clo, pr), binding: { HostIp: hostIp, HostPort: hlo === hhi ? String(hlo) : `${hlo}-${hhi}` } });
    return out;
  }
  if (hhi - hlo !== chi - clo) throw invalid(`invalid port spec '${spec}': host and container port ranges differ in length`);
  for (let i = 0; i <= chi - clo; i++) out.push({ key: portKey(clo + i, pr), binding: { HostIp: hostIp, HostPort: String(hlo + i) } });
  return out;
}

/** The bindings a container asks for: its PortBindings, plus every exposed port with publishAll (-P). */
export function wantedBindings(portBindings: PortMap, publishAll: boolean, exposed: string[]): WantedBinding[] {
  const out: WantedBinding[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(portBindings ?? {})) {
    const { port, proto: pr } = parsePortKey(key);
    bound.add(portKey(port, pr));
    for (const b of list ?? []) {
      const hp = (b.HostPort ?? '').trim();
      out.push({ proto: pr, containerPort: port, hostIp: hostIpOf(b.HostIp), hostPorts: hp === '' || hp === '0' ? undefined : portRange(hp, 'host port') });
    }
    if (!list || list.length === 0) {
      // A key without bindings is published (on a random port) only by -P.
      if (publishAll) out.push({ proto: pr, containerPort: port, hostIp: '' });
    }
  }
  if (publishAll) {
    for (const key of exposed) {
      const { port, proto: pr } = parsePortKey(key);
      if (!bound.has(portKey(port, pr))) out.push({ proto: pr, containerPort: port, hostIp: '' });
    }
  }
  return out;
}

function clashes(a: { proto: Proto; hostIp: string; hostPort: number }, b: Binding): boolean {
  const ai = a.hostIp === '' ? ANY : a.hostIp;
  return a.proto === b.proto && a.hostPort === b.hostPort && (ai === ANY || b.hostIp === ANY || ai === b.hostIp);
}

export interface AssignOptions {
  /** Inclusive ephemeral range for random host ports (ip_local_port_range). */
  ephemeral: [number, number];
  /** Random integer in [0, n). */
  random: (n: number) => number;
  /** Extra check for a candidate random port (e.g. not listened on by a host process). */
  available?: (proto: Proto, hostIp: string, port: number) => boolean;
}

/**
 * Choose concrete host ports. A fixed port taken by another container (or twice in this request)
 * is a conflict, as "port is already allocated" in Docker.
 */
export function assignHostPorts(wanted: WantedBinding[], taken: Binding[], opts: AssignOptions): Binding[] {
  const busy = [...taken];
  const out: Binding[] = [];
  const add = (w: WantedBinding, hostPort: number) => {
    const b: Binding = { proto: w.proto, containerPort: w.containerPort, hostIp: w.hostIp === '' ? ANY : w.hostIp, hostPort };
    out.push(b);
    busy.push(b);
  };
  // Fixed ports first, so a random pick never steals a port asked for explicitly.
  for (const w of wanted.filter((x) => x.hostPorts && x.hostPorts[0] === x.hostPorts[1])) {
    const port = w.hostPorts![0];
    if (busy.some((b) => clashes({ ...w, hostPort: port }, b))) throw conflict(`Bind for ${w.hostIp || ANY}:${port} failed: port is already allocated`);
    add(w, port);
  }
  for (const w of wanted.filter((x) => !x.hostPorts || x.hostPorts[0] !== x.hostPorts[1])) {
    const [lo, hi] = w.hostPorts ?? opts.ephemeral;
    const n = hi - lo + 1;
    // Ranges given by the user are tried in order (as Docker does); the ephemeral one from a random start.
    const start = w.hostPorts ? 0 : opts.random(n);
    let chosen: number | undefined;
    for (let i = 0; i < n && chosen === undefined; i++) {
      const port = lo + ((start + i) % n);
      if (busy.some((b) => clashes({ ...w, hostPort: port }, b))) continue;
      if (!w.hostPorts && opts.available && !opts.available(w.proto, w.hostIp || ANY, port)) continue;
      chosen = port;
    }
    if (chosen === undefined) throw conflict(`Bind for ${w.hostIp || ANY}:${lo}-${hi} failed: port is already allocated (no free port in the range)`);
    add(w, chosen);
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or bound container port, with its host bindings or null. */
export function portsReport(exposed: string[], portBindings: PortMap, bindings: Binding[]): PortMap {
  const out: PortMap = {};
  const keys = new Set<string>();
  for (const k of exposed) keys.add(portKey(parsePortKey(k).port, parsePortKey(k).proto));
  for (const k of Object.keys(portBindings ?? {})) keys.add(portKey(parsePortKey(k).port, parsePortKey(k).proto));
  for (const k of keys) out[k] = null;
  for (const b of bindings) {
    const k = portKey(b.containerPort, b.proto);
    (out[k] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}
