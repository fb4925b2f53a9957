// Global services: one task on every node that may run it. A drained or down node, or one
// that no longer satisfies the constraints, has its task shut down (never moved elsewhere);
// a paused node keeps what it runs but gets nothing new; a node that (re)appears gets a task.

import { failedConstraint, parseConstraints, type Constraint, type Node } from '../../../shared/swarm';
import { PlanBuilder } from './actions';
import { reapRemoved, trimHistory } from './history';
import { applyAssessment, type ModePlan } from './replicated';
import { PlanContext, assessUnit, unitsByNode, type PlanInput, type Unit } from './unit';

export interface NodeEligibility {
  /** The node should run the service's task. */
  eligible: boolean;
  /** Eligible, but paused: keep its task, start nothing new there. */
  paused: boolean;
  /** Why not eligible. */
  why?: string;
}

export function nodeEligibility(node: Node, constraints: readonly Constraint[]): NodeEligibility {
  if (node.Status?.State === 'down') return { eligible: false, paused: false, why: 'node down' };
  if (node.Spec.Availability === 'drain') return { eligible: false, paused: false, why: 'node drained' };
  const failed = failedConstraint(constraints, node);
  if (failed) return { eligible: false, paused: false, why: `node no longer satisfies constraint ${failed.expr}` };
  return { eligible: true, paused: node.Spec.Availability === 'pause' };
}

/** The service's constraints, or undefined when one does not parse (a spec stored before validation). */
function serviceConstraints(input: PlanInput): Constraint[] | undefined {
  try {
    return parseConstraints(input.service.Spec.TaskTemplate?.Placement?.Constraints);
  } catch {
    return undefined;
  }
}

/**
 * Visits every node in ID order with its unit (empty when it has no task) and whether it
 * should run the service; then deletes the tasks of nodes gone from the cluster, on which
 * nothing will ever report.
 */
export function forEachNode(input: PlanInput, units: Map<string, Unit>, plan: PlanBuilder, visit: (unit: Unit, el: NodeEligibility) => void): void {
  const constraints = serviceConstraints(input);
  const left = new Map(units);
  for (const node of [...input.nodes].sort((a, b) => (a.ID < b.ID ? -1 : 1))) {
    const unit = left.get(node.ID) ?? { key: node.ID, slot: 0, nodeId: node.ID, tasks: [] };
    left.delete(node.ID);
    visit(unit, constraints ? nodeEligibility(node, constraints) : { eligible: false, paused: false, why: 'the service has an invalid constraint' });
  }
  for (const unit of left.values()) {
    for (const t of unit.tasks) plan.delete(t, unit.nodeId ? `node ${unit.nodeId} left the swarm` : 'global task without a node');
  }
}

export function planGlobal(input: PlanInput): ModePlan {
  const ctx = new PlanContext(input);
  const plan = new PlanBuilder();
  forEachNode(input, unitsByNode(input.tasks), plan, (unit, el) => {
    const assessment = assessUnit(unit, ctx, el.eligible ? undefined : el.why);
    applyAssessment(unit, assessment, ctx, plan, { create: el.eligible && !el.paused });
    trimHistory(unit, ctx, plan);
  });
  reapRemoved(input.tasks, ctx, plan);
  return { actions: plan.actions(), busy: plan.busy };
}
