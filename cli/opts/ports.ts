// -p/--publish and --expose: docker's [ip:][hostPort:]containerPort[/proto] syntax with ranges,
// plus the long form "target=80,published=8080,protocol=udp,host_ip=...".
import { isIP } from 'node:net';
import { OptionError } from './errors';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface PortSpec {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
}

function parseRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a) return undefined;
  return [a, b];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1];
  if (n === 1) return ['', '', container];
  if (n === 2) return ['', parts[0], container];
  if (n === 3) return [parts[0], parts[1], container];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2], container];
}

function splitProto(s: string): [string, string] {
  const i = s.indexOf('/');
  if (i < 0) return ['tcp', s];
  if (i === 0) return ['', ''];
  const proto = s.slice(i + 1);
  return [proto === '' ? 'tcp' : proto, s.slice(0, i)];
}

/** Convert the long "target=80,published=8080" form to the short one, as docker's CLI does. */
function standardNotation(spec: string): string {
  if (!spec.includes('=')) return spec;
  const kv: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) throw new OptionError(`invalid publish opts format (should be name=value but got '${part}')`);
    kv[part.slice(0, i)] = part.slice(i + 1);
  }
  if (!kv.target) throw new OptionError(`missing required field 'target' in publish opts: ${spec}`);
  const known = new Set(['target', 'published', 'protocol', 'mode', 'host_ip']);
  for (const k of Object.keys(kv)) if (!known.has(k)) throw new OptionError(`invalid publish opts format (unknown key '${k}')`);
  const proto = kv.protocol ? `/${kv.protocol}` : '';
  const host = kv.published ?? '';
  return kv.host_ip ? `${kv.host_ip}:${host}:${kv.target}${proto}` : host ? `${host}:${kv.target}${proto}` : `${kv.target}${proto}`;
}

/** Parse -p values (and --expose ports) into ExposedPorts and PortBindings. */
export function parsePorts(publish: string[], expose: string[] = []): PortSpec {
  const spec: PortSpec = { exposed: {}, bindings: {} };
  for (const raw0 of publish) {
    const raw = standardNotation(raw0);
    let [ip, hostPort, containerPort] = splitParts(raw);
    const [proto, cport] = splitProto(containerPort);
    containerPort = cport;
    if (ip.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(ip);
      if (!m) throw new OptionError(`invalid IP address ${ip}: missing ']' in address`);
      ip = m[1];
    }
    if (ip && isIP(ip) === 0) throw new OptionError(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new OptionError(`no port specified: ${raw}<empty>`);
    const cr = parseRange(containerPort);
    if (!cr) throw new OptionError(`invalid containerPort: ${containerPort}`);
    let hr: [number, number] = [0, 0];
    if (hostPort) {
      const r = parseRange(hostPort);
      if (!r) throw new OptionError(`invalid hostPort: ${hostPort}`);
      hr = r;
    }
    if (hostPort && cr[1] - cr[0] !== hr[1] - hr[0] && cr[1] !== cr[0]) {
      throw new OptionError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
    const p = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(p)) throw new OptionError(`invalid proto: ${proto}`);
    for (let i = 0; i <= cr[1] - cr[0]; i++) {
      const port = `${cr[0] + i}/${p}`;
      let hp = hostPort ? String(hr[0] + i) : '';
      // a single container port with a host range: the range is where the daemon picks one
      if (cr[0] === cr[1] && hr[0] !== hr[1]) hp = `${hr[0]}-${hr[1]}`;
      spec.exposed[port] = {};
      (spec.bindings[port] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  for (const e of expose) {
    const [proto, port] = splitProto(e);
    const r = parseRange(port);
    if (!r) throw new OptionError(`invalid range format for --expose: ${e}, error: invalid port ${port}`);
    const p = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(p)) throw new OptionError(`invalid proto: ${proto}`);
    for (let n = r[0]; n <= r[1]; n++) spec.exposed[`${n}/${p}`] = {};
  }
  return spec;
}
