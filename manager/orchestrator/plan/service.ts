// The orchestrator's one entry point per service: the mode's planner, then (for services,
// not jobs) the rolling update step on the units the mode planner left alone.

import { serviceModeKind, type Node, type Task } from '../../../shared/swarm';
import { PlanBuilder, mergeActions, type PlanAction } from './actions';
import { planGlobal } from './global';
import { isDeadTask } from './history';
import { planGlobalJob, planReplicatedJob } from './jobs';
import { planReplicated } from './replicated';
import { PlanContext, type PlanInput } from './unit';
import { stepUpdate, type RolloutState } from './update';

export interface ServicePlanInput extends PlanInput {
  /** What the previous plan returned as `rollout` (undefined after a restart or leader change). */
  rollout?: RolloutState;
}

export interface ServicePlan {
  /** Store writes, then at most one wakeAt, last. */
  actions: PlanAction[];
  /** Keep for the next plan of this service. */
  rollout?: RolloutState;
}

export function planService(input: ServicePlanInput): ServicePlan {
  switch (serviceModeKind(input.service.Spec.Mode)) {
    case 'replicated-job':
      return { actions: planReplicatedJob(input).actions };
    case 'global-job':
      return { actions: planGlobalJob(input).actions };
    case 'global':
    case 'replicated': {
      const mode = serviceModeKind(input.service.Spec.Mode) === 'global' ? planGlobal(input) : planReplicated(input);
      const update = stepUpdate(input.rollout, { ...input, busy: mode.busy }, input.now);
      return { actions: mergeActions(mode.actions, update.actions), rollout: update.state };
    }
  }
}

/**
 * Tasks whose service was deleted: stop them (desired REMOVE) and delete those that have
 * stopped, as Docker does on service removal.
 */
export function planRemovedService(tasks: readonly Task[], nodes: readonly Node[], now: number): PlanAction[] {
  const ctx = new PlanContext({ service: { ID: '', Spec: {} }, tasks, nodes, now, newId: () => '' });
  const plan = new PlanBuilder();
  for (const t of tasks) {
    if (isDeadTask(t, ctx)) plan.delete(t, 'service removed');
    else plan.setDesired(t, 'remove', t.ID, 'service removed');
  }
  return plan.actions();
}
