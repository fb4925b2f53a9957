// A unit is where one task of a service should live: a slot of a replicated service or job,
// or a node of a global one. Its tasks (newest first) are its history; only the newest says
// what the unit needs next. Assessing a unit is level-based: the same store contents and
// clock always give the same answer, so a plan can be repeated or resumed after a crash.

import { endedOnItsOwn, failedConstraint, isDesiredAlive, isTerminal, parseConstraints, restartSettings, stateRank } from '../../../shared/swarm';
import type { Cluster, Node, Service, Task } from '../../../shared/swarm';
import { isTaskDirty, jsonEqual, newestFirst, nsToMs, stateSince, type IdGen } from './tasks';

/** What every planner reads: the service, all of its tasks, the cluster's nodes, the clock. */
export interface PlanInput {
  service: Service;
  /** Every task of the service, history included. */
  tasks: readonly Task[];
  nodes: readonly Node[];
  /** For TaskHistoryRetentionLimit and TaskDefaults. */
  cluster?: Pick<Cluster, 'Spec'>;
  /** Milliseconds since the epoch. */
  now: number;
  newId: IdGen;
}

export interface Unit {
  /** String(slot) for slots, the node ID for global units. */
  key: string;
  slot: number;
  nodeId?: string;
  /** Newest first. */
  tasks: Task[];
}

/** The context the assessments share. */
export class PlanContext {
  readonly nodes: Map<string, Node>;
  readonly isJob: boolean;
  constructor(
    readonly input: PlanInput,
    isJob = false,
  ) {
    this.nodes = new Map(input.nodes.map((n) => [n.ID, n]));
    this.isJob = isJob;
  }

  get now(): number {
    return this.input.now;
  }

  node(id: string | undefined): Node | undefined {
    return id ? this.nodes.get(id) : undefined;
  }

  /** The task's node is down or no longer exists: nothing will report on the task. */
  nodeGone(id: string | undefined): boolean {
    if (!id) return false;
    const node = this.nodes.get(id);
    return !node || node.Status?.State === 'down';
  }

  nodeDeleted(id: string | undefined): boolean {
    return !!id && !this.nodes.has(id);
  }

  nodeDrained(id: string | undefined): boolean {
    return this.node(id)?.Spec.Availability === 'drain';
  }

  dirty(task: Task): boolean {
    return isTaskDirty(task, this.input.service, this.node(task.NodeID));
  }

  /**
   * The constraint of the task's own spec its node no longer satisfies (its labels changed),
   * as Docker's constraint enforcer sees it. A service whose constraints changed is the
   * rolling update's business instead (the task is dirty).
   */
  brokenConstraint(task: Task): string | undefined {
    const node = this.node(task.NodeID);
    const exprs = task.Spec.Placement?.Constraints;
    if (!node || !exprs?.length) return undefined;
    try {
      return failedConstraint(parseConstraints(exprs), node)?.expr;
    } catch {
      return undefined;
    }
  }
}

export function unitName(unit: Unit): string {
  return unit.nodeId ? `node ${unit.nodeId}` : `slot ${unit.slot}`;
}

/** Groups tasks into units by slot. */
export function unitsBySlot(tasks: readonly Task[]): Map<string, Unit> {
  return group(tasks, (t) => String(t.Slot ?? 0), (t) => ({ slot: t.Slot ?? 0 }));
}

/** Groups tasks into units by node (tasks without a node share the "" unit). */
export function unitsByNode(tasks: readonly Task[]): Map<string, Unit> {
  return group(tasks, (t) => t.NodeID ?? '', (t) => ({ slot: 0, nodeId: t.NodeID }));
}

function group(tasks: readonly Task[], keyOf: (t: Task) => string, init: (t: Task) => Pick<Unit, 'slot' | 'nodeId'>): Map<string, Unit> {
  const units = new Map<string, Unit>();
  for (const t of tasks) {
    const key = keyOf(t);
    let unit = units.get(key);
    if (!unit) units.set(key, (unit = { key, ...init(t), tasks: [] }));
    unit.tasks.push(t);
  }
  for (const unit of units.values()) unit.tasks = newestFirst(unit.tasks);
  return units;
}

export type Phase =
  /** A task is (or may become) alive. */
  | { kind: 'live' }
  /** The last task ended; its replacement is due at `at` (the restart delay). */
  | { kind: 'restarting'; at: number }
  /** The last task ended and stays so: completed job, restart policy or attempts exhausted. */
  | { kind: 'finished'; why: string }
  /** The last task was told to stop and has not stopped yet; its successor waits. */
  | { kind: 'stopping' }
  /** Needs a new task now. */
  | { kind: 'empty'; why: string }
  /** Scaled away: its tasks are being removed. */
  | { kind: 'removed' };

export interface Assessment {
  phase: Phase;
  /** Current tasks to stop (desired SHUTDOWN), with why. */
  retire: Array<{ task: Task; why: string }>;
  /** Current tasks that stay alive. */
  alive: Task[];
}

