// What the scheduler knows about each node, kept up to date incrementally from task and node
// events, so that placing a task costs a few map updates instead of a rescan of all tasks.
//
// Accounting follows the task's two state fields: a task holds its reservations and host ports
// from ASSIGNED until its observed state passes RUNNING (a task asked to stop still runs), while
// it counts towards spread and max-replicas only while its desired state is not past RUNNING.
import { desiredActive, holdsNode, hostPorts, resourceAmounts, type NodeView, type ResourceAmounts, type TaskView } from './types';

export class NodeInfo {
  private readonly held = new Map<string, TaskView>();
  private readonly perService = new Map<string, number>();
  private readonly ports = new Map<string, number>();
  private active = 0;
  private free: ResourceAmounts;
  /** Position in its set's node ID order (compared instead of the IDs); set by NodeInfoSet.all(). */
  rank = 0;

  /** `onService` hears every change to a service's active task count here (the set keeps totals). */
  constructor(
    private current: NodeView,
    private readonly onService?: (serviceId: string, delta: number) => void,
  ) {
    this.free = resourceAmounts(current.Description?.Resources);
  }

  get id(): string {
    return this.current.ID;
  }
  get node(): NodeView {
    return this.current;
  }
  /** Tasks on this node that hold resources (assigned up to running), by ID. */
  get tasks(): ReadonlyMap<string, TaskView> {
    return this.held;
  }
  /** Tasks on the node whose desired state is not past running. */
  get activeTasksCount(): number {
    return this.active;
  }
  /** Node resources minus the reservations of the tasks it holds. */
  get available(): Readonly<ResourceAmounts> {
    return this.free;
  }
  /** Active tasks of one service on this node. */
  serviceTasks(serviceId: string): number {
    return this.perService.get(serviceId) ?? 0;
  }
  /** Services with active tasks here, with their counts. */
  services(): ReadonlyMap<string, number> {
    return this.perService;
  }
  /** A held task publishes this "proto/port" in host mode. */
  hostPortUsed(protoPort: string): boolean {
    return this.ports.has(protoPort);
  }
  get usedHostPorts(): string[] {
    return [...this.ports.keys()].sort();
  }

  /** Replaces the node object; resources are recomputed because the node may report new totals. */
  setNode(node: NodeView): void {
    this.current = node;
    this.free = resourceAmounts(node.Description?.Resources);
    for (const t of this.held.values()) this.reserve(t, -1);
  }

  /** Adds or replaces a task held by this node. */
  put(task: TaskView): void {
    this.remove(task.ID);
    this.held.set(task.ID, task);
    this.account(task, 1);
  }

  remove(taskId: string): TaskView | undefined {
    const old = this.held.get(taskId);
    if (!old) return undefined;
    this.held.delete(taskId);
    this.account(old, -1);
    return old;
  }

  private account(task: TaskView, sign: 1 | -1): void {
    this.reserve(task, sign === 1 ? -1 : 1);
    for (const p of hostPorts(task)) {
      const n = (this.ports.get(p) ?? 0) + sign;
      if (n > 0) this.ports.set(p, n);
      else this.ports.delete(p);
    }
    if (!desiredActive(task)) return;
    this.active += sign;
    const svc = task.ServiceID ?? '';
    const n = (this.perService.get(svc) ?? 0) + sign;
    if (n > 0) this.perService.set(svc, n);
    else this.perService.delete(svc);
    this.onService?.(svc, sign);
  }

  /** Adds (sign 1) or takes (sign -1) a task's reservations to or from the free amounts. */
  private reserve(task: TaskView, sign: 1 | -1): void {
    const r = task.Spec?.Resources?.Reservations;
    if (!r) return;
    this.free.nanoCPUs += sign * (r.NanoCPUs ?? 0);
    this.free.memoryBytes += sign * (r.MemoryBytes ?? 0);
    if (!r.GenericResources?.length) return;
    for (const [kind, n] of resourceAmounts(r).generic) this.free.generic.set(kind, (this.free.generic.get(kind) ?? 0) + sign * n);
  }
}

