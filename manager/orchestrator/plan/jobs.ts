// Jobs run tasks to completion. Each execution of the job is an iteration
// (Service.JobStatus.JobIteration, raised by every update); tasks of older iterations are
// removed, completed tasks are never restarted, failed ones follow the restart policy
// (on-failure by default) in the same slot or on the same node.

import { isDesiredAlive, isTerminal, type Task } from '../../../shared/swarm';
import { PlanBuilder } from './actions';
import { forEachNode } from './global';
import { reapRemoved, trimHistory } from './history';
import { applyAssessment, type ModePlan } from './replicated';
import { newTask } from './tasks';
import { PlanContext, assessUnit, unitsByNode, unitsBySlot, type PlanInput, type Unit } from './unit';

export function jobIteration(input: PlanInput): number {
  return input.service.JobStatus?.JobIteration?.Index ?? 0;
}

/** Splits a job's tasks into this iteration's and older ones, removing the older ones still alive. */
function splitIterations(input: PlanInput, plan: PlanBuilder, keyOf: (t: Task) => string): Task[] {
  const iteration = jobIteration(input);
  const current: Task[] = [];
  for (const t of input.tasks) {
    if (t.JobIteration?.Index === iteration) current.push(t);
    else if (isDesiredAlive(t.DesiredState) && !isTerminal(t.Status.State)) plan.setDesired(t, 'remove', keyOf(t), `job iteration ${iteration} replaced iteration ${t.JobIteration?.Index ?? 'none'}`);
  }
  return current;
}

/** Trims history across iterations, keeping every task that completed in this one (they are the job's progress). */
function trimJobHistory(units: Iterable<Unit>, current: readonly Task[], ctx: PlanContext, plan: PlanBuilder): void {
  const completed = new Set(current.filter((t) => t.Status.State === 'complete').map((t) => t.ID));
  for (const unit of units) trimHistory(unit, ctx, plan, completed);
  reapRemoved(ctx.input.tasks, ctx, plan);
}

/**
 * Replicated job: TotalCompletions tasks must complete, at most MaxConcurrent at a time, each
 * in its own slot (0..TotalCompletions-1). A slot whose task failed and may not restart is
 * done too: the job then ends with fewer completions rather than retrying forever.
 */
export function planReplicatedJob(input: PlanInput): ModePlan {
  const ctx = new PlanContext(input, true);
  const plan = new PlanBuilder();
  const iteration = jobIteration(input);
  const mode = input.service.Spec.Mode?.ReplicatedJob ?? {};
  const maxConcurrent = mode.MaxConcurrent || 1;
  const total = mode.TotalCompletions || maxConcurrent;
  const current = splitIterations(input, plan, (t) => String(t.Slot ?? 0));

  const units = unitsBySlot(current);
  let finished = 0;
  let active = 0;
  for (const unit of units.values()) {
    const assessment = assessUnit(unit, ctx);
    if (assessment.phase.kind === 'finished') finished++;
    else active++;
    applyAssessment(unit, assessment, ctx, plan, { jobIteration: iteration });
  }
  let room = Math.min(maxConcurrent - active, total - finished - active);
  for (let slot = 0; room > 0; slot++) {
    if (units.has(String(slot))) continue;
    const task = newTask({ service: input.service, id: input.newId(), now: input.now, slot, cluster: input.cluster, jobIteration: iteration });
    plan.create(task, String(slot), `job iteration ${iteration}: ${finished} of ${total} done, ${active} running`);
    active++;
    room--;
  }
  trimJobHistory(unitsBySlot(input.tasks).values(), current, ctx, plan);
  return { actions: plan.actions(), busy: plan.busy };
}

/** Global job: one task to completion on every eligible node, nodes that join later included. */
export function planGlobalJob(input: PlanInput): ModePlan {
  const ctx = new PlanContext(input, true);
  const plan = new PlanBuilder();
  const iteration = jobIteration(input);
  const current = splitIterations(input, plan, (t) => t.NodeID ?? '');
  const all = unitsByNode(input.tasks);
  forEachNode(input, unitsByNode(current), plan, (unit, el) => {
    const assessment = assessUnit(unit, ctx, el.eligible ? undefined : el.why);
    applyAssessment(unit, assessment, ctx, plan, { create: el.eligible && !el.paused, jobIteration: iteration });
  });
  const [kept, gone] = [[...all.values()].filter((u) => ctx.nodes.has(u.key)), [...all.values()].filter((u) => !ctx.nodes.has(u.key))];
  for (const t of gone.flatMap((u) => u.tasks)) plan.delete(t, `node ${t.NodeID ?? '(none)'} left the swarm`);
  trimJobHistory(kept, current, ctx, plan);
  return { actions: plan.actions(), busy: plan.busy };
}