/**
 * What a unit needs. Current tasks (desired RUNNING) that ended, sit on a down or drained
 * node or one that broke their constraints, or are told to go (`retireAll`) are retired; of several alive tasks, a running one
 * with the current spec wins (a start-first update completing). Without an alive task, the
 * newest task decides: ended on its own -> restart policy; retired for its node -> replace
 * now; told to stop -> wait until it has stopped.
 */
export function assessUnit(unit: Unit, ctx: PlanContext, retireAll?: string): Assessment {
  const retire: Assessment['retire'] = [];
  const alive: Task[] = [];
  for (const t of unit.tasks) {
    if (!isDesiredAlive(t.DesiredState)) continue;
    const why = isTerminal(t.Status.State) ? `task ${t.Status.State}` : (retireAll ?? nodeProblem(t, ctx));
    if (why) retire.push({ task: t, why });
    else alive.push(t);
  }
  if (alive.length > 1) {
    const keeper = alive.find((t) => t.Status.State === 'running' && !ctx.dirty(t));
    if (keeper) {
      for (const t of alive) if (t !== keeper) retire.push({ task: t, why: `replaced by task ${keeper.ID}` });
      alive.splice(0, alive.length, keeper);
    }
  }
  if (alive.length > 0) return { phase: { kind: 'live' }, retire, alive };
  return { phase: nextPhase(unit, ctx, retire), retire, alive };
}

function nodeProblem(t: Task, ctx: PlanContext): string | undefined {
  if (ctx.nodeGone(t.NodeID)) return 'node down';
  if (ctx.nodeDrained(t.NodeID)) return 'node drained';
  const broken = ctx.brokenConstraint(t);
  return broken ? `node no longer satisfies constraint ${broken}` : undefined;
}

function nextPhase(unit: Unit, ctx: PlanContext, retiring: Assessment['retire']): Phase {
  const last = unit.tasks[0];
  if (!last) return { kind: 'empty', why: 'no task' };
  if (last.DesiredState === 'remove') return { kind: 'removed' };
  const state = last.Status.State;
  if (endedOnItsOwn(state)) {
    if (ctx.isJob && state === 'complete') return { kind: 'finished', why: 'completed' };
    const decision = restartDecision(last, unit.tasks, ctx);
    if (!decision.restart) return { kind: 'finished', why: decision.why };
    if (decision.at > ctx.now) return { kind: 'restarting', at: decision.at };
    return { kind: 'empty', why: `restarting after task ${last.ID} ${state}` };
  }
  const retiredNow = retiring.find((r) => r.task === last);
  // Retired for its node (down, drained, constraints): replace now, elsewhere.
  if (retiredNow) return { kind: 'empty', why: `replacing task ${last.ID} (${retiredNow.why})` };
  // Stopped, on a node that will never report, or never sent to a node: gone for good.
  if (isTerminal(state) || ctx.nodeGone(last.NodeID) || stateRank(state) < stateRank('assigned')) {
    return { kind: 'empty', why: `task ${last.ID} stopped` };
  }
  return { kind: 'stopping' };
}

export type RestartDecision = { restart: true; at: number } | { restart: false; why: string };

/**
 * Docker's restart policy, derived from the store alone: condition, then attempts (earlier
 * tasks of the same spec that ended on their own, within Window before this one's end), then
 * Delay counted from the task's end (none when its node was drained).
 */
export function restartDecision(last: Task, history: readonly Task[], ctx: PlanContext): RestartDecision {
  const policy = restartSettings(last.Spec.RestartPolicy);
  const state = last.Status.State;
  if (policy.Condition === 'none') return { restart: false, why: 'restart condition none' };
  if (policy.Condition === 'on-failure' && state === 'complete') return { restart: false, why: 'completed (restart condition on-failure)' };
  if (policy.MaxAttempts > 0) {
    const earlier = restartHistory(last, history, stateSince(last));
    if (earlier.length >= policy.MaxAttempts) return { restart: false, why: `gave up after ${policy.MaxAttempts} restarts` };
  }
  const delay = ctx.nodeDrained(last.NodeID) ? 0 : nsToMs(policy.Delay);
  return { restart: true, at: stateSince(last) + delay };
}

/**
 * The restarts that count against `last`'s MaxAttempts: older tasks with its spec that ended
 * on their own up to `until`, within the policy's Window; newest first.
 */
export function restartHistory(last: Task, history: readonly Task[], until: number): Task[] {
  const policy = restartSettings(last.Spec.RestartPolicy);
  const windowMs = nsToMs(policy.Window);
  return history.filter((t) => {
    if (t === last || !endedOnItsOwn(t.Status.State) || !jsonEqual(t.Spec, last.Spec)) return false;
    const end = stateSince(t);
    return end <= until && (windowMs === 0 || end > until - windowMs);
  });
}
