// Replicated services: keep Replicas slots occupied. Slots are identities, not 1..N: scaling
// down removes the slots Docker would (most crowded node first, then tasks not running), and
// scaling up reuses the lowest free slot numbers.

import { PlanBuilder, type PlanAction } from './actions';
import { isDeadTask, reapRemoved, trimHistory } from './history';
import { newTask } from './tasks';
import { PlanContext, assessUnit, unitName, unitsBySlot, type Assessment, type PlanInput, type Unit } from './unit';

/** A mode planner's result: its actions, and the units (slots or nodes) they create or stop tasks in. */
export interface ModePlan {
  actions: PlanAction[];
  busy: ReadonlySet<string>;
}

export function planReplicated(input: PlanInput): ModePlan {
  const ctx = new PlanContext(input);
  const plan = new PlanBuilder();
  const want = input.service.Spec.Mode?.Replicated?.Replicas ?? 1;
  const all = unitsBySlot(input.tasks);
  const occupied: Array<{ unit: Unit; assessment: Assessment }> = [];
  for (const unit of all.values()) {
    const assessment = assessUnit(unit, ctx);
    if (assessment.phase.kind !== 'removed') occupied.push({ unit, assessment });
  }

  const ranked = removalOrder(occupied);
  const kept = ranked.slice(0, want);
  for (const { unit } of ranked.slice(want)) removeUnit(unit, ctx, plan, `scaled down to ${want}`);

  for (const { unit, assessment } of kept) applyAssessment(unit, assessment, ctx, plan);

  const used = new Set(kept.map(({ unit }) => unit.slot));
  for (let slot = 1, missing = want - kept.length; missing > 0; slot++) {
    if (used.has(slot)) continue;
    const task = newTask({ service: input.service, id: input.newId(), now: input.now, slot, cluster: input.cluster });
    plan.create(task, String(slot), `scaled up to ${want}`);
    missing--;
  }

  reapRemoved(input.tasks, ctx, plan);
  for (const { unit } of kept) trimHistory(unit, ctx, plan);
  return { actions: plan.actions(), busy: plan.busy };
}

/**
 * Retires what the assessment says and, when the unit needs a task (and `create` allows it),
 * creates one for the service's current spec, in the unit's slot and on its node if it has one.
 */
export function applyAssessment(unit: Unit, a: Assessment, ctx: PlanContext, plan: PlanBuilder, opts: { create?: boolean; jobIteration?: number } = {}): void {
  for (const { task, why } of a.retire) plan.setDesired(task, 'shutdown', unit.key, why);
  if (opts.create === false) return;
  const { input } = ctx;
  if (a.phase.kind === 'restarting') plan.wakeAt(a.phase.at, `restart delay of ${unitName(unit)}`);
  if (a.phase.kind === 'empty') {
    const task = newTask({ service: input.service, id: input.newId(), now: input.now, slot: unit.slot, nodeId: unit.nodeId, cluster: input.cluster, jobIteration: opts.jobIteration });
    plan.create(task, unit.key, a.phase.why);
  }
}

/** Desires REMOVE for every task of a unit, deleting outright those that are already dead. */
export function removeUnit(unit: Unit, ctx: PlanContext, plan: PlanBuilder, why: string): void {
  plan.busy.add(unit.key);
  for (const t of unit.tasks) {
    if (t.DesiredState === 'remove') continue;
    if (isDeadTask(t, ctx)) plan.delete(t, why);
    else plan.setDesired(t, 'remove', unit.key, why);
  }
}

/**
 * Docker's scale-down preference, as a keep-first order: a unit's rank is how many units of
 * the service its node already has before it (running ones counted first), so the most
 * crowded nodes lose units first; units without exactly one placed, alive task go first of all.
 */
function removalOrder<T extends { unit: Unit; assessment: Assessment }>(units: T[]): T[] {
  const running = (u: T) => u.assessment.alive.some((t) => t.Status.State === 'running');
  const byRunning = [...units].sort((a, b) => Number(running(b)) - Number(running(a)) || a.unit.slot - b.unit.slot);
  const perNode = new Map<string, number>();
  const ranked = byRunning.map((u) => {
    const alive = u.assessment.alive;
    const node = alive.length === 1 ? alive[0].NodeID : undefined;
    if (!node) return { u, rank: Infinity };
    const rank = (perNode.get(node) ?? 0) + 1;
    perNode.set(node, rank);
    return { u, rank };
  });
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.u);
}
