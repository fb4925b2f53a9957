// The orchestrator loop (all service modes) and its action-to-store translation; the pure
// planners live in ./plan.
export { Orchestrator, type OrchestratorOptions } from './orchestrator';
export { actionsToOps, type ApplyLookup, type Translation } from './apply';
