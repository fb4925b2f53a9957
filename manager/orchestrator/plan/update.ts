// Rolling updates (and rollbacks) as a state machine stepped by the applier loop:
//   stepUpdate(state, observed, now) -> { actions, state }
// Units (slots, or nodes for global services) whose task runs an older spec are replaced
// Parallelism at a time; each lane waits Delay after its unit's new task starts running.
// A new task that fails within Monitor of starting counts as a failure; more than
// MaxFailureRatio of them triggers FailureAction (pause, continue, rollback). Timers are
// explicit: the step returns a wakeAt, it never sleeps. The state lives in the applier's
// memory; after a leader change, stepping from undefined adopts the rollout already under
// way from the store (UpdateStatus and the tasks' specs).

import { endedOnItsOwn, isTerminal, serviceModeKind, updateSettings, type Service, type UpdateStatus } from '../../../shared/swarm';
import { PlanBuilder, type PlanAction, type ServiceAction } from './actions';
import { forEachNode } from './global';
import { isTaskDirty, iso, newTask, newestFirst, nsToMs, specKey, stateSince, timeMs } from './tasks';
import { PlanContext, assessUnit, unitsByNode, unitsBySlot, type Assessment, type PlanInput, type Unit } from './unit';

/** One unit's progress in a rollout (times in ms). */
export interface UnitRollout {
  /** When the rollout began replacing this unit. */
  startedAt: number;
  /** The replacement task, once it exists. */
  taskId?: string;
  /** When the replacement entered RUNNING. */
  runningAt?: number;
  /** When the unit stopped occupying its lane: replacement running, ended, or unit gone. */
  doneAt?: number;
}

export interface RolloutState {
  /** specKey of the TaskTemplate this rollout converges on; another spec starts a new rollout. */
  target: string;
  /** Rolling back (RollbackConfig) rather than updating (UpdateConfig). */
  rollback: boolean;
  startedAt: number;
  /** Units to replace when the rollout started: MaxFailureRatio's denominator. */
  total: number;
  /** Keyed by unit key. */
  units: Record<string, UnitRollout>;
  /** Replacement tasks counted as failures. */
  failures: string[];
  /** Set once the rollout has ended; `message` says why it stopped early. */
  stopped?: 'paused' | 'rolled-back' | 'completed';
  message?: string;
}

export interface UpdateObserved extends Omit<PlanInput, 'now'> {
  /** Units the mode planner changes in this plan: left alone until the next one. */
  busy?: ReadonlySet<string>;
}

export interface UpdateStep {
  actions: PlanAction[];
  /** Pass back in next time; undefined for jobs (a job's update is a new iteration instead). */
  state?: RolloutState;
}

interface UnitView {
  unit: Unit;
  /** Alive tasks with the service's current spec, and with an older one. */
  fresh: Unit['tasks'];
  stale: Unit['tasks'];
  /** Needs replacing: only stale tasks alive, or ended for good on an older spec. */
  dirty: boolean;
}

