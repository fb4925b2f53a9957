// Creating and removing swarm networks in the store. A network, its subnet and VNI (in the
// cluster's subnet table) and its address pool are written in one transaction, compared on the
// table's version: two creations that race never get overlapping subnets or the same VNI.
import { ShoalError, conflict, isShoalError } from '../../shared/errors';
import { isTerminal, VXLAN_OPTION, type Network, type NetworkSpec, type Service, type Task } from '../../shared/swarm';
import type { BatchOp, ClusterStore, StoredObject } from '../store';
import { resolveRef } from '../api/lookup';
import { backoff } from './addresses';
import { clusterAddressPools, emptySubnetTable, releaseNetwork, reserveNetwork, SUBNETS_ID, type SubnetTable } from './ipam';

/** Retries after losing a race on the subnet table before giving up; each racer loses at most once per winner. */
const ATTEMPTS = 32;


export interface CreateNetworkDeps {
  store: ClusterStore;
  newId(): string;
  now(): Date;
  /** Destinations of this manager's routes: an automatic subnet never overlaps them. */
  hostRoutes(): Promise<string[]>;
}

const forbidden = (msg: string) => new ShoalError('PERMISSION_DENIED', msg);

export async function createNetwork(deps: CreateNetworkDeps, spec: NetworkSpec): Promise<Network> {
  const routes = spec.IPAMOptions?.Configs?.[0]?.Subnet ? [] : await deps.hostRoutes();
  for (let attempt = 1; ; attempt++) {
    const [table, nets, clusters] = await Promise.all([deps.store.get<SubnetTable>('ipam', SUBNETS_ID), deps.store.list<Network>('networks'), deps.store.list<StoredObject & { DefaultAddrPool?: string[]; SubnetSize?: number }>('cluster')]);
    if (nets.items.some((n) => n.Spec.Name === spec.Name)) throw conflict(`network with name ${spec.Name} already exists`);
    const ingress = nets.items.find((n) => n.Spec.Ingress);
    if (spec.Ingress && ingress) throw forbidden(`only one ingress network can be present; ${ingress.Spec.Name} (${ingress.ID}) is the ingress network`);
    const id = deps.newId();
    const names = Object.fromEntries(nets.items.map((n) => [n.ID, n.Spec.Name]));
    const r = reserveNetwork(table ?? emptySubnetTable(), id, spec.IPAMOptions?.Configs?.[0], { names, hostRoutes: routes, defaults: clusterAddressPools(clusters.items[0]) });
    const at = deps.now().toISOString();
    const net: Network = {
      ID: id,
      CreatedAt: at,
      UpdatedAt: at,
      Spec: spec,
      DriverState: { Name: 'overlay', Options: { [VXLAN_OPTION]: String(r.vni) } },
      IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: r.pool.Pool.subnet, Gateway: r.pool.Pool.gateway, ...(r.pool.Pool.ipRange ? { Range: r.pool.Pool.ipRange } : {}) }] },
    };
    const ops: BatchOp[] = [
      table ? { op: 'update', kind: 'ipam', object: r.table } : { op: 'create', kind: 'ipam', object: r.table },
      { op: 'create', kind: 'ipam', object: r.pool },
      { op: 'create', kind: 'networks', object: net },
    ];
    try {
      const res = await deps.store.batch(ops, { atomic: true });
      const made = res[2];
      return made.ok && made.object ? (made.object as Network) : net;
    } catch (e) {
      // The name index refuses a duplicate name created meanwhile; anything else that changed
      // under us (the table) is planned again from a fresh read.
      if (isShoalError(e, 'ALREADY_EXISTS') && /name/i.test(e.message)) throw conflict(`network with name ${spec.Name} already exists`);
      if (!(isShoalError(e, 'CONFLICT') || isShoalError(e, 'ALREADY_EXISTS')) || attempt >= ATTEMPTS) throw e;
      await backoff();
    }
  }
}

/** Services that keep a network: attached to it, or (for the ingress network) publishing ingress ports. */
export function servicesUsing(net: Network, services: readonly Service[]): Service[] {
  return services.filter((s) => {
    const attached = [...(s.Spec.TaskTemplate?.Networks ?? []), ...(s.Spec.Networks ?? [])].some((a) => a.Target === net.ID);
    const ingressPorts = !!net.Spec.Ingress && (s.Spec.EndpointSpec?.Ports ?? []).some((p) => p.PublishedPort && p.PublishMode !== 'host');
    return attached || ingressPorts;
  });
}

export async function findNetwork(store: ClusterStore, ref: string): Promise<Network> {
  return resolveRef<Network>(store, 'networks', ref, 'network', () => (n) => [n.Spec.Name]);
}

/** Remove a network no service uses and no live task is attached to; its subnet, VNI and pool go with it. */
export async function removeNetwork(store: ClusterStore, ref: string): Promise<Network> {
  for (let attempt = 1; ; attempt++) {
    const net = await findNetwork(store, ref);
    const [services, tasks, table] = await Promise.all([store.list<Service>('services'), store.list<Task>('tasks'), store.get<SubnetTable>('ipam', SUBNETS_ID)]);
    const users = servicesUsing(net, services.items);
    if (users.length) {
      const names = users.map((s) => s.Spec.Name).sort();
      throw forbidden(`network ${net.Spec.Name} is in use by service${names.length > 1 ? 's' : ''} ${names.join(', ')}`);
    }
    const live = tasks.items.filter((t) => !isTerminal(t.Status.State) && (t.NetworksAttachments ?? []).some((a) => a.Network?.ID === net.ID));
    if (live.length) throw forbidden(`network ${net.Spec.Name} has active endpoints: ${live.length} task${live.length > 1 ? 's are' : ' is'} still attached; try again once they have stopped`);
    const ops: BatchOp[] = [{ op: 'delete', kind: 'networks', id: net.ID, version: net.Version?.Index }];
    if (table) ops.push({ op: 'update', kind: 'ipam', object: releaseNetwork(table, net.ID) });
    const pool = await store.get('ipam', net.ID);
    if (pool) ops.push({ op: 'delete', kind: 'ipam', id: net.ID, version: pool.Version?.Index });
    try {
      await store.batch(ops, { atomic: true });
      return net;
    } catch (e) {
      if (!isShoalError(e, 'CONFLICT') || attempt >= ATTEMPTS) throw e;
      await backoff();
    }
  }
}
