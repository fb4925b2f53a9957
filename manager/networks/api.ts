// Swarm networks behind the engine's /networks endpoints: the engine answers for its local
// networks and asks this for the cluster's. Only a manager shows or changes swarm networks; a
// worker or a node outside any swarm gets dockerd's refusals.
import { ShoalError, isShoalError } from '../../shared/errors';
import { networkMatches } from '../../shared/net/filters';
import { hostRoutes } from '../../shared/net/routes';
import type { Network } from '../../shared/swarm';
import type { ControlContext } from '../api/context';
import { createNetwork, findNetwork, removeNetwork } from './objects';
import { networkFacts, swarmNetworkJson } from './present';
import { compileNetworkCreate, wantsSwarmNetwork } from './spec';

/** What the engine's network routes need of the cluster (see worker/api/networks.ts). */
export interface ClusterNetworks {
  /** Swarm networks matching the filters; none on a node that is not a manager. */
  list(filters: Map<string, string[]>): Promise<Array<Record<string, unknown>>>;
  /** A swarm network by ID, name or ID prefix; undefined when none matches (or not a manager). */
  find(ref: string): Promise<Record<string, unknown> | undefined>;
  /** Whether a create request is for a swarm network. */
  wants(body: unknown): boolean;
  create(body: unknown): Promise<{ Id: string; Warning: string }>;
  /** false when no swarm network matches `ref`. */
  remove(ref: string): Promise<boolean>;
}

const FROM_WORKER = 'Cannot create a multi-host network from a worker node. Please create the network from a manager node.';
const NOT_IN_SWARM = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export function clusterNetworks(ctx: Pick<ControlContext, 'store' | 'role' | 'newId' | 'now' | 'events'>): ClusterNetworks {
  const manager = () => ctx.role() === 'manager';
  const lookup = async (ref: string): Promise<Network | undefined> => {
    if (!manager()) return undefined;
    try {
      return await findNetwork(ctx.store, ref);
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  };
  return {
    async list(filters) {
      if (!manager()) return [];
      const { items } = await ctx.store.list<Network>('networks');
      return items
        .filter((n) => networkMatches(networkFacts(n), filters, false))
        .sort((a, b) => (a.CreatedAt ?? '').localeCompare(b.CreatedAt ?? ''))
        .map(swarmNetworkJson);
    },
    async find(ref) {
      const n = await lookup(ref);
      return n && swarmNetworkJson(n);
    },
    wants: wantsSwarmNetwork,
    async create(body) {
      const role = ctx.role();
      if (role === 'worker') throw new ShoalError('PERMISSION_DENIED', FROM_WORKER);
      if (role !== 'manager') throw new ShoalError('UNAVAILABLE', NOT_IN_SWARM);
      const spec = compileNetworkCreate(body);
      const n = await createNetwork({ store: ctx.store, newId: ctx.newId, now: ctx.now, hostRoutes }, spec);
      ctx.events?.publish('network', 'create', n.ID, { name: n.Spec.Name, type: 'overlay' }, 'swarm');
      return { Id: n.ID, Warning: '' };
    },
    async remove(ref) {
      if (!(await lookup(ref))) return false;
      const n = await removeNetwork(ctx.store, ref);
      ctx.events?.publish('network', 'destroy', n.ID, { name: n.Spec.Name, type: 'overlay' }, 'swarm');
      return true;
    },
  };
}