export function stepUpdate(previous: RolloutState | undefined, observed: UpdateObserved, now: number): UpdateStep {
  const { service } = observed;
  const kind = serviceModeKind(service.Spec.Mode);
  if (kind === 'replicated-job' || kind === 'global-job') return { actions: [] };
  const status = service.UpdateStatus?.State;
  if (status === 'paused' || status === 'rollback_paused') return { actions: [], state: previous };
  const rollback = status === 'rollback_started' || status === 'rollback_completed';
  const cfg = updateSettings(service.Spec, rollback);
  const ctx = new PlanContext({ ...observed, now });
  const views = rolloutViews(ctx, kind === 'global');
  const byKey = new Map(views.map((v) => [v.unit.key, v]));
  const dirty = views.filter((v) => v.dirty);
  const target = specKey(service.Spec.TaskTemplate);
  const plan = new PlanBuilder();
  const busy = observed.busy ?? new Set<string>();

  let state: RolloutState;
  const ended = previous?.stopped === 'paused' || previous?.stopped === 'completed';
  if (!previous || previous.target !== target || previous.rollback !== rollback || (ended && dirty.length > 0)) {
    // A new rollout (new spec, resumed after a pause, or tasks out of date again); adopt
    // start-first replacements already under way (after a leader change).
    const units: Record<string, UnitRollout> = {};
    for (const v of views) if (v.fresh.length > 0 && v.stale.length > 0) units[v.unit.key] = { startedAt: now, taskId: v.fresh[0].ID };
    state = { target, rollback, startedAt: now, total: dirty.length + Object.keys(units).length, units, failures: [] };
  } else {
    state = structuredClone(previous);
  }
  if (state.stopped === 'rolled-back') {
    // The rollback was asked for but the spec has not changed yet: ask again.
    plan.push({ type: 'rollback', serviceId: service.ID, version: service.Version?.Index, message: state.message ?? 'update rolled back' });
    return { actions: plan.actions(), state };
  }
  if (dirty.length > 0 && !status) {
    plan.push(statusAction(service, { State: 'updating', StartedAt: iso(now), Message: 'update in progress' }, 'update started'));
  }

  // Watch the replacements: running, failed (within Monitor of running), or gone.
  const monitorMs = nsToMs(cfg.Monitor);
  let failure: string | undefined;
  for (const [key, u] of Object.entries(state.units)) {
    const view = byKey.get(key);
    if (!view) {
      u.doneAt ??= now;
      continue;
    }
    const task = u.taskId ? view.unit.tasks.find((t) => t.ID === u.taskId) : firstReplacement(view.unit, u, ctx);
    if (!task) continue;
    u.taskId = task.ID;
    const st = task.Status.State;
    if (st === 'running') {
      u.runningAt ??= Math.min(stateSince(task) || now, now);
      u.doneAt ??= u.runningAt;
    } else if (endedOnItsOwn(st)) {
      const end = stateSince(task) || now;
      u.doneAt ??= end;
      if (!state.failures.includes(task.ID) && (u.runningAt === undefined || end - u.runningAt <= monitorMs)) {
        state.failures.push(task.ID);
        failure ??= task.ID;
      }
    } else if (isTerminal(st)) {
      u.doneAt ??= now;
    }
  }
  if (failure && cfg.FailureAction !== 'continue' && state.failures.length / Math.max(state.total, 1) > cfg.MaxFailureRatio) {
    plan.push(failureAction(state, service, cfg.FailureAction, failure));
    return { actions: plan.actions(), state };
  }

  // Hand free lanes the next units, in slot (or node) order.
  const parallelism = cfg.Parallelism > 0 ? cfg.Parallelism : Infinity;
  const delayMs = nsToMs(cfg.Delay);
  let lanes = 0;
  let laneFreeAt = Infinity;
  for (const u of Object.values(state.units)) {
    if (u.doneAt === undefined) lanes++;
    else if (u.doneAt + delayMs > now) {
      lanes++;
      laneFreeAt = Math.min(laneFreeAt, u.doneAt + delayMs);
    }
  }
  const waiting = dirty.filter((v) => !(v.unit.key in state.units)).sort((a, b) => a.unit.slot - b.unit.slot || (a.unit.key < b.unit.key ? -1 : 1));
  let started = 0;
  for (const v of waiting) {
    if (lanes >= parallelism) break;
    if (busy.has(v.unit.key)) continue;
    state.units[v.unit.key] = replace(v, cfg.Order, ctx, plan, rollback);
    lanes++;
    started++;
  }

  const remaining = waiting.length - started;
  const inFlight = Object.values(state.units).some((u) => u.doneAt === undefined);
  if (remaining === 0 && !inFlight) {
    const lastDone = Math.max(-Infinity, ...Object.values(state.units).map((u) => u.doneAt ?? now));
    const monitorUntil = lastDone + monitorMs;
    if (now >= monitorUntil || !Number.isFinite(lastDone)) {
      if (status === 'updating' || status === 'rollback_started') {
        const done: UpdateStatus = rollback ? { State: 'rollback_completed', Message: 'rollback completed' } : { State: 'completed', Message: 'update completed' };
        plan.push(statusAction(service, { ...service.UpdateStatus, ...done, CompletedAt: iso(now) }, done.Message!));
      }
      state.stopped = 'completed';
    } else {
      plan.wakeAt(monitorUntil, 'monitoring updated tasks');
    }
  } else if (remaining > 0 && lanes >= parallelism && laneFreeAt !== Infinity) {
    plan.wakeAt(laneFreeAt, 'update delay');
  }
  return { actions: plan.actions(), state };
}

