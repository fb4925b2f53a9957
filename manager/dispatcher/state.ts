// The dispatcher's in-memory view of the store, fed by one watch (a snapshot, then events):
// tasks indexed by node, the objects tasks depend on, the nodes and the cluster object. Events
// say which nodes they concern, so only those nodes' assignment sets are recomputed.
import type { Cluster, Node, Task } from '../../shared/swarm';
import type { WeightedPeer } from '../../shared/rpc';
import type { Kind, StoreEvent, StoredObject, StoreWatch } from '../store';
import { canonicalJson, type DependencySource } from './assignments';

export const WATCHED_KINDS: Kind[] = ['cluster', 'nodes', 'tasks', 'networks', 'secrets', 'configs'];

/** What one event touched. */
export type IndexChange =
  | { kind: 'cluster' }
  | { kind: 'node'; nodeId: string; removed: boolean }
  | { kind: 'task'; nodeIds: string[] }
  | { kind: 'dependency' };

/** Weight of the leader in the managers list: agents try it first (only the leader dispatches). */
const LEADER_WEIGHT = 10;
const MANAGER_WEIGHT = 1;

export class ClusterIndex implements DependencySource {
  cluster: Cluster | undefined;
  readonly nodes = new Map<string, Node>();
  readonly tasks = new Map<string, Task>();
  private readonly byNode = new Map<string, Set<string>>();
  private readonly deps: Record<'networks' | 'secrets' | 'configs', Map<string, StoredObject>> = { networks: new Map(), secrets: new Map(), configs: new Map() };

  /** Replace everything with a watch snapshot. */
  load(snapshot: StoreWatch['snapshot']): void {
    this.cluster = snapshot.cluster?.[0] as Cluster | undefined;
    this.nodes.clear();
    this.tasks.clear();
    this.byNode.clear();
    for (const m of Object.values(this.deps)) m.clear();
    for (const n of (snapshot.nodes ?? []) as unknown as Node[]) this.nodes.set(n.ID, n);
    for (const t of (snapshot.tasks ?? []) as unknown as Task[]) this.putTask(t);
    for (const k of ['networks', 'secrets', 'configs'] as const) for (const o of snapshot[k] ?? []) this.deps[k].set(o.ID, o);
  }

  apply(ev: StoreEvent): IndexChange | undefined {
    switch (ev.kind) {
      case 'cluster':
        // There is one cluster object; a deletion only happens when the swarm is torn down.
        this.cluster = ev.type === 'put' ? (ev.object as Cluster) : undefined;
        return { kind: 'cluster' };
      case 'nodes':
        if (ev.type === 'put') this.nodes.set(ev.id, ev.object as unknown as Node);
        else this.nodes.delete(ev.id);
        return { kind: 'node', nodeId: ev.id, removed: ev.type === 'delete' };
      case 'tasks': {
        const before = this.tasks.get(ev.id)?.NodeID;
        this.dropTask(ev.id);
        if (ev.type === 'put') this.putTask(ev.object as unknown as Task);
        const after = this.tasks.get(ev.id)?.NodeID;
        return { kind: 'task', nodeIds: [...new Set([before, after].filter((x): x is string => !!x))] };
      }
      case 'networks':
      case 'secrets':
      case 'configs':
        if (ev.type === 'put') this.deps[ev.kind].set(ev.id, ev.object);
        else this.deps[ev.kind].delete(ev.id);
        return { kind: 'dependency' };
      default:
        return undefined;
    }
  }

  /** The tasks whose NodeID is nodeId (in any state). */
  tasksOf(nodeId: string): Task[] {
    const ids = this.byNode.get(nodeId);
    return ids ? [...ids].map((id) => this.tasks.get(id) as Task) : [];
  }

  network(id: string): StoredObject | undefined {
    return this.deps.networks.get(id);
  }

  secret(id: string): StoredObject | undefined {
    return this.deps.secrets.get(id);
  }

  config(id: string): StoredObject | undefined {
    return this.deps.configs.get(id);
  }

  /** Managers agents can reach (ManagerStatus.Addr), the leader first. */
  managerPeers(): WeightedPeer[] {
    const peers: WeightedPeer[] = [];
    for (const n of this.nodes.values()) {
      const ms = n.ManagerStatus;
      if (!ms?.Addr || ms.Reachability === 'unreachable') continue;
      peers.push({ nodeId: n.ID, addr: ms.Addr, weight: ms.Leader ? LEADER_WEIGHT : MANAGER_WEIGHT });
    }
    return peers.sort((a, b) => b.weight - a.weight || (a.nodeId < b.nodeId ? -1 : 1));
  }

  private putTask(t: Task): void {
    this.tasks.set(t.ID, t);
    if (!t.NodeID) return;
    let ids = this.byNode.get(t.NodeID);
    if (!ids) this.byNode.set(t.NodeID, (ids = new Set()));
    ids.add(t.ID);
  }

  private dropTask(id: string): void {
    const t = this.tasks.get(id);
    if (!t) return;
    this.tasks.delete(id);
    const ids = t.NodeID ? this.byNode.get(t.NodeID) : undefined;
    ids?.delete(id);
    if (ids?.size === 0) this.byNode.delete(t.NodeID as string);
  }
}

/** What a session message would tell the agent about its node: its configuration, not its status. */
export function nodeFingerprint(node: Node | undefined): string {
  return canonicalJson({ ID: node?.ID, Spec: node?.Spec });
}
