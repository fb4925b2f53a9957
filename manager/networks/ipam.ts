// Cluster address management, pure: which subnets and VXLAN IDs the swarm's networks hold (one
// table for the cluster), and which addresses of each network are handed out (one pool per
// network). Both live in the store as `ipam` objects and every change to them is committed with
// a compare on the version it was planned from, so two allocators that race never hand out the
// same subnet, VNI or address: the second one's write fails and it plans again.
import { ShoalError, invalid } from '../../shared/errors';
import { allocate, choosePool, newAllocations, releaseOwner, type Allocations, type DefaultPool, type Pool } from '../../shared/net/ipam';
import { formatCidr, overlaps, parseCidr } from '../../shared/net/ipv4';
import type { IPAMConfig } from '../../shared/swarm';
import type { StoredObject } from '../store';

/** The `ipam` object that records every swarm network's subnet and VNI. */
export const SUBNETS_ID = 'subnets';

export interface SubnetTable extends StoredObject {
  /** subnet CIDR -> network ID */
  Subnets: Record<string, string>;
  /** VXLAN ID (decimal) -> network ID */
  VNIs: Record<string, string>;
}

/** One network's addresses: the pool and who holds what ("task:<id>", "vip:<service id>"). */
export interface AddressPool extends StoredObject {
  Pool: Pool;
  Allocations: Allocations;
}

/**
 * Docker's default address pool for swarm networks: 10.0.0.0/8 cut into /24s. The ingress
 * network takes the first free one, as Docker's 10.0.0.0/24.
 */
export const DEFAULT_SWARM_POOLS: DefaultPool[] = [{ range: '10.0.0.0/8', prefix: 24 }];

/**
 * The cluster's pools for automatic subnets, from `swarm init --default-addr-pool CIDR...
 * --default-addr-pool-mask-length N` (Docker's defaults when absent). Each pool must be an
 * IPv4 CIDR that no other overlaps, and N must cut it into subnets of at least 4 addresses.
 * INVALID_ARGUMENT naming the value otherwise. Pure.
 */
export function swarmAddressPools(pools: readonly string[] | undefined, subnetSize: number | undefined): DefaultPool[] {
  const size = subnetSize || 24;
  if (!Number.isInteger(size) || size < 1 || size > 29) throw invalid(`invalid default address pool mask length ${subnetSize}: it must be between 1 and 29`);
  if (!pools?.length) return DEFAULT_SWARM_POOLS.map((p) => ({ ...p, prefix: size }));
  const cidrs = pools.map((p) => {
    if (typeof p !== 'string') throw invalid(`invalid default address pool ${JSON.stringify(p)}: expected an IPv4 CIDR`);
    const c = parseCidr(p);
    if (c.prefix > size) throw invalid(`invalid default address pool ${p}: it is smaller than a /${size} subnet (the mask length)`);
    return c;
  });
  cidrs.forEach((a, i) => cidrs.slice(i + 1).forEach((b, j) => {
    if (overlaps(a, b)) throw invalid(`default address pools ${pools[i]} and ${pools[i + 1 + j]} overlap`);
  }));
  return cidrs.map((c) => ({ range: formatCidr(c), prefix: size }));
}

/** The cluster object's fields that say where automatic subnets come from. */
export interface AddressPools {
  DefaultAddrPool: string[];
  SubnetSize: number;
}

/** The pools the cluster object names, or Docker's defaults. */
export function clusterAddressPools(cluster: Partial<AddressPools> | undefined): DefaultPool[] {
  return swarmAddressPools(cluster?.DefaultAddrPool, cluster?.SubnetSize);
}

/** Docker numbers overlay VNIs from 4097 up; the 24-bit field ends at 2^24 - 1. */
export const FIRST_VNI = 4097;
export const LAST_VNI = 2 ** 24 - 1;

export function emptySubnetTable(): SubnetTable {
  return { ID: SUBNETS_ID, Subnets: {}, VNIs: {} };
}

export interface Reservation {
  table: SubnetTable;
  pool: AddressPool;
  vni: number;
}

/**
 * Reserve a subnet and a VNI for a new network. `names` names the networks already in the table
 * (for the overlap message); `hostRoutes` are destinations the automatic choice avoids (the
 * manager's own routes, so a lab or LAN subnet is never handed to an overlay).
 */
export function reserveNetwork(table: SubnetTable, networkId: string, req: IPAMConfig | undefined, opts: { names: Record<string, string>; hostRoutes: string[]; defaults?: DefaultPool[] }): Reservation {
  const used = Object.entries(table.Subnets).map(([subnet, id]) => ({ subnet, network: opts.names[id] ?? id }));
  const pool = choosePool(req ? { Subnet: req.Subnet, Gateway: req.Gateway, IPRange: req.Range } : undefined, used, opts.hostRoutes, opts.defaults ?? DEFAULT_SWARM_POOLS);
  let vni = FIRST_VNI;
  while (table.VNIs[String(vni)] !== undefined) vni++;
  if (vni > LAST_VNI) throw new ShoalError('UNAVAILABLE', 'no free VXLAN ID is left for a new overlay network');
  const next: SubnetTable = { ...table, Subnets: { ...table.Subnets, [pool.subnet]: networkId }, VNIs: { ...table.VNIs, [String(vni)]: networkId } };
  return { table: next, pool: { ID: networkId, Pool: pool, Allocations: newAllocations() }, vni };
}

/** The table without a removed network's subnet and VNI. */
export function releaseNetwork(table: SubnetTable, networkId: string): SubnetTable {
  const keep = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).filter(([, id]) => id !== networkId));
  return { ...table, Subnets: keep(table.Subnets), VNIs: keep(table.VNIs) };
}

export const taskOwner = (taskId: string) => `task:${taskId}`;
export const vipOwner = (serviceId: string) => `vip:${serviceId}`;
/** A node's own address on the ingress network (the routing mesh's source address). */
export const nodeOwner = (nodeId: string) => `node:${nodeId}`;

/** An address with the pool's prefix length, as Docker writes attachment addresses ("10.0.1.5/24"). */
export function withPrefix(pool: Pool, ip: string): string {
  return `${ip}/${parseCidr(pool.subnet).prefix}`;
}

/** A copy of `pool` with one more address held by `owner` (the one it holds already, if any). */
export function takeAddress(pool: AddressPool, owner: string): { pool: AddressPool; address: string } {
  const held = Object.entries(pool.Allocations.allocated).find(([, o]) => o === owner)?.[0];
  if (held) return { pool, address: withPrefix(pool.Pool, held) };
  const alloc: Allocations = { allocated: { ...pool.Allocations.allocated }, last: pool.Allocations.last };
  const ip = allocate(pool.Pool, alloc, owner);
  return { pool: { ...pool, Allocations: alloc }, address: withPrefix(pool.Pool, ip) };
}

/** A copy of `pool` without what the owners hold; the same object when they hold nothing. */
export function dropOwners(pool: AddressPool, owners: ReadonlySet<string>): AddressPool {
  if (!Object.values(pool.Allocations.allocated).some((o) => owners.has(o))) return pool;
  const alloc: Allocations = { allocated: { ...pool.Allocations.allocated }, last: pool.Allocations.last };
  for (const o of owners) releaseOwner(alloc, o);
  return { ...pool, Allocations: alloc };
}
