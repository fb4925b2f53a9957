// What the API derives from tasks rather than stores: a service's running/desired/completed
// counts (GET /services?status=true).
import { serviceModeKind, type Node, type Service, type ServiceStatus, type Task } from '../../shared/swarm';

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
