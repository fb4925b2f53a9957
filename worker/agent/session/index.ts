// The agent's session with the managers' dispatcher.
export { AgentSession, type AgentSessionOptions, type SessionState } from './session';
export type { TaskExecutor, AssignmentChanges, AssignedDependencies, AssignedObject, StatusReport } from './executor';
export { gatherNodeDescription, unameArch, type DescriptionOptions } from './description';
export { decodeChanges, decodeComplete } from './decode';
export { ManagerList, backoffMs } from './managers';
export { PendingStatuses } from './pending';
