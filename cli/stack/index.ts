// Stack deploys on top of the compose loader (shared/compose): plan, apply, list and remove.
export { deployStack, waitReady, NOT_A_MANAGER, type DeployOptions } from './deploy';
export { removeStacks, isNetworkBusy, type RemoveOptions } from './remove';
export { summarizeStacks, stackRow, stackFilter, STACK_TABLE, STACK_HEADERS, type StackSummary } from './list';
export { planDeploy, planSteps, wantedSpec, plannedIds, pendingId, RESOLVE_IMAGE, type DeployPlan, type ObservedStack, type ResolveImage, type ServiceStep, type RefIds } from './plan';
export { sameServiceSpec, specDifferences, comparableSpec, withServerDefaults } from './compare';
export { dependencyLevels, type DependencyNode } from './order';
export { serviceReadiness, notReadyMessage, type Readiness } from './ready';
export { DeployJournal, formatDeploySummary } from './report';
