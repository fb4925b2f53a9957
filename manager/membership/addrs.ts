// --listen-addr and --advertise-addr as dockerd reads them: an IP, an interface name, or
// either with a port; the advertised address defaults to the interface of the default route.
import { promises as fs } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import { invalid } from '../../shared/errors';
import type { HostPort } from '../etcd/urls';

export const DEFAULT_SWARM_PORT = 2377;


function interfaceAddress(name: string): string | undefined {
  return networkInterfaces()[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

/** "IP", "IP:PORT", ":PORT", "IFACE", "IFACE:PORT" -> host and port (host may be 0.0.0.0). */
export function parseAddr(field: string, value: string | undefined, dflt: HostPort): HostPort {
  if (value === undefined || value === '') return dflt;
  const m = /^([^:]*)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw invalid(`invalid ${field} "${value}": expected an address or interface, optionally with :port`);
  const port = m[2] !== undefined ? Number(m[2]) : dflt.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`invalid ${field} "${value}": bad port`);
  let host = m[1] || dflt.host;
  if (!isIPv4(host)) {
    const ip = interfaceAddress(host);
    if (!ip) throw invalid(`invalid ${field} "${value}": "${host}" is neither an IPv4 address nor an interface with one`);
    host = ip;
  }
  return { host, port };
}

/** The interface carrying the default route of this network namespace (/proc/net follows the netns). */
async function defaultRouteInterface(): Promise<string | undefined> {
  const text = await fs.readFile('/proc/self/net/route', 'utf8').catch(() => '');
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (dest === '00000000' && mask === '00000000') return iface;
  }
  return undefined;
}

/**
 * The address to advertise: the given one, else a specific listen address, else the address of
 * the default route's interface; with none of those, Docker's error asking for --advertise-addr.
 */
export async function resolveAdvertiseAddr(advertise: string | undefined, listen: HostPort): Promise<HostPort> {
  if (advertise) {
    const a = parseAddr('advertise address', advertise, { host: '', port: listen.port });
    if (a.host === '0.0.0.0') throw invalid(`advertise address must be a non-zero IP address or network interface (with optional port number)`);
    return a;
  }
  if (listen.host !== '0.0.0.0') return listen;
  const iface = await defaultRouteInterface();
  const ip = iface ? interfaceAddress(iface) : undefined;
  if (!ip) throw invalid('could not choose an IP address to advertise since this system has no default route; use --advertise-addr to set one');
  return { host: ip, port: listen.port };
}

