// Figures the API derives from tasks rather than stores: a service's running/desired/completed
// counts (GET /services?status=true) and whether a task runs the service's current spec (the
// CLI's "_up-to-date" filter while it waits for a create or update to converge).
import {
  nodeMatchesConstraints,
  parseConstraints,
  serviceModeKind,
  type Node,
  type Service,
  type ServiceStatus,
  type Task,
  type TaskSpec,
} from '../../shared/swarm';

/**
 * As swarmkit's ListServiceStatuses, except that a task only counts as running on a node that
 * is not down (as docker's CLI counted it): a dead node's last report is not a running task.
 * Jobs count only tasks of the current iteration.
 */
export function serviceStatus(service: Service, tasks: readonly Task[], nodes: readonly Node[]): ServiceStatus {
  const live = new Set(nodes.filter((n) => n.Status?.State !== 'down').map((n) => n.ID));
  const kind = serviceModeKind(service.Spec.Mode);
  const iteration = kind === 'replicated-job' || kind === 'global-job' ? (service.JobStatus?.JobIteration?.Index ?? 0) : undefined;
  const status: Required<ServiceStatus> = { RunningTasks: 0, DesiredTasks: 0, CompletedTasks: 0 };
  if (kind === 'replicated') status.DesiredTasks = service.Spec.Mode?.Replicated?.Replicas ?? 1;
  if (kind === 'replicated-job') status.DesiredTasks = service.Spec.Mode?.ReplicatedJob?.MaxConcurrent ?? 1;
  for (const t of tasks) {
    if (t.ServiceID !== service.ID) continue;
    if (iteration !== undefined) {
      if ((t.JobIteration?.Index ?? 0) !== iteration) continue;
      if (t.Status.State === 'complete') status.CompletedTasks++;
    }
    if (t.Status.State === 'running' && t.NodeID !== undefined && live.has(t.NodeID)) status.RunningTasks++;
    if (kind === 'global' && t.DesiredState === 'running') status.DesiredTasks++;
    // A global job wants every task that has not completed yet.
    if (kind === 'global-job' && t.DesiredState === 'complete' && t.Status.State !== 'complete') status.DesiredTasks++;
  }
  return status;
}

/**
 * The task runs the service's current task template. A change of placement constraints alone
 * leaves a task up to date when its node still satisfies them (swarmkit does the same, so a
 * constraint edit does not restart tasks that may stay).
 */
export function taskUpToDate(service: Service, task: Task, node: Node | undefined): boolean {
  const want = service.Spec.TaskTemplate ?? {};
  if (sameJson(want, task.Spec)) return true;
  if (!node || !sameJson(withoutConstraints(want), withoutConstraints(task.Spec))) return false;
  return nodeMatchesConstraints(parseConstraints(want.Placement?.Constraints), node);
}

function withoutConstraints(spec: TaskSpec): TaskSpec {
  const { Constraints: _c, ...placement } = spec.Placement ?? {};
  return { ...spec, Placement: placement };
}

/** Structural equality of JSON values: key order and absent-vs-undefined do not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