/**
 * All nodes and the tasks they hold. Feed it every node and task event (upsertNode, removeNode,
 * applyTask, removeTask); it decides from a task's NodeID and states whether the task holds a
 * node. A task naming a node not (yet) in the set waits for that node.
 */
export class NodeInfoSet {
  private readonly infos = new Map<string, NodeInfo>();
  /** Where each held task is counted: its node ID (the node may be missing). */
  private readonly placedOn = new Map<string, string>();
  private readonly waiting = new Map<string, Map<string, TaskView>>();
  private sorted: NodeInfo[] | undefined;
  private readonly serviceTotals = new Map<string, number>();
  private readonly countService = (serviceId: string, delta: number) => {
    const n = (this.serviceTotals.get(serviceId) ?? 0) + delta;
    if (n > 0) this.serviceTotals.set(serviceId, n);
    else this.serviceTotals.delete(serviceId);
  };

  constructor(nodes: Iterable<NodeView> = [], tasks: Iterable<TaskView> = []) {
    for (const n of nodes) this.upsertNode(n);
    for (const t of tasks) this.applyTask(t);
  }

  get size(): number {
    return this.infos.size;
  }

  get(nodeId: string): NodeInfo | undefined {
    return this.infos.get(nodeId);
  }

  /** Every node, ordered by ID (the scheduler's tie-break), as a shared read-only array. */
  all(): readonly NodeInfo[] {
    if (!this.sorted) {
      this.sorted = [...this.infos.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.sorted.forEach((info, i) => (info.rank = i));
    }
    return this.sorted;
  }

  /** Active tasks of a service over all nodes in the set. */
  serviceTasks(serviceId: string): number {
    return this.serviceTotals.get(serviceId) ?? 0;
  }

  upsertNode(node: NodeView): NodeInfo {
    let info = this.infos.get(node.ID);
    if (info) {
      info.setNode(node);
      return info;
    }
    info = new NodeInfo(node, this.countService);
    this.infos.set(node.ID, info);
    this.sorted = undefined;
    const pending = this.waiting.get(node.ID);
    this.waiting.delete(node.ID);
    for (const t of pending?.values() ?? []) info.put(t);
    return info;
  }

  /** Forgets a node; its held tasks wait in case it comes back, until their own events remove them. */
  removeNode(nodeId: string): void {
    const info = this.infos.get(nodeId);
    if (!info) return;
    this.infos.delete(nodeId);
    this.sorted = undefined;
    for (const [svc, n] of info.services()) this.countService(svc, -n);
    if (info.tasks.size) this.waiting.set(nodeId, new Map(info.tasks));
  }

  /** Applies a task's current version: counts it on its node, moves it, or lets it go. */
  applyTask(task: TaskView): void {
    if (!holdsNode(task)) {
      this.removeTask(task.ID);
      return;
    }
    const nodeId = task.NodeID!;
    const before = this.placedOn.get(task.ID);
    if (before !== undefined && before !== nodeId) this.removeTask(task.ID);
    this.placedOn.set(task.ID, nodeId);
    const info = this.infos.get(nodeId);
    if (info) info.put(task);
    else {
      let w = this.waiting.get(nodeId);
      if (!w) this.waiting.set(nodeId, (w = new Map()));
      w.set(task.ID, task);
    }
  }

  /** The task no longer holds any node (deleted, finished, or its assignment was not committed). */
  removeTask(taskId: string): void {
    const nodeId = this.placedOn.get(taskId);
    if (nodeId === undefined) return;
    this.placedOn.delete(taskId);
    this.infos.get(nodeId)?.remove(taskId);
    const w = this.waiting.get(nodeId);
    if (w?.delete(taskId) && w.size === 0) this.waiting.delete(nodeId);
  }
}
