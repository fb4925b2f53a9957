// The short port syntax of a stack file: [ip:][published[-end]:]target[-end][/protocol].
import type { EndpointPortConfig, PortProtocol } from '../swarm/types';

export const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

export interface ParsedPorts {
  ports: EndpointPortConfig[];
  /** A host IP was given; swarm publishes on every address, so it is dropped with a warning. */
  hostIp?: string;
}

function portNumber(s: string, what: string, spec: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`invalid port '${spec}': ${what} '${s}' is not a number`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw new Error(`invalid port '${spec}': ${what} ${n} is outside 1-65535`);
  return n;
}

function range(s: string, what: string, spec: string): number[] {
  const [a, b, extra] = s.split('-');
  if (extra !== undefined) throw new Error(`invalid port '${spec}': bad ${what} range '${s}'`);
  const start = portNumber(a, what, spec);
  const end = b === undefined ? start : portNumber(b, what, spec);
  if (end < start) throw new Error(`invalid port '${spec}': ${what} range '${s}' ends before it starts`);
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

/** Parse one short-form port; throws an Error with a one-line message. */
export function parsePortSpec(input: string | number): ParsedPorts {
  const spec = String(input).trim();
  let body = spec;
  let protocol: PortProtocol = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    const p = spec.slice(slash + 1).toLowerCase();
    if (!PROTOCOLS.includes(p as PortProtocol)) throw new Error(`invalid port '${spec}': unknown protocol '${p}' (expected tcp, udp or sctp)`);
    protocol = p as PortProtocol;
    body = spec.slice(0, slash);
  }
  // An IPv6 host address comes in brackets; otherwise split on the last two colons.
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(body);
  if (v6) {
    hostIp = v6[1];
    body = v6[2];
  }
  const parts = body.split(':');
  if (parts.length > 3 || (v6 && parts.length !== 2)) throw new Error(`invalid port '${spec}': too many colons`);
  if (parts.length === 3) {
    hostIp = parts.shift();
    if (!hostIp || !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(hostIp)) throw new Error(`invalid port '${spec}': bad host address '${hostIp}'`);
  }
  const targets = range(parts[parts.length - 1], 'target port', spec);
  const published = parts.length === 2 && parts[0] !== '' ? range(parts[0], 'published port', spec) : undefined;
  if (published && published.length !== targets.length) {
    throw new Error(`invalid port '${spec}': the published range and the target range differ in length`);
  }
  const ports = targets.map((t, i): EndpointPortConfig => {
    const p: EndpointPortConfig = { Protocol: protocol, TargetPort: t, PublishMode: 'ingress' };
    if (published) p.PublishedPort = published[i];
    return p;
  });
  return hostIp ? { ports, hostIp } : { ports };
}

/** The order docker gives an endpoint's ports, so that a re-deploy compares equal. */
export function comparePorts(a: EndpointPortConfig, b: EndpointPortConfig): number {
  return (
    (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0) ||
    (a.TargetPort ?? 0) - (b.TargetPort ?? 0) ||
    (a.Protocol ?? '').localeCompare(b.Protocol ?? '') ||
    (a.PublishMode ?? '').localeCompare(b.PublishMode ?? '')
  );
}
