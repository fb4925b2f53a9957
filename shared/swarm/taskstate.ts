// The task state machine. A task's observed state only moves forward (NEW ... RUNNING, then
// one terminal state); skipping states is fine (a task can be REJECTED straight from
// ASSIGNED). Every writer of Task.Status goes through transitionTask, and the orchestrator
// moves DesiredState through setDesiredState, so no component can move a task backwards.

import { ShoalError } from '../errors';
import type { Task, TaskState, TaskStatus } from './types';

/** The API's order; the rank of a state is its index. */
export const TASK_STATES: readonly TaskState[] = [
  'new',
  'allocated', // listed by the API, not used by shoal (the allocator moves NEW to PENDING)
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
  'running',
  'complete',
  'shutdown',
  'failed',
  'rejected',
  'remove', // a desired state only: shut down, then delete the task
  'orphaned', // the node was gone long enough that the task is presumed dead
];

const RANK = new Map<TaskState, number>(TASK_STATES.map((s, i) => [s, i]));

/** States after which a task never changes again. */
const TERMINAL: ReadonlySet<TaskState> = new Set<TaskState>(['complete', 'shutdown', 'failed', 'rejected', 'orphaned']);

/** Values the orchestrator may give DesiredState. */
const DESIRED: ReadonlySet<TaskState> = new Set<TaskState>(['ready', 'running', 'complete', 'shutdown', 'remove']);

export function isTaskState(s: unknown): s is TaskState {
  return typeof s === 'string' && RANK.has(s as TaskState);
}

export function stateRank(s: TaskState): number {
  const r = RANK.get(s);
  if (r === undefined) throw new ShoalError('INVALID_ARGUMENT', `unknown task state '${String(s)}'`);
  return r;
}

/** Negative when a comes before b. */
export function compareTaskStates(a: TaskState, b: TaskState): number {
  return stateRank(a) - stateRank(b);
}

export function isTerminal(s: TaskState): boolean {
  return TERMINAL.has(s);
}

/** NEW through RUNNING: the task may still be (or become) alive. */
export function isRunningOrBefore(s: TaskState): boolean {
  return stateRank(s) <= stateRank('running');
}

/** NEW through STARTING: not running yet. */
export function isBeforeRunning(s: TaskState): boolean {
  return stateRank(s) < stateRank('running');
}

/** Ended by itself: exited (COMPLETE), crashed (FAILED) or refused by the node (REJECTED). */
export function endedOnItsOwn(s: TaskState): boolean {
  return s === 'complete' || s === 'failed' || s === 'rejected';
}

export function isFailure(s: TaskState): boolean {
  return s === 'failed' || s === 'rejected';
}

/** The orchestrator still wants the task alive (desired RUNNING, or READY while it waits). */
export function isDesiredAlive(desired: TaskState): boolean {
  return stateRank(desired) <= stateRank('running');
}

/** Refusal of a backward or impossible move; code FAILED_PRECONDITION. */
export class TaskStateError extends ShoalError {
  constructor(
    readonly taskId: string,
    readonly from: TaskState,
    readonly to: TaskState,
    reason: string,
  ) {
    super('FAILED_PRECONDITION', `task ${taskId}: cannot move ${reason} from ${from} to ${to}`);
    this.name = 'TaskStateError';
  }
}

/** Throws TaskStateError unless an observed state may move from `from` to `to`. */
export function checkTaskTransition(from: TaskState, to: TaskState, taskId = '?'): void {
  if (!isTaskState(to)) throw new ShoalError('INVALID_ARGUMENT', `task ${taskId}: unknown task state '${String(to)}'`);
  if (to === 'remove') throw new TaskStateError(taskId, from, to, 'status (remove is a desired state only)');
  if (from === to) return;
  if (isTerminal(from)) throw new TaskStateError(taskId, from, to, 'status out of a terminal state');
  if (stateRank(to) < stateRank(from)) throw new TaskStateError(taskId, from, to, 'status backwards');
}

export interface TaskStatusUpdate {
  State: TaskState;
  Message?: string;
  Err?: string;
  ContainerStatus?: TaskStatus['ContainerStatus'];
  PortStatus?: TaskStatus['PortStatus'];
}

/**
 * The one way to change a task's observed status: returns the task with the new status, or
 * the same object when nothing changed (so callers can skip the write). Re-reporting the
 * current state refreshes its message and details but keeps its timestamp, which records
 * when the state was entered. Throws TaskStateError on a backward move.
 */
export function transitionTask(task: Task, update: TaskStatusUpdate, now: Date | number = Date.now()): Task {
  const from = task.Status.State;
  checkTaskTransition(from, update.State, task.ID);
  const cur = task.Status;
  if (
    from === update.State &&
    (update.Message === undefined || update.Message === cur.Message) &&
    (update.Err === undefined || update.Err === cur.Err) &&
    update.ContainerStatus === undefined &&
    update.PortStatus === undefined
  ) {
    return task;
  }
  const at = new Date(now).toISOString();
  const status: TaskStatus = {
    ...cur,
    State: update.State,
    Timestamp: from === update.State ? (cur.Timestamp ?? at) : at,
  };
  if (update.Message !== undefined) status.Message = update.Message;
  if (update.Err !== undefined) status.Err = update.Err;
  if (update.ContainerStatus !== undefined) status.ContainerStatus = { ...cur.ContainerStatus, ...update.ContainerStatus };
  if (update.PortStatus !== undefined) status.PortStatus = update.PortStatus;
  return { ...task, Status: status, UpdatedAt: at };
}

/** Throws TaskStateError unless DesiredState may move from `from` to `to` (never backwards). */
export function checkDesiredTransition(from: TaskState, to: TaskState, taskId = '?'): void {
  if (!DESIRED.has(to)) throw new TaskStateError(taskId, from, to, 'desired state (not a desired state)');
  if (stateRank(to) < stateRank(from)) throw new TaskStateError(taskId, from, to, 'desired state backwards');
}

/** The orchestrator's way to change DesiredState; same object back when unchanged. */
export function setDesiredState(task: Task, desired: TaskState, now: Date | number = Date.now()): Task {
  checkDesiredTransition(task.DesiredState, desired, task.ID);
  if (task.DesiredState === desired) return task;
  return { ...task, DesiredState: desired, UpdatedAt: new Date(now).toISOString() };
}
