// GET /tasks and /tasks/{id}. A task's name is computed as swarmkit names it: "svc.slot.id", or
// "svc.nodeid.id" for a task bound to a node (global services).
import type { Router } from '../../shared/api';
import { invalid } from '../../shared/errors';
import { TASK_STATES, type Node, type Service, type Task } from '../../shared/swarm';
import type { ControlContext } from './context';
import { anyOf, anyPrefix, checkFilterKeys, labelMap, matchLabels, type Filters } from './filters';
import { managerOnly } from './http';
import { pickByRef, resolveRef } from './lookup';
import { nodeHostname } from './nodes';
import { serviceNamer } from './services';
import { isTaskDirty } from '../orchestrator/plan';

const TASK_FILTERS = ['name', 'id', 'label', 'service', 'node', 'desired-state', 'runtime', '_up-to-date'];

export function taskName(t: Task, serviceName: string | undefined): string {
  if (t.Name) return t.Name;
  return `${serviceName ?? ''}.${t.Slot ? t.Slot : (t.NodeID ?? '')}.${t.ID}`;
}

/** What task filters are resolved against: service and node references become IDs. */
export interface TaskWorld {
  services: readonly Service[];
  nodes: readonly Node[];
}

/** GET /tasks filters as a predicate. Unknown services or nodes in a filter are 404, as in dockerd. */
export function taskFilter(filters: Filters, world: TaskWorld): (t: Task) => boolean {
  checkFilterKeys(filters, TASK_FILTERS);
  const services = new Map(world.services.map((s) => [s.ID, s]));
  const nodes = new Map(world.nodes.map((n) => [n.ID, n]));
  const serviceIds = (filters.get('service') ?? []).map((v) => pickByRef(world.services, v, 'service', serviceNamer).ID);
  const nodeIds = (filters.get('node') ?? []).map((v) => pickByRef(world.nodes, v, 'node', (n) => [nodeHostname(n)]).ID);
  const desired: string[] = [];
  for (const s of filters.get('desired-state') ?? []) {
    if (s === '') continue;
    const state = s.toLowerCase();
    if (!(TASK_STATES as readonly string[]).includes(state)) throw invalid(`Invalid desired-state filter: '${s}'`);
    desired.push(state);
  }
  const names = filters.get('name');
  const ids = filters.get('id');
  const labels = labelMap(filters.get('label'));
  // "" is how dockerd spells the default runtime, which is the container runtime.
  const runtimes = filters.get('runtime')?.map((r) => r || 'container');
  const upToDate = (filters.get('_up-to-date') ?? []).length > 0;
  return (t) => {
    const service = services.get(t.ServiceID);
    if (!anyPrefix(taskName(t, service?.Spec.Name), names)) return false;
    if (!anyPrefix(t.ID, ids)) return false;
    // Labels are the service's, as swarmkit copies them onto its tasks.
    if (labels.size && !matchLabels(service?.Spec.Labels ?? t.Labels, labels)) return false;
    if (!anyOf(t.ServiceID, serviceIds) || !anyOf(t.NodeID, nodeIds)) return false;
    if (!anyOf(t.DesiredState, desired)) return false;
    if (!anyOf(t.Spec.Runtime || 'container', runtimes)) return false;
    // The orchestrator's own test of whether a task runs the service's current spec.
    if (upToDate && !(service && !isTaskDirty(t, service, t.NodeID ? nodes.get(t.NodeID) : undefined))) return false;
    return true;
  };
}

/** A task by ID, full name or unique ID prefix. */
export function findTask(c: ControlContext, ref: string): Promise<Task> {
  return resolveRef<Task>(c.store, 'tasks', ref, 'task', async () => {
    const { items } = await c.store.list<Service>('services');
    const names = new Map(items.map((s) => [s.ID, s.Spec.Name]));
    return (t) => [taskName(t, names.get(t.ServiceID))];
  });
}

export function registerTaskRoutes(router: Router, c: ControlContext): void {
  const r = managerOnly(router, c);

  r.get('/tasks', async (ctx) => {
    const filters = ctx.query.filters();
    checkFilterKeys(filters, TASK_FILTERS);
    const [tasks, services, nodes] = await Promise.all([c.store.list<Task>('tasks'), c.store.list<Service>('services'), c.store.list<Node>('nodes')]);
    const match = taskFilter(filters, { services: services.items, nodes: nodes.items });
    ctx.json200(tasks.items.filter(match));
  });

  r.get('/tasks/:id', async (ctx) => {
    ctx.json200(await findTask(c, ctx.params.id));
  });
}
