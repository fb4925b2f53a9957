// The scheduler's loop: keeps a NodeInfoSet in step with the store (nodes and tasks), hands
// the pending tasks to the pure scheduleBatch, and commits its decisions: an assignment moves
// the task PENDING -> ASSIGNED with its NodeID; a task that fits nowhere stays PENDING with
// the reason in Status.Err (written only when the reason changes). Tasks that could not be
// placed are tried again when capacity may have appeared: a node changed, or a task let go
// of a node.
import { isDesiredAlive, isNetworkAttachment, transitionTask, type Service, type Task } from '../../../shared/swarm';
import type { BatchOp } from '../../store';
import type { Change } from '../../leader/cache';
import { DEFAULT_CHUNK, commitOps, opTarget, rereadStale } from '../../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../../leader/loop';
import { ALLOCATED_MESSAGE } from '../../allocator';
import { NodeInfoSet, holdsNode, scheduleBatch, type NodeView, type TaskView } from '..';

export const ASSIGNED_MESSAGE = 'scheduler assigned task to node';

/** The one key: the loop always reconciles the whole pending set. */
const TICK = 'pending';

export interface SchedulerLoopOptions extends LoopOptions {
  /** Store operations per batch (default 1000). */
  chunk?: number;
  /** Batches committed concurrently (default 4). */
  inFlight?: number;
}

export interface SchedulerStats {
  /** Assignments committed since start. */
  assigned: number;
  /** Reasons written for tasks that fit nowhere. */
  unplaced: number;
  /** Store batches sent. */
  batches: number;
}

/** A task waiting for the scheduler: pending, and still wanted. */
export function isSchedulable(t: Task | undefined): t is Task {
  return !!t && t.Status.State === 'pending' && isDesiredAlive(t.DesiredState);
}

export class SchedulerLoop extends ReconcileLoop {
  private readonly nodes = new NodeInfoSet();
  private readonly pending = new Map<string, Task>();
  /** Pending tasks not yet tried since they became pending or since capacity last changed. */
  private readonly fresh = new Set<string>();
  private readonly chunk: number;
  private readonly inFlight: number;
  readonly stats: SchedulerStats = { assigned: 0, unplaced: 0, batches: 0 };

  constructor(opts: SchedulerLoopOptions) {
    super('scheduler', ['nodes', 'tasks', 'services'], opts);
    this.chunk = opts.chunk ?? DEFAULT_CHUNK;
    // Four chunks in flight keep etcd's raft pipeline full: 11.5k tasks/s here against 8k with two.
    this.inFlight = opts.inFlight ?? 4;
    this.cache.onChange((c) => this.track(c));
  }

  /** Tasks waiting for a node. */
  get pendingCount(): number {
    return this.pending.size;
  }

  protected keysFor(_c: Change): Iterable<string> {
    return this.fresh.size ? [TICK] : [];
  }

  protected allKeys(): Iterable<string> {
    for (const id of this.pending.keys()) this.fresh.add(id);
    return [TICK];
  }

  /** Keeps the node set, the pending set and the retry marks in step with every cached change. */
  private track(c: Change): void {
    if (c.kind === 'nodes') {
      if (c.after) this.nodes.upsertNode(c.after as NodeView);
      else this.nodes.removeNode(c.id);
      this.retryAll();
      return;
    }
    if (c.kind !== 'tasks') return;
    const before = c.before as Task | undefined;
    const after = c.after as Task | undefined;
    // A container's network attachment takes no resources and is no replica: nodes do not count it.
    if (after && !isNetworkAttachment(after)) this.nodes.applyTask(this.view(after));
    else this.nodes.removeTask(c.id);
    if (isSchedulable(after)) {
      this.pending.set(c.id, after);
      if (!isSchedulable(before) || before.NodeID !== after.NodeID) this.fresh.add(c.id);
    } else {
      this.pending.delete(c.id);
      this.fresh.delete(c.id);
    }
    // A task that let go of its node frees resources, ports and spread room for the others.
    if (before && holdsNode(before) && !(after && holdsNode(after))) this.retryAll();
  }

  private retryAll(): void {
    for (const id of this.pending.keys()) this.fresh.add(id);
  }

  /**
   * What the scheduler reads of a task. Tasks carry their endpoint from creation; for one made
   * without (an older task), its service's published ports stand in (host-mode port conflicts).
   */
  private view(t: Task): TaskView {
    if (t.Endpoint) return t;
    const ports = this.cache.get<Service>('services', t.ServiceID)?.Spec.EndpointSpec?.Ports;
    return ports?.length ? { ...t, Endpoint: { Spec: { Ports: ports } } } : t;
  }

  protected async reconcile(): Promise<void> {
    if (!this.fresh.size) return;
    const tasks: TaskView[] = [];
    for (const id of this.fresh) {
      const t = this.pending.get(id);
      if (t) tasks.push(this.view(t));
    }
    this.fresh.clear();
    const result = scheduleBatch(tasks, this.nodes);
    const now = this.clock.now();
    const ops: BatchOp[] = [];
    /** Per op: whether it is an assignment (else a reason for staying pending). */
    const assigns: boolean[] = [];
    for (const a of result.assigned) {
      const t = this.pending.get(a.taskId)!;
      const next = transitionTask({ ...t, NodeID: a.nodeId }, { State: 'assigned', Message: ASSIGNED_MESSAGE }, now);
      delete next.Status.Err;
      ops.push({ op: 'update', kind: 'tasks', object: next });
      assigns.push(true);
    }
    for (const u of result.unassigned) {
      const t = this.pending.get(u.taskId)!;
      const next = transitionTask(t, { State: 'pending', Message: ALLOCATED_MESSAGE, Err: u.reason }, now);
      if (next === t) continue;
      ops.push({ op: 'update', kind: 'tasks', object: next });
      assigns.push(false);
    }
    if (!ops.length) return;
    this.stats.batches += Math.ceil(ops.length / this.chunk);
    let out;
    try {
      out = await commitOps(this.store, ops, this.cache, this.chunk, this.inFlight);
    } catch (e) {
      // The uncommitted part is unknown: forget the assignments the set assumed for it (the
      // watch brings back any that did commit) and try everything again.
      for (const a of result.assigned) if (this.cache.get<Task>('tasks', a.taskId)?.Status.State === 'pending') this.nodes.removeTask(a.taskId);
      this.retryAll();
      throw e;
    }
    let assigned = 0;
    out.results.forEach((r, i) => {
      if (r.ok) {
        if (assigns[i]) assigned++;
        else this.stats.unplaced++;
      } else if (assigns[i]) {
        // Not committed: the set must not count the assignment.
        this.nodes.removeTask(opTarget(ops[i]).id);
      }
    });
    this.stats.assigned += assigned;
    for (const f of out.failed) this.log.error({ task: opTarget(f.op).id, err: f.error.message }, 'cannot store scheduling decision');
    if (out.stale.length) {
      // The task changed under us: try again from its current version, if it is still pending.
      await rereadStale(this.store, this.cache, out.stale);
      for (const s of out.stale) if (this.pending.has(opTarget(s.op).id)) this.fresh.add(opTarget(s.op).id);
      if (this.fresh.size) this.queue.mark(TICK);
    }
    this.log.debug({ assigned, unassigned: result.unassigned.length, stale: out.stale.length }, 'scheduled');
  }
}
