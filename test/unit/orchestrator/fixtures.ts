// Builders for planner tests: services from real validated specs, nodes, tasks at given
// times, a compact rendering of plans, and a small in-memory cluster that applies plans and
// plays the agents, for multi-step scenarios (rolling updates, node loss).

import { rollbackService, validateServiceSpec } from '../../../manager/spec';
import { planService, type PlanAction, type RolloutState } from '../../../manager/orchestrator/plan';
import type { Cluster, Node, NodeAvailability, NodeState, Service, Task, TaskSpec, TaskState } from '../../../shared/swarm';

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
export const SEC = 1000;
export const NS = 1e9; // one second in API nanoseconds

export const at = (ms: number) => new Date(ms).toISOString();

/** Deterministic IDs: new1, new2, ... */
export function ids(prefix = 'new'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** A service from a validated spec; `spec` is merged over a busybox template. */
export function service(spec: Record<string, unknown> = {}, extra: Partial<Service> = {}): Service {
  const { TaskTemplate, ...rest } = spec as { TaskTemplate?: Record<string, unknown> };
  const validated = validateServiceSpec({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, ...TaskTemplate }, ...rest });
  return { ID: 'svc', Version: { Index: 10 }, CreatedAt: at(T0 - 3600 * SEC), Spec: validated, ...extra };
}

export function replicated(replicas: number, spec: Record<string, unknown> = {}): Service {
  return service({ Mode: { Replicated: { Replicas: replicas } }, ...spec });
}

export interface NodeOptions {
  state?: NodeState;
  availability?: NodeAvailability;
  labels?: Record<string, string>;
  hostname?: string;
}

export function node(id: string, o: NodeOptions = {}): Node {
  return {
    ID: id,
    Spec: { Role: 'worker', Availability: o.availability ?? 'active', Labels: o.labels ?? {} },
    Description: { Hostname: o.hostname ?? `host-${id}`, Platform: { OS: 'linux', Architecture: 'x86_64' } },
    Status: { State: o.state ?? 'ready', Addr: '10.0.0.1' },
  };
}

export interface TaskOptions {
  slot?: number;
  node?: string;
  state?: TaskState;
  desired?: TaskState;
  /** Creation time, ms. */
  created?: number;
  /** When the task entered its state, ms. */
  since?: number;
  spec?: TaskSpec;
  iteration?: number;
}

/** A task of `svc` (its current spec unless `spec` is given). */
export function task(svc: Service, id: string, o: TaskOptions = {}): Task {
  const created = o.created ?? T0 - 600 * SEC;
  const t: Task = {
    ID: id,
    Version: { Index: 100 },
    CreatedAt: at(created),
    UpdatedAt: at(o.since ?? created),
    ServiceID: svc.ID,
    Slot: o.slot ?? 1,
    Spec: structuredClone(o.spec ?? svc.Spec.TaskTemplate ?? {}),
    Status: { State: o.state ?? 'running', Timestamp: at(o.since ?? created + SEC) },
    DesiredState: o.desired ?? 'running',
  };
  if (o.node !== undefined) t.NodeID = o.node;
  if (o.iteration !== undefined) t.JobIteration = { Index: o.iteration };
  return t;
}

export function cluster(retention: number): Pick<Cluster, 'Spec'> {
  return { Spec: { Orchestration: { TaskHistoryRetentionLimit: retention } } };
}

/**
 * One line per action, sorted: "create s3", "create n1" (global), "create s0 it2" (job),
 * "shutdown t1", "remove t1", "delete t1", "status paused", "rollback", "wake +5s".
 */
export function summary(actions: readonly PlanAction[], now = T0): string[] {
  return actions.map((a) => line(a, now)).sort();
}

