// When is a service ready for the services that depend on it? When every replica of its
// current spec is RUNNING. A task with a health check only reaches RUNNING once its first
// probe passed (as swarm's executor does), so "running" already means "healthy" there.
// Jobs are ready once their completions are done. Pure: the caller polls the tasks.
import { serviceModeKind } from '../../shared/swarm/defaults';
import type { Service, Task } from '../../shared/swarm/types';

export interface Readiness {
  ready: boolean;
  /** Tasks of the current spec that count (running, or complete for jobs). */
  done: number;
  /** How many must count. */
  wanted: number;
  /** The update stopped (paused, rolled back): waiting longer cannot help. */
  failed?: string;
  /** The newest error among the current spec's tasks, for a timeout's message. */
  lastError?: string;
}

/**
 * `tasks`: every task of the service; `upToDate`: IDs of those running its current spec
 * (GET /tasks with the _up-to-date filter, the orchestrator's own test).
 */
export function serviceReadiness(service: Service, tasks: readonly Task[], upToDate: ReadonlySet<string>): Readiness {
  const us = service.UpdateStatus;
  const failed =
    us?.State === 'paused' ? `update paused: ${us.Message ?? ''}` : us?.State === 'rollback_paused' || us?.State === 'rollback_completed' || us?.State === 'rollback_started' ? `update rolled back: ${us.Message ?? ''}` : undefined;
  const current = tasks.filter((t) => upToDate.has(t.ID));
  const lastError = newestError(current);
  const kind = serviceModeKind(service.Spec.Mode);
  const iteration = service.JobStatus?.JobIteration?.Index ?? 0;
  const ofIteration = (t: Task) => (t.JobIteration?.Index ?? 0) === iteration;
  let done: number;
  let wanted: number;
  switch (kind) {
    case 'replicated':
      wanted = service.Spec.Mode?.Replicated?.Replicas ?? 1;
      done = current.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running').length;
      break;
    case 'global': {
      // One task per eligible node: those the orchestrator wants running, all of the current spec.
      const live = tasks.filter((t) => t.DesiredState === 'running');
      wanted = Math.max(live.length, 1);
      done = live.filter((t) => upToDate.has(t.ID) && t.Status.State === 'running').length;
      break;
    }
    case 'replicated-job':
      wanted = service.Spec.Mode?.ReplicatedJob?.TotalCompletions ?? 1;
      done = tasks.filter((t) => ofIteration(t) && t.Status.State === 'complete').length;
      break;
    default: {
      const mine = tasks.filter(ofIteration);
      wanted = Math.max(mine.length, 1);
      done = mine.filter((t) => t.Status.State === 'complete').length;
    }
  }
  return { ready: !failed && done >= wanted, done, wanted, failed, lastError };
}

function newestError(tasks: readonly Task[]): string | undefined {
  const withErr = tasks.filter((t) => t.Status.Err);
  withErr.sort((a, b) => Date.parse(b.Status.Timestamp ?? '') - Date.parse(a.Status.Timestamp ?? ''));
  return withErr[0]?.Status.Err;
}

/** "service app_db did not become ready within 2m0s: 0/1 tasks ready (last task error: ...)". */
export function notReadyMessage(name: string, r: Readiness, waited: string): string {
  const error = r.lastError ? ` (last task error: ${r.lastError})` : '';
  if (r.failed) return `service ${name} will not become ready: ${r.failed}${error}`;
  return `service ${name} did not become ready within ${waited}: ${r.done}/${r.wanted} tasks ready${error}`;
}
