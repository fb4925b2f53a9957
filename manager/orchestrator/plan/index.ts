// Pure orchestrator planners: plan(desired, observed) -> actions. No I/O, no clock, no
// randomness (IDs and `now` are injected); the applier writes the actions to the store.
export { type PlanAction, type ServiceAction, type DesiredChange, PlanBuilder, mergeActions } from './actions';
export { type PlanInput, type Unit, type Phase, type Assessment, type RestartDecision, PlanContext, assessUnit, restartDecision, restartHistory, unitsBySlot, unitsByNode } from './unit';
export { type IdGen, newTask, isTaskDirty, jsonEqual, specKey, nsToMs, timeMs, stateSince } from './tasks';
export { type ModePlan, planReplicated } from './replicated';
export { type NodeEligibility, planGlobal, nodeEligibility } from './global';
export { planReplicatedJob, planGlobalJob, jobIteration } from './jobs';
export { type RolloutState, type UnitRollout, type UpdateObserved, type UpdateStep, stepUpdate } from './update';
export { type ServicePlanInput, type ServicePlan, planService, planRemovedService } from './service';
export { trimHistory, reapRemoved, isDeadTask } from './history';
