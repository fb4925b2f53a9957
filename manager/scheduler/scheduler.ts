// Places a batch of pending tasks on nodes. Tasks with the same service and the same placement
// needs form one group, placed together through one spread tree, so a thousand replicas cost one
// pass over the nodes plus a heap operation each. Pure and deterministic: the same tasks and node
// set give the same answer; ties go to the lower node ID.
import { isShoalError } from '../../shared/errors';
import { cachedConstraints } from './constraints';
import type { NodeInfo, NodeInfoSet } from './nodeinfo';
import { NO_SUITABLE_NODE, Pipeline, type TaskChecks } from './pipeline';
import { buildTree, placeOn } from './spread';
import { hostPorts, type TaskView } from './types';

export interface Assignment {
  taskId: string;
  nodeId: string;
}

export interface Unassigned {
  taskId: string;
  /** What the task's status message should say, e.g. `no suitable node (insufficient resources on 3 nodes)`. */
  reason: string;
}

export interface BatchResult {
  assigned: Assignment[];
  unassigned: Unassigned[];
}

export interface ScheduleOptions {
  pipeline?: Pipeline;
}

const defaultPipeline = new Pipeline();

/** Everything that decides where a task may go and how it spreads; tasks equal here are interchangeable. */
function groupKey(t: TaskView): string {
  if (!t.ServiceID) return `task\0${t.ID}`;
  const p = t.Spec?.Placement;
  return `${t.ServiceID}\0${JSON.stringify([p?.Constraints, p?.Preferences, p?.MaxReplicas, p?.Platforms, t.Spec?.Resources?.Reservations, hostPorts(t)])}`;
}

/**
 * Chooses a node for each pending task (tasks waiting for a node; a task that already names a
 * node, as a global service's does, is only checked against that node). The set is updated as
 * if every assignment were committed, so the next batch sees them; for an assignment that
 * fails to commit, call `nodes.removeTask(taskId)`. Unassigned tasks carry the reason Docker
 * would show. Results come in placement order; a task listed twice is placed once.
 */
export function scheduleBatch(pending: readonly TaskView[], nodes: NodeInfoSet, opts: ScheduleOptions = {}): BatchResult {
  const pipeline = opts.pipeline ?? defaultPipeline;
  const result: BatchResult = { assigned: [], unassigned: [] };
  const seen = new Set<string>();
  const groups = new Map<string, TaskView[]>();
  const pinned: TaskView[] = [];
  for (const t of pending) {
    if (seen.has(t.ID)) continue;
    seen.add(t.ID);
    if (t.NodeID) pinned.push(t);
    else {
      const key = groupKey(t);
      const g = groups.get(key);
      if (g) g.push(t);
      else groups.set(key, [t]);
    }
  }

  const assign = (task: TaskView, info: NodeInfo) => {
    // The set keeps only what the scheduler reads of the task, with its new node and state.
    const { ID, ServiceID, Slot, DesiredState, Spec, Endpoint } = task;
    nodes.applyTask({ ID, ServiceID, Slot, NodeID: info.id, DesiredState, Status: { State: 'assigned' }, Spec, Endpoint });
    result.assigned.push({ taskId: task.ID, nodeId: info.id });
  };
  const refuse = (tasks: readonly TaskView[], reason: string) => {
    for (const t of tasks) result.unassigned.push({ taskId: t.ID, reason });
  };

  // Pinned tasks first: they have no other choice, the others can go around them.
  for (const t of pinned) {
    const checks = checksFor(pipeline, t);
    if (typeof checks === 'string') refuse([t], checks);
    else {
      const info = nodes.get(t.NodeID!);
      if (!info) refuse([t], `${NO_SUITABLE_NODE} (node ${t.NodeID} not found)`);
      else if (checks.passes(info)) assign(t, info);
      else refuse([t], checks.explain([info]));
    }
  }

  for (const tasks of groups.values()) {
    const checks = checksFor(pipeline, tasks[0]);
    if (typeof checks === 'string') {
      refuse(tasks, checks);
      continue;
    }
    const tree = buildTree(nodes, tasks.length, tasks[0].Spec?.Placement, checks);
    let next = 0;
    placeOn(tree, tasks.length, checks, (info) => assign(tasks[next++], info));
    // Every node now fails some filter, so the explanation accounts for all of them.
    if (next < tasks.length) refuse(tasks.slice(next), checks.explain(nodes.all()));
  }
  return result;
}

/** The task's checks, or the reason it cannot be placed anywhere (a malformed constraint). */
function checksFor(pipeline: Pipeline, task: TaskView): TaskChecks | string {
  try {
    const exprs = task.Spec?.Placement?.Constraints;
    if (exprs?.length) cachedConstraints(exprs);
  } catch (e) {
    if (isShoalError(e, 'INVALID_ARGUMENT')) return e.message;
    throw e;
  }
  return pipeline.forTask(task);
}
