// Task history: a unit keeps at most TaskHistoryRetentionLimit tasks (Docker's task reaper),
// and tasks desired REMOVE are deleted once they can no longer be running.

import { endedOnItsOwn, isDesiredAlive, isTerminal, restartSettings, stateRank, taskHistoryLimit } from '../../../shared/swarm';
import type { Task } from '../../../shared/swarm';
import type { PlanBuilder } from './actions';
import { stateSince } from './tasks';
import { restartHistory, unitName, type PlanContext, type Unit } from './unit';

/** A task nobody runs any more: stopped, never sent to a node, or on a node that is gone from the cluster. */
export function isDeadTask(task: Task, ctx: PlanContext): boolean {
  return isTerminal(task.Status.State) || stateRank(task.Status.State) < stateRank('assigned') || ctx.nodeDeleted(task.NodeID);
}

/**
 * Deletes a unit's oldest dead, retired tasks beyond the retention limit. The newest task is
 * never deleted (it carries the unit's state), nor are tasks `keep` names or tasks its
 * restart policy still counts (MaxAttempts would otherwise reset as history is trimmed).
 */
export function trimHistory(unit: Unit, ctx: PlanContext, plan: PlanBuilder, keep: ReadonlySet<string> = new Set()): void {
  const limit = taskHistoryLimit(ctx.input.cluster);
  if (limit < 0 || unit.tasks.length <= limit) return;
  const newest = unit.tasks[0];
  const protect = new Set(keep);
  const attempts = restartSettings(newest.Spec.RestartPolicy).MaxAttempts;
  if (attempts > 0) {
    const until = endedOnItsOwn(newest.Status.State) ? stateSince(newest) : ctx.now;
    for (const t of restartHistory(newest, unit.tasks, until).slice(0, attempts)) protect.add(t.ID);
  }
  let count = unit.tasks.length;
  for (const t of [...unit.tasks].reverse()) {
    if (count <= limit) break;
    if (t === newest || protect.has(t.ID) || isDesiredAlive(t.DesiredState) || !isDeadTask(t, ctx) || plan.has(t.ID)) continue;
    plan.delete(t, `history of ${unitName(unit)} beyond ${limit} tasks`);
    count--;
  }
}

/** Deletes tasks desired REMOVE that have stopped (scaled away, superseded job iterations). */
export function reapRemoved(tasks: readonly Task[], ctx: PlanContext, plan: PlanBuilder): void {
  for (const t of tasks) if (t.DesiredState === 'remove' && isDeadTask(t, ctx)) plan.delete(t, 'removed task has stopped');
}
