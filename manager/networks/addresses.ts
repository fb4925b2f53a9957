// Handing out and taking back addresses in the networks' pools in the store. Every round
// writes the pools it changed in one transaction compared on the versions it read, so two
// allocators never hand out the same address: the loser re-reads and plans again. Owners keep
// what they hold ("task:<id>" asks twice, gets the same address), so a task whose own write
// failed after its address was reserved gets that address back on the next try.
import { isShoalError, errorMessage } from '../../shared/errors';
import type { BatchOp, ClusterStore } from '../store';
import { dropOwners, takeAddress, type AddressPool } from './ipam';

/** Rounds before giving up on a contended pool (each lost round means another allocator won one). */
const ATTEMPTS = 16;

export interface AddressWant {
  owner: string;
  networkId: string;
}

export interface Reserved {
  /** `${owner} ${networkId}` -> "10.0.1.5/24" */
  addresses: Map<string, string>;
  /** Wants that could not be met (no such pool, pool exhausted), with the reason. */
  failed: Map<string, string>;
  /** The pools as written (for the caller's cache). */
  pools: AddressPool[];
}

export const wantKey = (owner: string, networkId: string) => `${owner} ${networkId}`;

/** Pools by network ID: from a cache first, from the store after a lost race. */
export type PoolReader = (networkId: string, fresh: boolean) => Promise<AddressPool | undefined>;

export function storePools(store: ClusterStore, cached?: (id: string) => AddressPool | undefined): PoolReader {
  return async (id, fresh) => (!fresh && cached?.(id)) || store.get<AddressPool>('ipam', id);
}

/** A short random pause after a lost race, so racers do not retry in lockstep. */
export const backoff = () => new Promise((r) => setTimeout(r, 1 + Math.random() * 8));

/**
 * Plan, then write the changed pools in one transaction compared on their versions; after a
 * lost race, plan again from fresh reads. Returns the pools as stored.
 */
async function commitPools(store: ClusterStore, plan: (fresh: boolean) => Promise<AddressPool[]>): Promise<AddressPool[]> {
  for (let attempt = 1; ; attempt++) {
    const changed = await plan(attempt > 1);
    if (!changed.length) return [];
    try {
      const res = await store.batch(changed.map((object): BatchOp => ({ op: 'update', kind: 'ipam', object })), { atomic: true });
      return res.map((r, i) => (r.ok && r.object ? (r.object as AddressPool) : changed[i]));
    } catch (e) {
      if (!(isShoalError(e, 'CONFLICT') || isShoalError(e, 'NOT_FOUND')) || attempt >= ATTEMPTS) throw e;
      await backoff();
    }
  }
}

export async function reserveAddresses(store: ClusterStore, wants: readonly AddressWant[], read: PoolReader = storePools(store)): Promise<Reserved> {
  const byNet = new Map<string, string[]>();
  for (const w of wants) byNet.set(w.networkId, [...(byNet.get(w.networkId) ?? []), w.owner]);
  let out: Reserved = { addresses: new Map(), failed: new Map(), pools: [] };
  const pools = await commitPools(store, async (fresh) => {
    out = { addresses: new Map(), failed: new Map(), pools: [] };
    const changed: AddressPool[] = [];
    for (const [netId, owners] of byNet) {
      let pool = await read(netId, fresh);
      if (!pool) {
        for (const o of owners) out.failed.set(wantKey(o, netId), `network ${netId} has no address pool (was it removed?)`);
        continue;
      }
      const before = pool;
      for (const o of owners) {
        try {
          const r = takeAddress(pool, o);
          pool = r.pool;
          out.addresses.set(wantKey(o, netId), r.address);
        } catch (e) {
          out.failed.set(wantKey(o, netId), errorMessage(e));
        }
      }
      if (pool !== before) changed.push(pool);
    }
    return changed;
  });
  out.pools = pools;
  return out;
}

/**
 * Take back what owners hold: `owners` maps a network ID (or '*' for every pool) to the owners
 * to drop there. Returns the pools written.
 */
export async function releaseAddresses(store: ClusterStore, owners: ReadonlyMap<string, ReadonlySet<string>>, read: PoolReader, allPools: () => Iterable<string>): Promise<AddressPool[]> {
  if (!owners.size) return [];
  const everywhere = owners.get('*') ?? new Set<string>();
  const nets = new Set<string>([...owners.keys()].filter((k) => k !== '*'));
  if (everywhere.size) for (const id of allPools()) nets.add(id);
  return commitPools(store, async (fresh) => {
    const changed: AddressPool[] = [];
    for (const id of nets) {
      const pool = await read(id, fresh);
      if (!pool) continue;
      const next = dropOwners(pool, new Set([...everywhere, ...(owners.get(id) ?? [])]));
      if (next !== pool) changed.push(next);
    }
    return changed;
  });
}
