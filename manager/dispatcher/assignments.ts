// A node's assignment set and the changes between two sets (pure). The set is what the node
// must run or stop: its tasks the scheduler has placed (state ASSIGNED or later, including
// finished ones still in the store, whose containers the node keeps), plus the networks,
// secrets and configs its live tasks use. A change is sent only when the worker would act on
// it: a task's own status is the worker's report and is never echoed back.
import type { AssignmentChange, AssignmentKind } from '../../shared/rpc';
import { isTaskState, isTerminal, stateRank, type Task } from '../../shared/swarm';
import type { StoredObject } from '../store';

export interface AssignedItem {
  kind: AssignmentKind;
  id: string;
  object: StoredObject;
  /** Compared between sets: equal fingerprints need no message. */
  fingerprint: string;
}

/** Items by `${kind}:${id}`. */
export type AssignmentSet = ReadonlyMap<string, AssignedItem>;

/** The objects tasks depend on, by ID (the dispatcher's in-memory index). */
export interface DependencySource {
  network(id: string): StoredObject | undefined;
  /** Networks every node gets whatever it runs (the ingress network, for the routing mesh). */
  everyNode?(): string[];
  secret(id: string): StoredObject | undefined;
  config(id: string): StoredObject | undefined;
}

const ASSIGNED = stateRank('assigned');

/** Whether the task belongs in nodeId's set. */
export function inNodeSet(task: Task, nodeId: string): boolean {
  const state = task.Status?.State;
  return task.NodeID === nodeId && isTaskState(state) && stateRank(state) >= ASSIGNED;
}

export interface TaskDependencies {
  networks: string[];
  secrets: string[];
  configs: string[];
}

/** What a task needs on its node while it may still run; nothing once it has ended. */
export function taskDependencies(task: Task): TaskDependencies {
  const none = { networks: [], secrets: [], configs: [] };
  if (!isTaskState(task.Status?.State) || isTerminal(task.Status.State)) return none;
  const ids = (xs: Array<string | undefined> | undefined) => [...new Set((xs ?? []).filter((x): x is string => typeof x === 'string' && x !== ''))];
  const c = task.Spec?.ContainerSpec;
  return {
    networks: ids([...(task.NetworksAttachments ?? []).map((a) => a.Network?.ID), ...(task.Spec?.Networks ?? []).map((n) => n.Target)]),
    secrets: ids(c?.Secrets?.map((s) => s.SecretID)),
    configs: ids(c?.Configs?.map((s) => s.ConfigID)),
  };
}

/** JSON with object keys sorted, so that equal values give equal text whatever the writer's key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

const fingerprints = new WeakMap<object, string>();

/**
 * What the worker acts on. For a task: everything but its status (the worker's own report),
 * version and update time; for other objects: everything but version and update time.
 */
export function fingerprint(kind: AssignmentKind, object: StoredObject): string {
  let fp = fingerprints.get(object);
  if (fp === undefined) {
    const { Version: _v, UpdatedAt: _u, ...rest } = object as StoredObject & { Status?: unknown };
    if (kind === 'task') delete (rest as { Status?: unknown }).Status;
    fp = canonicalJson(rest);
    fingerprints.set(object, fp);
  }
  return fp;
}

export function itemKey(kind: AssignmentKind, id: string): string {
  return `${kind}:${id}`;
}

/** nodeId's set from the tasks that may be on it (others are skipped) and their dependencies. */
export function assignmentSet(nodeId: string, tasks: Iterable<Task>, deps: DependencySource): Map<string, AssignedItem> {
  const set = new Map<string, AssignedItem>();
  const add = (kind: AssignmentKind, object: StoredObject) => set.set(itemKey(kind, object.ID), { kind, id: object.ID, object, fingerprint: fingerprint(kind, object) });
  const wanted: TaskDependencies = { networks: [], secrets: [], configs: [] };
  for (const t of tasks) {
    if (!inNodeSet(t, nodeId)) continue;
    add('task', t as unknown as StoredObject);
    const d = taskDependencies(t);
    wanted.networks.push(...d.networks);
    wanted.secrets.push(...d.secrets);
    wanted.configs.push(...d.configs);
  }
  wanted.networks.push(...(deps.everyNode?.() ?? []));
  // A reference to an object that does not exist (yet) adds nothing; its creation re-runs this.
  const lookups: Array<[AssignmentKind, string[], (id: string) => StoredObject | undefined]> = [
    ['network', wanted.networks, (id) => deps.network(id)],
    ['secret', wanted.secrets, (id) => deps.secret(id)],
    ['config', wanted.configs, (id) => deps.config(id)],
  ];
  for (const [kind, ids, get] of lookups) {
    for (const id of ids) {
      const o = get(id);
      if (o) add(kind, o);
    }
  }
  return set;
}

// Dependencies go out before the tasks that use them, and are removed after them.
const UPDATE_ORDER: AssignmentKind[] = ['network', 'secret', 'config', 'task'];
const REMOVE_ORDER: AssignmentKind[] = ['task', 'config', 'secret', 'network'];

function change(action: AssignmentChange['action'], kind: AssignmentKind, json: string): AssignmentChange {
  return { action, [kind]: json };
}

/** The changes that turn `prev` into `next`: UPDATE for new or changed items, REMOVE (with only the ID) for gone ones. */
export function diffAssignments(prev: AssignmentSet, next: AssignmentSet): AssignmentChange[] {
  const updates: AssignedItem[] = [];
  const removes: AssignedItem[] = [];
  for (const [key, item] of next) if (prev.get(key)?.fingerprint !== item.fingerprint) updates.push(item);
  for (const [key, item] of prev) if (!next.has(key)) removes.push(item);
  updates.sort((a, b) => UPDATE_ORDER.indexOf(a.kind) - UPDATE_ORDER.indexOf(b.kind));
  removes.sort((a, b) => REMOVE_ORDER.indexOf(a.kind) - REMOVE_ORDER.indexOf(b.kind));
  return [
    ...updates.map((i) => change('UPDATE', i.kind, JSON.stringify(i.object))),
    ...removes.map((i) => change('REMOVE', i.kind, JSON.stringify({ ID: i.id }))),
  ];
}

/** A COMPLETE message's changes: every item of the set. */
export function completeChanges(set: AssignmentSet): AssignmentChange[] {
  return diffAssignments(new Map(), set);
}