function line(a: PlanAction, now: number): string {
  switch (a.type) {
    case 'create': {
      const t = a.task;
      const where = t.NodeID ? t.NodeID : `s${t.Slot}`;
      return `create ${where}${t.JobIteration ? ` it${t.JobIteration.Index}` : ''}`;
    }
    case 'setDesired':
      return `${a.desired} ${a.taskId}`;
    case 'delete':
      return `delete ${a.taskId}`;
    case 'updateStatus':
      return `status ${a.status.State}`;
    case 'rollback':
      return 'rollback';
    case 'wakeAt':
      return `wake +${(a.at - now) / SEC}s`;
  }
}

export function created(actions: readonly PlanAction[]): Task[] {
  return actions.flatMap((a) => (a.type === 'create' ? [a.task] : []));
}

/**
 * An in-memory cluster: plan() runs planService with the rollout state it kept, apply()
 * writes actions like the applier would, and the agent methods play the workers.
 */
export class Sim {
  tasks = new Map<string, Task>();
  rollout?: RolloutState;
  now = T0;
  readonly newId = ids();
  /** Where the "scheduler" puts new tasks of replicated services: round robin over active, ready nodes. */
  private next = 0;

  constructor(
    public service: Service,
    public nodes: Node[],
    tasks: Task[] = [],
    public clusterSpec?: Pick<Cluster, 'Spec'>,
  ) {
    for (const t of tasks) this.tasks.set(t.ID, t);
  }

  plan(): PlanAction[] {
    const result = planService({ service: this.service, tasks: [...this.tasks.values()], nodes: this.nodes, cluster: this.clusterSpec, now: this.now, newId: this.newId, rollout: this.rollout });
    this.rollout = result.rollout;
    return result.actions;
  }

  apply(actions: readonly PlanAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'create': {
          const t = structuredClone(a.task);
          if (!t.NodeID) {
            const ready = this.nodes.filter((n) => n.Status?.State !== 'down' && n.Spec.Availability === 'active');
            t.NodeID = ready[this.next++ % ready.length].ID;
          }
          t.Status = { State: 'assigned', Timestamp: at(this.now) };
          this.tasks.set(t.ID, t);
          break;
        }
        case 'setDesired':
          this.tasks.set(a.taskId, { ...this.tasks.get(a.taskId)!, DesiredState: a.desired });
          break;
        case 'delete':
          this.tasks.delete(a.taskId);
          break;
        case 'updateStatus':
          this.service = { ...this.service, UpdateStatus: a.status };
          break;
        case 'rollback':
          this.service = rollbackService(this.service, this.now, { automatic: true, message: a.message });
          break;
        case 'wakeAt':
          break;
      }
    }
  }

  /** The agents: start what should run (or fail it, if `fails` says so), stop what should stop. */
  agents(fails: (t: Task) => boolean = () => false): void {
    for (const t of this.tasks.values()) {
      const n = this.nodes.find((x) => x.ID === t.NodeID);
      if (!n || n.Status?.State === 'down') continue;
      const alive = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'].includes(t.Status.State);
      if (!alive) continue;
      if (t.DesiredState === 'shutdown' || t.DesiredState === 'remove') this.setState(t, 'shutdown');
      else if (t.Status.State !== 'running') this.setState(t, fails(t) ? 'failed' : 'running');
    }
  }

  setState(t: Task, state: TaskState): void {
    this.tasks.set(t.ID, { ...t, Status: { State: state, Timestamp: at(this.now) } });
  }

  /** Plans, applies and runs the agents until a plan has nothing left but (at most) a wakeAt; returns that wakeAt. */
  settle(fails?: (t: Task) => boolean, rounds = 50): number | undefined {
    for (let i = 0; i < rounds; i++) {
      const actions = this.plan();
      const writes = actions.filter((a) => a.type !== 'wakeAt');
      this.apply(writes);
      this.agents(fails);
      if (writes.length === 0) {
        const wake = actions.find((a) => a.type === 'wakeAt');
        return wake?.type === 'wakeAt' ? wake.at : undefined;
      }
    }
    throw new Error('plans did not settle');
  }

  alive(): Task[] {
    return [...this.tasks.values()].filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
  }

  images(): string[] {
    return this.alive()
      .map((t) => t.Spec.ContainerSpec?.Image ?? '')
      .sort();
  }
}
