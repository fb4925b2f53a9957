// The dispatcher's in-memory view of the store, fed by one watch (a snapshot, then events):
// tasks indexed by node, the objects tasks depend on, the nodes and the cluster object. Events
// say which nodes they concern, so only those nodes' assignment sets are recomputed.
import { isTaskState, isTerminal, type Cluster, type NetworkPeer, type Node, type Task } from '../../shared/swarm';
import type { WeightedPeer } from '../../shared/rpc';
import type { Kind, StoreEvent, StoredObject, StoreWatch } from '../store';
import { canonicalJson, type DependencySource } from './assignments';
import { secretForNode } from '../secrets/dispatch';

export const WATCHED_KINDS: Kind[] = ['cluster', 'nodes', 'tasks', 'networks', 'secrets', 'configs', 'ipam'];

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
  /** Live task endpoints by network: task ID -> its Peer, as JSON (compared as text). */
  private readonly endpoints = new Map<string, Map<string, string>>();
  /** Networks as sent, with their Peers, until a network or its endpoints change. */
  private readonly sent = new Map<string, StoredObject>();
  /** Each node's own address on the ingress network (from the ingress pool): node ID -> address. */
  private ingressAddrs = new Map<string, string>();
  /** Secrets opened for sending, with the stored object each was opened from. */
  private readonly opened = new Map<string, { from: StoredObject; sent: StoredObject | undefined }>();

  /** `openSecret` turns a stored (sealed) secret into what a node receives (undefined: it cannot be sent); by default nothing sealed is sent. */
  constructor(private readonly openSecret: (o: StoredObject) => StoredObject | undefined = (o) => secretForNode(o, undefined)) {}

  /** Replace everything with a watch snapshot. */
  load(snapshot: StoreWatch['snapshot']): void {
    this.cluster = snapshot.cluster?.[0] as Cluster | undefined;
    this.nodes.clear();
    this.tasks.clear();
    this.byNode.clear();
    for (const m of Object.values(this.deps)) m.clear();
    this.opened.clear();
    this.endpoints.clear();
    this.sent.clear();
    this.ingressAddrs.clear();
    for (const n of (snapshot.nodes ?? []) as unknown as Node[]) this.nodes.set(n.ID, n);
    for (const t of (snapshot.tasks ?? []) as unknown as Task[]) {
      this.putTask(t);
      this.moveEndpoints(t.ID, undefined, t);
    }
    for (const k of ['networks', 'secrets', 'configs'] as const) for (const o of snapshot[k] ?? []) this.deps[k].set(o.ID, o);
    const ingress = this.ingressId();
    const pool = (snapshot.ipam ?? []).find((p) => p.ID === ingress);
    if (pool) this.ingressAddrs = nodeAddresses(pool);
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
        const was = this.tasks.get(ev.id);
        this.dropTask(ev.id);
        if (ev.type === 'put') this.putTask(ev.object as unknown as Task);
        const now = this.tasks.get(ev.id);
        const nodes = new Set([was?.NodeID, now?.NodeID].filter((x): x is string => !!x));
        // A task's endpoints changed: every node with tasks on those networks hears of it, and
        // every node at all for the ingress network (each one publishes the mesh's ports).
        const moved = this.moveEndpoints(ev.id, was, now);
        if (moved.includes(this.ingressId() ?? '')) for (const n of this.nodes.keys()) nodes.add(n);
        for (const net of moved) for (const n of this.nodesOn(net)) nodes.add(n);
        return { kind: 'task', nodeIds: [...nodes] };
      }
      case 'ipam': {
        // Only the ingress pool's node addresses matter here; every node is told of a change.
        if (ev.id !== this.ingressId()) return undefined;
        const next = ev.type === 'put' ? nodeAddresses(ev.object) : new Map<string, string>();
        if (canonicalJson([...next]) === canonicalJson([...this.ingressAddrs])) return undefined;
        this.ingressAddrs = next;
        this.sent.delete(ev.id);
        return { kind: 'dependency' };
      }
      case 'networks':
      case 'secrets':
      case 'configs':
        if (ev.kind === 'networks') this.sent.delete(ev.id);
        if (ev.kind === 'secrets') this.opened.delete(ev.id);
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

  /**
   * The network with its Peers: every live task endpoint on it, with the address of the node
   * that runs it, from which workers program their VXLAN forwarding and neighbour entries.
   */
  network(id: string): StoredObject | undefined {
    const net = this.deps.networks.get(id);
    if (!net) return undefined;
    let sent = this.sent.get(id);
    if (!sent) {
      const peers = [...(this.endpoints.get(id)?.values() ?? [])].sort().map((e) => JSON.parse(e) as NetworkPeer);
      // On the ingress network, each node's own address too (tunnelled like a task's).
      if (id === this.ingressId()) {
        for (const [nodeId, ip] of [...this.ingressAddrs].sort()) {
          const addr = this.nodes.get(nodeId)?.Status?.Addr;
          if (addr) peers.push({ IP: ip, Node: addr, NodeID: nodeId, Running: true });
        }
      }
      sent = { ...net, Peers: peers } as StoredObject;
      this.sent.set(id, sent);
    }
    return sent;
  }

  /** The ingress network's ID, when there is one. */
  ingressId(): string | undefined {
    for (const n of this.deps.networks.values()) if ((n as { Spec?: { Ingress?: boolean } }).Spec?.Ingress) return n.ID;
    return undefined;
  }

  /** Networks every node takes part in: the ingress network while a task is attached to it (the routing mesh). */
  everyNode(): string[] {
    const ingress = this.ingressId();
    return ingress && this.endpoints.get(ingress)?.size ? [ingress] : [];
  }

  /** The task's Peer (as JSON) on each network, for a task that may run, on a node with an address. */
  private endpointsOf(t: Task | undefined): Map<string, string> {
    const out = new Map<string, string>();
    if (!t?.NodeID || !isTaskState(t.Status?.State) || isTerminal(t.Status.State)) return out;
    const addr = this.nodes.get(t.NodeID)?.Status?.Addr;
    if (!addr) return out;
    for (const a of t.NetworksAttachments ?? []) {
      const ip = a.Addresses?.[0]?.split('/')[0];
      if (!a.Network?.ID || !ip) continue;
      out.set(a.Network.ID, JSON.stringify(peerOf(t, a.Network.ID, ip, addr)));
    }
    return out;
  }

  /** Update the endpoint index for one task; returns the networks whose endpoints changed. */
  private moveEndpoints(taskId: string, was: Task | undefined, now: Task | undefined): string[] {
    const before = this.endpointsOf(was);
    const after = this.endpointsOf(now);
    const changed: string[] = [];
    for (const net of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(net) === after.get(net)) continue;
      changed.push(net);
      this.sent.delete(net);
      let m = this.endpoints.get(net);
      if (!m) this.endpoints.set(net, (m = new Map()));
      const e = after.get(net);
      if (e) m.set(taskId, e);
      else m.delete(taskId);
      if (m.size === 0) this.endpoints.delete(net);
    }
    return changed;
  }

  /** Nodes that run a live task on the network. */
  private nodesOn(net: string): Set<string> {
    const out = new Set<string>();
    for (const taskId of this.endpoints.get(net)?.keys() ?? []) {
      const n = this.tasks.get(taskId)?.NodeID;
      if (n) out.add(n);
    }
    return out;
  }

  /** The secret with its data opened, for a node whose task uses it (kept while the stored object is unchanged). */
  secret(id: string): StoredObject | undefined {
    const stored = this.deps.secrets.get(id);
    if (!stored) return undefined;
    let o = this.opened.get(id);
    if (o?.from !== stored) {
      o = { from: stored, sent: this.openSecret(stored) };
      this.opened.set(id, o);
    }
    return o.sent;
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

export function peerOf(t: Task, networkId: string, ip: string, node: string): NetworkPeer {
  const vip = t.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === networkId)?.Addr?.split('/')[0];
  const aliases = (t.Spec?.Networks ?? []).find((n) => n.Target === networkId)?.Aliases ?? [];
  const ingress = (t.Endpoint?.Ports ?? []).filter((p) => p.PublishedPort && (p.PublishMode ?? 'ingress') === 'ingress' && p.TargetPort);
  const ports = (t.NetworksAttachments ?? []).some((a) => a.Network?.ID === networkId && (a.Network as { Spec?: { Ingress?: boolean } }).Spec?.Ingress) ? ingress : [];
  return {
    IP: ip,
    Node: node,
    Task: t.ID,
    ...(ports.length ? { Ports: ports.map((p) => ({ Protocol: p.Protocol ?? 'tcp', PublishedPort: p.PublishedPort!, TargetPort: p.TargetPort! })) } : {}),
    ...(t.ServiceAnnotations?.Name ? { Service: t.ServiceAnnotations.Name } : {}),
    ...(aliases.length ? { Aliases: [...aliases] } : {}),
    ...(vip ? { VIP: vip } : {}),
    Running: t.Status.State === 'running',
  };
}

/** The ingress pool's node addresses: node ID -> address. */
function nodeAddresses(pool: StoredObject): Map<string, string> {
  const out = new Map<string, string>();
  for (const [ip, owner] of Object.entries((pool as { Allocations?: { allocated?: Record<string, string> } }).Allocations?.allocated ?? {})) {
    if (owner.startsWith('node:')) out.set(owner.slice('node:'.length), ip);
  }
  return out;
}

/** What a session message would tell the agent about its node: its configuration, not its status. */
export function nodeFingerprint(node: Node | undefined): string {
  return canonicalJson({ ID: node?.ID, Spec: node?.Spec });
}
