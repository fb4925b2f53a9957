// The orchestrator loop, for every mode (replicated, global, replicated and global jobs):
// for each dirty service it runs the pure planner on the service, its tasks, the nodes and the
// cluster, and applies the actions as version-checked store writes. Rolling-update progress
// is the planner's RolloutState, kept here between plans; the planner's wake-up times become
// one timer per service. Tasks of deleted services are the task reaper's.
import type { Cluster, Node, Service, Task } from '../../shared/swarm';
import { newSwarmId } from '../ca/ids';
import type { BatchOp } from '../store';
import type { Change } from '../leader/cache';
import { commitOps, opTarget, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';
import { actionsToOps } from './apply';
import { planService, type IdGen, type RolloutState } from './plan';

export interface OrchestratorOptions extends LoopOptions {
  /** Task IDs (default: Docker-style 25-character swarm IDs). */
  newId?: IdGen;
}

export class Orchestrator extends ReconcileLoop {
  private readonly rollouts = new Map<string, RolloutState>();
  private readonly newId: IdGen;

  constructor(opts: OrchestratorOptions) {
    super('orchestrator', ['services', 'tasks', 'nodes', 'cluster'], opts);
    this.newId = opts.newId ?? newSwarmId;
  }

  /** When the service will be planned again without any change (restart delay, update delay or monitor). */
  nextWake(serviceId: string): number | undefined {
    return this.wakes.get(serviceId);
  }

  /** The rollout under way for a service, as the planner last returned it. */
  rollout(serviceId: string): RolloutState | undefined {
    return this.rollouts.get(serviceId);
  }

  protected keysFor(c: Change): Iterable<string> {
    switch (c.kind) {
      case 'services':
        return [c.id];
      case 'tasks': {
        const t = (c.after ?? c.before) as Task;
        return this.cache.get('services', t.ServiceID) ? [t.ServiceID] : [];
      }
      case 'nodes':
        return nodeMatters(c.before as Node | undefined, c.after as Node | undefined) ? this.servicesTouching(c.id) : [];
      case 'cluster':
        // Retention limit or task defaults: every service.
        return this.allKeys();
      default:
        return [];
    }
  }

  protected allKeys(): Iterable<string> {
    return this.cache.ids('services');
  }

  /** Services a node change can concern: global ones (one task per node) and those with tasks there. */
  private servicesTouching(nodeId: string): Set<string> {
    const out = new Set<string>();
    for (const s of this.cache.all<Service>('services')) if (s.Spec.Mode?.Global || s.Spec.Mode?.GlobalJob) out.add(s.ID);
    for (const t of this.cache.tasksOnNode(nodeId)) if (this.cache.get('services', t.ServiceID)) out.add(t.ServiceID);
    return out;
  }

  protected async reconcile(ids: string[]): Promise<void> {
    const now = this.clock.now();
    const nodes = [...this.cache.all<Node>('nodes')];
    const cluster = this.cache.all<Cluster>('cluster').next().value as Cluster | undefined;
    const lookup = {
      task: (id: string) => this.cache.get<Task>('tasks', id),
      service: (id: string) => this.cache.get<Service>('services', id),
    };
    const ops: BatchOp[] = [];
    const owner = new Map<BatchOp, string>();
    const nextRollout = new Map<string, RolloutState | undefined>();
    for (const id of ids) {
      const service = lookup.service(id);
      if (!service) {
        this.rollouts.delete(id);
        this.wakes.set(id, undefined);
        continue;
      }
      const plan = planService({ service, tasks: [...this.cache.tasksOfService(id)], nodes, cluster, now, newId: this.newId, rollout: this.rollouts.get(id) });
      const tr = actionsToOps(plan.actions, lookup, now);
      this.wakes.set(id, tr.wakeAt);
      nextRollout.set(id, plan.rollout);
      for (const op of tr.ops) {
        ops.push(op);
        owner.set(op, id);
      }
      if (plan.actions.length && this.log.isLevelEnabled('debug')) this.log.debug({ service: id, actions: plan.actions.map((a) => `${a.type}: ${'reason' in a ? a.reason : a.type === 'rollback' ? a.message : ''}`) }, 'plan');
    }
    const out = ops.length ? await commitOps(this.store, ops, this.cache) : undefined;
    // A plan's rollout state stands only if all its writes landed; otherwise the service is
    // planned again from the previous state and the objects' current versions.
    const retry = new Set<string>();
    for (const f of [...(out?.stale ?? []), ...(out?.failed ?? [])]) retry.add(owner.get(f.op)!);
    for (const [id, state] of nextRollout) {
      if (retry.has(id)) continue;
      if (state) this.rollouts.set(id, state);
      else this.rollouts.delete(id);
    }
    if (!out) return;
    for (const f of out.failed) this.log.error({ service: owner.get(f.op), object: opTarget(f.op).id, err: f.error.message }, 'cannot apply plan');
    if (out.stale.length) {
      await rereadStale(this.store, this.cache, out.stale);
      for (const f of out.stale) this.queue.mark(owner.get(f.op)!);
    }
    this.log.debug({ services: ids.length, writes: out.committed, stale: out.stale.length }, 'reconciled');
  }
}

/** Node fields the planners read: existence, state, availability, labels, role, platform. */
function nodeMatters(before: Node | undefined, after: Node | undefined): boolean {
  if (!before || !after) return true;
  const key = (n: Node) => JSON.stringify([n.Status?.State, n.Spec, n.Description?.Hostname, n.Description?.Platform, n.Description?.Engine?.Labels]);
  return key(before) !== key(after);
}
