// How a Service object changes when a user creates, updates or rolls it back, as pure
// functions of (service, validated spec, now): the API handler and the orchestrator's
// automatic rollback share them, so both keep PreviousSpec, UpdateStatus and JobStatus alike.

import { invalid, precondition } from '../../shared/errors';
import { isJobMode, serviceModeKind, type JobStatus, type Service, type ServiceSpec } from '../../shared/swarm';

/** Changes Docker refuses on update: the mode kind and the name. */
export function validateServiceUpdate(current: ServiceSpec, next: ServiceSpec): void {
  const from = serviceModeKind(current.Mode);
  const to = serviceModeKind(next.Mode);
  if (from !== to) throw invalid(`service mode change is not allowed (${from} to ${to}); remove the service and create it again`);
  if ((current.Name ?? '') !== (next.Name ?? '')) throw invalid('renaming services is not supported');
}

/** A new Service for a validated spec (the store assigns Version). */
export function newService(spec: ServiceSpec, id: string, now: number): Service {
  const at = iso(now);
  const service: Service = { ID: id, CreatedAt: at, UpdatedAt: at, Spec: spec };
  if (isJobMode(spec)) service.JobStatus = { JobIteration: { Index: 0 }, LastExecution: at };
  return service;
}

/**
 * The service after POST /services/{id}/update with a validated spec: the old spec becomes
 * PreviousSpec and UpdateStatus is cleared so the orchestrator starts a fresh rollout; a job
 * runs again as a new iteration.
 */
export function updateService(service: Service, spec: ServiceSpec, now: number): Service {
  validateServiceUpdate(service.Spec, spec);
  const { UpdateStatus: _dropped, ...rest } = service;
  return {
    ...rest,
    Spec: spec,
    PreviousSpec: service.Spec,
    UpdatedAt: iso(now),
    ...(isJobMode(spec) ? { JobStatus: nextIteration(service.JobStatus, now) } : {}),
  };
}

export interface RollbackOptions {
  /** Shown in UpdateStatus.Message. */
  message?: string;
  /** Started by the orchestrator's FailureAction: keep the failed update's StartedAt, as Docker does. */
  automatic?: boolean;
}

/** The service rolled back to PreviousSpec (docker service rollback, or FailureAction rollback). */
export function rollbackService(service: Service, now: number, opts: RollbackOptions = {}): Service {
  const previous = service.PreviousSpec;
  if (!previous) throw precondition(`service ${service.Spec.Name ?? service.ID} does not have a previous spec to roll back to`);
  const { PreviousSpec: _dropped, ...rest } = service;
  const startedAt = opts.automatic ? (service.UpdateStatus?.StartedAt ?? iso(now)) : iso(now);
  return {
    ...rest,
    Spec: previous,
    UpdatedAt: iso(now),
    UpdateStatus: { State: 'rollback_started', StartedAt: startedAt, Message: opts.message ?? 'manually requested rollback' },
    ...(isJobMode(previous) ? { JobStatus: nextIteration(service.JobStatus, now) } : {}),
  };
}

function nextIteration(status: JobStatus | undefined, now: number): JobStatus {
  return { JobIteration: { Index: (status?.JobIteration?.Index ?? 0) + 1 }, LastExecution: iso(now) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
