// What the session drives on the node: whatever runs the assigned tasks. The session feeds it
// the dispatcher's assignment set (complete on every new session, then changes) and drains
// its status reports. The task manager (worker/agent/tasks) is adapted to this by the daemon.
import type { Task, TaskStatus } from '../../../shared/swarm';

/** A network, secret or config as the dispatcher sends it (its Docker API JSON). */
export interface AssignedObject {
  ID: string;
  [field: string]: unknown;
}

/** Objects the node's live tasks use. */
export interface AssignedDependencies {
  networks: AssignedObject[];
  secrets: AssignedObject[];
  configs: AssignedObject[];
}

export interface AssignmentChanges {
  /** Tasks new to the node or changed (spec, desired state...). */
  updated: Task[];
  /** IDs of tasks no longer assigned: shut them down and forget them. */
  removed: string[];
  dependencies: {
    updated: AssignedDependencies;
    removed: { networks: string[]; secrets: string[]; configs: string[] };
  };
}

export interface StatusReport {
  taskId: string;
  status: TaskStatus;
}

export interface TaskExecutor {
  /** The complete set: tasks not in it are no longer this node's. */
  setAssignments(tasks: Task[], dependencies: AssignedDependencies): void;
  /** Changes on top of the last set. */
  applyChanges(changes: AssignmentChanges): void;
  /** Batches of status reports as tasks move, for as long as the executor runs. */
  statusUpdates(): AsyncIterable<StatusReport[]>;
}
