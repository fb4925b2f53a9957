// IP address management for local bridge and cluster (overlay) networks: choose a subnet, hand out addresses, take them back.
// Pure functions over plain state objects; the network manager persists that state.
import { ShoalError, invalid, conflict } from '../errors';
import { parseIPv4, formatIPv4, parseCidr, formatCidr, contains, within, overlaps, last, size, isIPv4, type Cidr } from './ipv4';

/** IPAM.Config[] entry as the Docker API gives it. */
export interface PoolRequest {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** A network's address pool, fully specified. */
export interface Pool {
  subnet: string;
  gateway: string;
  ipRange?: string;
  /** Addresses reserved by the user (AuxiliaryAddresses): never handed out. */
  aux: Record<string, string>;
}

/** Which addresses of a pool are in use, and by whom (a container ID). */
export interface Allocations {
  allocated: Record<string, string>;
  /** The last address handed out dynamically: the next search starts after it, so a freed address is not reused at once. */
  last?: string;
}

/** A default address pool, carved into subnets of `prefix`. */
export interface DefaultPool {
  range: string;
  prefix: number;
}

/**
 * User-defined networks get a /24 each (not Docker's /16): 253 containers per local network is
 * plenty, and small subnets leave room for many networks and many daemons on one machine before
 * the pool runs dry. The default bridge (172.17.0.0/16 unless --bip) sits below this pool.
 */
export const DEFAULT_POOLS: DefaultPool[] = [
  { range: '172.18.0.0/15', prefix: 24 },
  { range: '172.20.0.0/14', prefix: 24 },
  { range: '172.24.0.0/13', prefix: 24 },
  { range: '192.168.0.0/16', prefix: 24 },
];

export interface UsedSubnet {
  subnet: string;
  network: string; // name, for error messages
}

function checkPoolShape(subnet: Cidr, what: string): void {
  if (subnet.prefix > 30) throw invalid(`invalid subnet ${formatCidr(subnet)}${what}: a bridge network needs at least a /30`);
}

/**
 * Compile a network's pool from the user's IPAM config (or pick the next free default subnet).
 * `used` are the subnets of this daemon's other networks; `hostRoutes` the destinations of the
 * host's routes, which automatic choice avoids (an explicit subnet is the user's call, as in Docker).
 */
export function choosePool(req: PoolRequest | undefined, used: UsedSubnet[], hostRoutes: string[], defaults: DefaultPool[] = DEFAULT_POOLS): Pool {
  const r = req ?? {};
  if (r.Subnet && r.Subnet.includes(':')) throw invalid(`IPv6 subnets are not supported (${r.Subnet})`);
  let subnet: Cidr;
  if (r.Subnet) {
    subnet = parseCidr(r.Subnet, true);
    checkPoolShape(subnet, '');
    for (const u of used) {
      if (overlaps(subnet, parseCidr(u.subnet, true))) {
        throw new ShoalError('PERMISSION_DENIED', `invalid pool request: Pool overlaps with other one on this address space (${formatCidr(subnet)} overlaps ${u.subnet} of network ${u.network})`);
      }
    }
  } else {
    if (r.Gateway || r.IPRange) throw invalid('a gateway or an IP range needs a subnet (--subnet)');
    const taken = [...used.map((u) => parseCidr(u.subnet, true)), ...hostRoutes.map((h) => parseCidr(h, true)).filter((c) => c.prefix > 0)];
    const found = nextFreeSubnet(defaults, taken);
    if (!found) throw new ShoalError('UNAVAILABLE', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    subnet = found;
  }
  const net = formatCidr(subnet);
  let gateway: number;
  if (r.Gateway) {
    gateway = parseIPv4(r.Gateway.replace(/\/\d+$/, ''));
    if (!usable(subnet, gateway)) throw invalid(`gateway ${r.Gateway} is not a usable address of subnet ${net}`);
  } else {
    gateway = subnet.base + 1;
  }
  let ipRange: string | undefined;
  if (r.IPRange) {
    const range = parseCidr(r.IPRange, true);
    if (!within(range, subnet)) throw invalid(`IP range ${r.IPRange} is not inside subnet ${net}`);
    ipRange = formatCidr(range);
  }
  const aux: Record<string, string> = {};
  for (const [name, ip] of Object.entries(r.AuxiliaryAddresses ?? {})) {
    if (!isIPv4(ip) || !contains(subnet, parseIPv4(ip))) throw invalid(`auxiliary address ${name}=${ip} is not an address of subnet ${net}`);
    aux[name] = ip;
  }
  return { subnet: net, gateway: formatIPv4(gateway), ipRange, aux };
}

function nextFreeSubnet(defaults: DefaultPool[], taken: Cidr[]): Cidr | undefined {
  for (const d of defaults) {
    const range = parseCidr(d.range, true);
    const step = 2 ** (32 - d.prefix);
    for (let base = range.base; base + step - 1 <= last(range); base += step) {
      const cand = { base, prefix: d.prefix };
      if (!taken.some((t) => overlaps(cand, t))) return cand;
    }
  }
  return undefined;
}

/** Not the network or broadcast address. */
function usable(subnet: Cidr, ip: number): boolean {
  return contains(subnet, ip) && ip !== subnet.base && ip !== last(subnet);
}

function reserved(pool: Pool, ip: string): boolean {
  return ip === pool.gateway || Object.values(pool.aux).includes(ip);
}

export function newAllocations(): Allocations {
  return { allocated: {} };
}

/**
 * Hand out an address to `owner`: the requested one (which must be free and usable), or the next
 * free one after the last handed out, wrapping around the range.
 */
export function allocate(pool: Pool, alloc: Allocations, owner: string, requested?: string): string {
  const subnet = parseCidr(pool.subnet);
  if (requested) {
    if (!isIPv4(requested)) throw invalid(`invalid IPv4 address '${requested}'`);
    const n = parseIPv4(requested);
    if (!usable(subnet, n)) throw invalid(`requested address ${requested} is not a usable address of subnet ${pool.subnet}`);
    if (reserved(pool, requested)) throw conflict(`Address already in use: ${requested} is reserved on subnet ${pool.subnet}`);
    const holder = alloc.allocated[requested];
    if (holder !== undefined && holder !== owner) throw conflict(`Address already in use: ${requested}`);
    alloc.allocated[requested] = owner;
    return requested;
  }
  const range = pool.ipRange ? parseCidr(pool.ipRange) : subnet;
  const first = range.base;
  const count = size(range);
  const start = alloc.last && contains(range, parseIPv4(alloc.last)) ? parseIPv4(alloc.last) - first + 1 : 0;
  for (let i = 0; i < count; i++) {
    const n = first + ((start + i) % count);
    const ip = formatIPv4(n);
    if (!usable(subnet, n) || reserved(pool, ip) || alloc.allocated[ip] !== undefined) continue;
    alloc.allocated[ip] = owner;
    alloc.last = ip;
    return ip;
  }
  throw new ShoalError('UNAVAILABLE', `no available IPv4 addresses in ${pool.ipRange ?? pool.subnet}`);
}

/** Give back one address; a no-op when it is not held by `owner`. */
export function release(alloc: Allocations, ip: string, owner: string): void {
  if (alloc.allocated[ip] === owner) delete alloc.allocated[ip];
}

/** Give back every address `owner` holds; returns them. */
export function releaseOwner(alloc: Allocations, owner: string): string[] {
  const freed = Object.keys(alloc.allocated).filter((ip) => alloc.allocated[ip] === owner);
  for (const ip of freed) delete alloc.allocated[ip];
  return freed;
}

export function prefixLength(pool: Pool): number {
  return parseCidr(pool.subnet).prefix;
}

/** The pool of the default bridge from a gateway CIDR such as 172.17.0.1/16. */
export function poolFromGatewayCidr(cidr: string): Pool {
  const c = parseCidr(cidr, true);
  checkPoolShape(c, ` (from ${cidr})`);
  const gw = cidr.split('/')[0];
  if (!usable(c, parseIPv4(gw))) throw invalid(`bridge address ${cidr} is the network or broadcast address of its subnet`);
  return { subnet: formatCidr(c), gateway: gw, aux: {} };
}
