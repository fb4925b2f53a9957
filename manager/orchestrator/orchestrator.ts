// The orchestrator loop, for every mode (replicated, global, replicated and global jobs):
// for each dirty service it runs the pure planner on the service, its tasks, the nodes and the
// cluster, and applies the actions as version-checked store writes. Rolling-update progress
// is the planner's RolloutState, kept here between plans; the planner's wake-up times become
// one timer per service. Tasks of deleted services are the task reaper's.
import { errorMessage } from '../../shared/errors';
import type { Cluster, Node, Service, Task } from '../../shared/swarm';
import { newSwarmId } from '../ca/ids';
import type { BatchOp } from '../store';
import type { Change } from '../leader/cache';
import { commitOps, opTarget, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';
import { WakeTimers } from '../leader/wake';
import { actionsToOps, type Translation } from './apply';
import { planService, type IdGen, type RolloutState, type ServicePlan } from './plan';

export interface OrchestratorOptions extends LoopOptions {
  /** Task IDs (default: Docker-style 25-character swarm IDs). */
  newId?: IdGen;
}

/**
 * A service is planned again no sooner than this many times its last plan's duration after it,
 * unless the service itself changed: a service of thousands of tasks, whose plan takes a while,
 * then absorbs a stream of task updates in a few plans instead of one per batch.
 */
const PLAN_SPACING = 2;

export class Orchestrator extends ReconcileLoop {
  private readonly rollouts = new Map<string, RolloutState>();
  private readonly newId: IdGen;
  /** When each service was last planned, how long that took, and the service version it saw. */
  private readonly lastPlan = new Map<string, { at: number; ms: number; version: number }>();
  private readonly deferred: WakeTimers<string>;

  constructor(opts: OrchestratorOptions) {
    super('orchestrator', ['services', 'tasks', 'nodes', 'cluster'], opts);
    this.newId = opts.newId ?? newSwarmId;
    this.deferred = new WakeTimers(this.clock, (id) => this.queue.mark(id));
  }

  override async stop(): Promise<void> {
    this.deferred.clear();
    await super.stop();
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
        this.lastPlan.delete(id);
        this.wakes.set(id, undefined);
        this.deferred.set(id, undefined);
        continue;
      }
      const last = this.lastPlan.get(id);
      const version = service.Version?.Index ?? 0;
      if (last && last.version === version && now < last.at + last.ms * PLAN_SPACING) {
        this.deferred.set(id, last.at + last.ms * PLAN_SPACING);
        continue;
      }
      let plan: ServicePlan;
      let tr: Translation;
      try {
        const started = this.clock.now();
        plan = planService({ service, tasks: [...this.cache.tasksOfService(id)], nodes, cluster, now, newId: this.newId, rollout: this.rollouts.get(id) });
        tr = actionsToOps(plan.actions, lookup, now);
        const finished = this.clock.now();
        this.lastPlan.set(id, { at: finished, ms: finished - started, version });
      } catch (e) {
        // One service's bad data must not hold up the others; the next resync tries it again.
        this.log.error({ service: id, err: errorMessage(e) }, 'cannot plan service');
        continue;
      }
      this.wakes.set(id, tr.wakeAt);
      nextRollout.set(id, plan.rollout);
      for (const op of tr.ops) {
        ops.push(op);
        owner.set(op, id);
      }
      for (const a of plan.actions) {
        if (a.type === 'updateStatus') this.log.info({ service: id, state: a.status.State, message: a.status.Message }, a.reason);
        else if (a.type === 'rollback') this.log.info({ service: id }, a.message);
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
