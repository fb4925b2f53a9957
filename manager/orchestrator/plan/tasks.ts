// Task-level helpers shared by the planners: time, spec comparison, new task objects.

import { nodeMatchesConstraints, parseConstraints } from '../../../shared/swarm';
import type { Cluster, Node, Service, Task, TaskSpec } from '../../../shared/swarm';

/** Gives each new task its ID; injected so plans are deterministic under test. */
export type IdGen = () => string;

/** API durations are nanoseconds; planner clocks are milliseconds. */
export function nsToMs(ns: number | undefined): number {
  return (ns ?? 0) / 1e6;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds of an RFC 3339 timestamp (nanosecond digits are fine), undefined if absent or bad. */
export function timeMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** When the task entered its current state (its status timestamp), 0 when unknown. */
export function stateSince(task: Task): number {
  return timeMs(task.Status.Timestamp) ?? timeMs(task.UpdatedAt) ?? 0;
}

/** Newest first by creation time, then ID, so every plan orders a slot's history alike. */
export function newestFirst(tasks: readonly Task[]): Task[] {
  return [...tasks].sort((a, b) => (timeMs(b.CreatedAt) ?? 0) - (timeMs(a.CreatedAt) ?? 0) || (a.ID < b.ID ? 1 : a.ID > b.ID ? -1 : 0));
}

/** Deep equality of JSON values where key order does not matter and absent, undefined and null fields are alike. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A fingerprint of a task spec: equal specs (as jsonEqual sees them) give equal strings. */
export function specKey(spec: TaskSpec | undefined): string {
  return JSON.stringify(canonical(spec ?? {}));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined && x !== null) out[k] = canonical(x);
  }
  return out;
}

/**
 * Whether a task runs an older spec than its service's. As in Docker, a change of placement
 * alone leaves a task be while its node still satisfies the new constraints, and a log driver
 * the task got from the cluster's defaults is not a difference.
 */
export function isTaskDirty(task: Task, service: Service, node?: Node): boolean {
  const template = service.Spec.TaskTemplate ?? {};
  const spec = !template.LogDriver && task.Spec.LogDriver ? { ...task.Spec, LogDriver: undefined } : task.Spec;
  if (jsonEqual(spec, template)) return false;
  if (!node || !jsonEqual({ ...spec, Placement: undefined }, { ...template, Placement: undefined })) return true;
  try {
    return !nodeMatchesConstraints(parseConstraints(template.Placement?.Constraints), node);
  } catch {
    return true;
  }
}

export interface NewTaskOptions {
  service: Service;
  id: string;
  now: number;
  slot: number;
  /** Global services name the node up front; the scheduler places replicated tasks. */
  nodeId?: string;
  cluster?: Pick<Cluster, 'Spec'>;
  jobIteration?: number;
}

/** A new task for the service's current spec: desired RUNNING, observed NEW. */
export function newTask(o: NewTaskOptions): Task {
  const at = iso(o.now);
  const spec: TaskSpec = structuredClone(o.service.Spec.TaskTemplate ?? {});
  const defaultLog = o.cluster?.Spec.TaskDefaults?.LogDriver;
  if (!spec.LogDriver && defaultLog) spec.LogDriver = structuredClone(defaultLog);
  const task: Task = {
    ID: o.id,
    CreatedAt: at,
    UpdatedAt: at,
    ServiceID: o.service.ID,
    Slot: o.slot,
    Spec: spec,
    Status: { State: 'new', Timestamp: at, Message: 'created' },
    DesiredState: 'running',
    ServiceAnnotations: { Name: o.service.Spec.Name, Labels: structuredClone(o.service.Spec.Labels ?? {}) },
  };
  const endpoint = o.service.Endpoint ?? (o.service.Spec.EndpointSpec ? { Spec: o.service.Spec.EndpointSpec } : undefined);
  if (endpoint) task.Endpoint = structuredClone(endpoint);
  if (o.nodeId) task.NodeID = o.nodeId;
  if (o.jobIteration !== undefined) task.JobIteration = { Index: o.jobIteration };
  return task;
}
