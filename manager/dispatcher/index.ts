// The dispatcher: worker sessions, heartbeats, assignment streams and task status reports.
export { Dispatcher, type DispatcherOptions } from './dispatcher';
export {
  callerOf,
  forwardTarget,
  forwardedMetadata,
  FORWARDED_NODE,
  FORWARDED_CLUSTER,
  FORWARDED_REMOTE,
  LEADER_CHECK_MS,
  type Caller,
  type ForwardOptions,
  type LeaderEndpoint,
} from './forward';
export {
  DEFAULT_HEARTBEAT_PERIOD_MS,
  HEARTBEAT_GRACE_MULTIPLIER,
  STARTUP_GRACE_FACTOR,
  ASSIGNMENT_BATCH_MS,
  HEARTBEAT_FAILURE,
  heartbeatPeriodMs,
  heartbeatGraceMs,
} from './config';
export {
  assignmentSet,
  diffAssignments,
  completeChanges,
  inNodeSet,
  taskDependencies,
  fingerprint,
  canonicalJson,
  type AssignedItem,
  type AssignmentSet,
  type DependencySource,
  type TaskDependencies,
} from './assignments';
export { HeartbeatTracker } from './heartbeats';
export { parseStatusUpdates, groupByTask, decideStatus, type StatusReport, type StatusDecision } from './status';
export { parseDescription, peerHost, readyNode, downNode } from './nodes';
