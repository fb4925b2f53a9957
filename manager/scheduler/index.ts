// The scheduler: pure placement logic. The manager's scheduling loop feeds a NodeInfoSet from
// store events, calls scheduleBatch with the pending tasks, and commits the assignments.
export type { Labels, NodeView, TaskView, PlacementView, PortView, PlatformView, ResourcesView, GenericResourceView, ResourceAmounts } from './types';
export { taskStateRank, desiredActive, holdsNode, hostPorts } from './types';
export { Constraint, parseConstraints, nodeMatches, validatePlacement, type ConstraintOp } from './constraints';
export { NodeInfo, NodeInfoSet } from './nodeinfo';
export { Pipeline, TaskChecks, NO_SUITABLE_NODE } from './pipeline';
export * from './filters';
export { scheduleBatch, type Assignment, type Unassigned, type BatchResult, type ScheduleOptions } from './scheduler';
