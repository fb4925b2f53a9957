// Task status reports from a worker (pure): parsing, and deciding what each one does to the
// stored task. Every change goes through the shared transition function, so a report can only
// move a task forward; a stale or backwards report is skipped, not an error for the batch.
import { invalid, ShoalError } from '../../shared/errors';
import type { TaskStatusUpdate as WireStatusUpdate } from '../../shared/rpc';
import { isTaskState, TaskStateError, transitionTask, type Task, type TaskStatusUpdate } from '../../shared/swarm';

export interface StatusReport {
  taskId: string;
  update: TaskStatusUpdate;
  /** When the node saw the state (its TaskStatus.Timestamp), ms since the epoch. */
  at?: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseOne(u: WireStatusUpdate, i: number): StatusReport {
  const where = `updates[${i}]`;
  if (typeof u?.taskId !== 'string' || u.taskId === '') throw invalid(`${where}.task_id must be a task ID`);
  let s: unknown;
  try {
    s = JSON.parse(u.status);
  } catch {
    throw invalid(`${where}.status (task ${u.taskId}) is not JSON`);
  }
  if (!isObject(s)) throw invalid(`${where}.status (task ${u.taskId}) must be a TaskStatus object`);
  if (!isTaskState(s.State) || s.State === 'remove') throw invalid(`${where}.status.State (task ${u.taskId}): '${String(s.State)}' is not a task state`);
  for (const f of ['Message', 'Err'] as const) {
    if (s[f] !== undefined && typeof s[f] !== 'string') throw invalid(`${where}.status.${f} (task ${u.taskId}) must be a string`);
  }
  for (const f of ['ContainerStatus', 'PortStatus'] as const) {
    if (s[f] !== undefined && s[f] !== null && !isObject(s[f])) throw invalid(`${where}.status.${f} (task ${u.taskId}) must be an object`);
  }
  const update: TaskStatusUpdate = { State: s.State };
  if (typeof s.Message === 'string') update.Message = s.Message;
  if (typeof s.Err === 'string') update.Err = s.Err;
  if (isObject(s.ContainerStatus)) update.ContainerStatus = s.ContainerStatus as TaskStatusUpdate['ContainerStatus'];
  if (isObject(s.PortStatus)) update.PortStatus = s.PortStatus as TaskStatusUpdate['PortStatus'];
  const at = typeof s.Timestamp === 'string' ? Date.parse(s.Timestamp) : NaN;
  return Number.isFinite(at) ? { taskId: u.taskId, update, at } : { taskId: u.taskId, update };
}

/** The reports of one UpdateTaskStatus call; INVALID_ARGUMENT naming the entry when one is malformed. */
export function parseStatusUpdates(updates: WireStatusUpdate[] | undefined): StatusReport[] {
  return (updates ?? []).map(parseOne);
}

/** Reports by task, each task's in the order they came. */
export function groupByTask(reports: StatusReport[]): Map<string, StatusReport[]> {
  const out = new Map<string, StatusReport[]>();
  for (const r of reports) {
    const list = out.get(r.taskId);
    if (list) list.push(r);
    else out.set(r.taskId, [r]);
  }
  return out;
}

export type StatusDecision =
  | { kind: 'write'; task: Task; /** reports that were stale and left out */ skipped: string[] }
  | { kind: 'skip'; reasons: string[] };

/**
 * What `reports` (all for one task, from nodeId) do to the stored task: the task to write, or
 * why nothing is written. PERMISSION_DENIED when the task is another node's: a worker reports
 * only what it was assigned, so anything else is refused as a whole.
 */
export function decideStatus(nodeId: string, taskId: string, task: Task | undefined, reports: StatusReport[], now: number = Date.now()): StatusDecision {
  if (!task) return { kind: 'skip', reasons: [`task ${taskId} is not in the store (removed)`] };
  if (task.NodeID !== nodeId) throw new ShoalError('PERMISSION_DENIED', `task ${taskId} is not assigned to node ${nodeId}`);
  let cur = task;
  const skipped: string[] = [];
  for (const r of reports) {
    try {
      cur = transitionTask(cur, r.update, r.at ?? now);
    } catch (err) {
      if (!(err instanceof TaskStateError)) throw err;
      skipped.push(err.message);
    }
  }
  if (cur === task) return { kind: 'skip', reasons: skipped.length ? skipped : [`task ${taskId}: status unchanged`] };
  return { kind: 'write', task: cur, skipped };
}