/** The units a rollout works on: kept slots, or nodes that run the service and are not paused. */
function rolloutViews(ctx: PlanContext, global: boolean): UnitView[] {
  const assessed: Array<{ unit: Unit; a: Assessment }> = [];
  const { input } = ctx;
  if (global) {
    // Deleting tasks of departed nodes is the mode planner's job; this plan's builder is a scratch one.
    forEachNode(input, unitsByNode(input.tasks), new PlanBuilder(), (unit, el) => {
      if (el.eligible && !el.paused) assessed.push({ unit, a: assessUnit(unit, ctx) });
    });
  } else {
    for (const unit of unitsBySlot(input.tasks).values()) {
      const a = assessUnit(unit, ctx);
      if (a.phase.kind !== 'removed') assessed.push({ unit, a });
    }
  }
  return assessed.map(({ unit, a }) => {
    const fresh = a.alive.filter((t) => !ctx.dirty(t));
    const stale = a.alive.filter((t) => ctx.dirty(t));
    const endedStale = a.phase.kind === 'finished' && unit.tasks.length > 0 && ctx.dirty(unit.tasks[0]);
    return { unit, fresh, stale, dirty: (stale.length > 0 && fresh.length === 0) || endedStale };
  });
}

/** The first task with the current spec created since the unit's replacement began. */
function firstReplacement(unit: Unit, u: UnitRollout, ctx: PlanContext) {
  const candidates = unit.tasks.filter((t) => (timeMs(t.CreatedAt) ?? 0) >= u.startedAt && !isTaskDirty(t, ctx.input.service, ctx.node(t.NodeID)));
  return newestFirst(candidates).at(-1);
}

/**
 * Starts replacing a unit. start-first: the new task now, the old one goes once it runs
 * (the mode planner retires it). stop-first: the old task is told to stop; the mode
 * planner creates the new one once it has. A unit with nothing alive gets its task now.
 */
function replace(v: UnitView, order: string, ctx: PlanContext, plan: PlanBuilder, rollback: boolean): UnitRollout {
  const { input } = ctx;
  const u: UnitRollout = { startedAt: input.now };
  const why = rollback ? 'rolling back' : 'rolling update';
  if (v.stale.length === 0 || order === 'start-first') {
    const task = newTask({ service: input.service, id: input.newId(), now: input.now, slot: v.unit.slot, nodeId: v.unit.nodeId, cluster: input.cluster });
    plan.create(task, v.unit.key, `${why} (${v.stale.length ? 'start-first' : 'replacing an ended task'})`);
    u.taskId = task.ID;
  } else {
    for (const t of v.stale) plan.setDesired(t, 'shutdown', v.unit.key, `${why} (stop-first)`);
  }
  return u;
}

function failureAction(state: RolloutState, service: Service, action: 'pause' | 'rollback', taskId: string): ServiceAction {
  const cause = `due to failure or early termination of task ${taskId}`;
  if (action === 'rollback' && !state.rollback && service.PreviousSpec) {
    state.stopped = 'rolled-back';
    state.message = `update rolled back ${cause}`;
    return { type: 'rollback', serviceId: service.ID, version: service.Version?.Index, message: state.message };
  }
  state.stopped = 'paused';
  const noPrevious = action === 'rollback' && !state.rollback ? ' (no previous spec to roll back to)' : '';
  state.message = `${state.rollback ? 'rollback' : 'update'} paused ${cause}${noPrevious}`;
  return statusAction(service, { ...service.UpdateStatus, State: state.rollback ? 'rollback_paused' : 'paused', Message: state.message }, state.message);
}

function statusAction(service: Service, status: UpdateStatus, reason: string): ServiceAction {
  return { type: 'updateStatus', serviceId: service.ID, version: service.Version?.Index, status, reason };
}
