// Docker's defaults for swarm specs, in one place for the validator (which fills them in)
// and the orchestrator (which must cope with objects written before a default existed).

import type { RestartPolicy, RollbackConfig, ServiceMode, ServiceSpec, Swarm, UpdateConfig } from './types';

const SECOND = 1_000_000_000; // nanoseconds

// Docker uses the same defaults for rolling out an update and for rolling it back.
const ROLLOUT_DEFAULTS = {
  Parallelism: 1,
  Delay: 0,
  FailureAction: 'pause',
  Monitor: 5 * SECOND,
  MaxFailureRatio: 0,
  Order: 'stop-first',
} as const;

export const DEFAULT_UPDATE_CONFIG: Readonly<Required<UpdateConfig>> = Object.freeze({ ...ROLLOUT_DEFAULTS });
export const DEFAULT_ROLLBACK_CONFIG: Readonly<Required<RollbackConfig>> = Object.freeze({ ...ROLLOUT_DEFAULTS });

export const DEFAULT_RESTART_POLICY: Readonly<Required<RestartPolicy>> = Object.freeze({
  Condition: 'any',
  Delay: 5 * SECOND,
  MaxAttempts: 0,
  Window: 0,
});

/** Jobs run to completion, so a successful exit must not restart them (Docker's CLI default). */
export const DEFAULT_JOB_RESTART_CONDITION = 'on-failure' as const;

export const DEFAULT_TASK_HISTORY_RETENTION = 5;
export const DEFAULT_HEARTBEAT_PERIOD = 5 * SECOND;
export const DEFAULT_NODE_CERT_EXPIRY = 90 * 24 * 3600 * SECOND;

/** Historic tasks kept per slot or node; negative keeps them all. */
export function taskHistoryLimit(cluster: Pick<Swarm, 'Spec'> | undefined): number {
  return cluster?.Spec.Orchestration?.TaskHistoryRetentionLimit ?? DEFAULT_TASK_HISTORY_RETENTION;
}

export type ServiceModeKind = 'replicated' | 'global' | 'replicated-job' | 'global-job';

/** The kind of a (validated) mode; a spec without Mode is replicated, as in Docker. */
export function serviceModeKind(mode: ServiceMode | undefined): ServiceModeKind {
  if (mode?.Global) return 'global';
  if (mode?.ReplicatedJob) return 'replicated-job';
  if (mode?.GlobalJob) return 'global-job';
  return 'replicated';
}

export function isJobMode(spec: Pick<ServiceSpec, 'Mode'>): boolean {
  const kind = serviceModeKind(spec.Mode);
  return kind === 'replicated-job' || kind === 'global-job';
}

/** Update or rollback settings with Docker's defaults under whatever the spec sets. */
export function updateSettings(spec: ServiceSpec, rollback: boolean): Required<UpdateConfig> {
  if (rollback) return { ...DEFAULT_ROLLBACK_CONFIG, ...definedOnly(spec.RollbackConfig) };
  return { ...DEFAULT_UPDATE_CONFIG, ...definedOnly(spec.UpdateConfig) };
}

export function restartSettings(policy: RestartPolicy | undefined): Required<RestartPolicy> {
  return { ...DEFAULT_RESTART_POLICY, ...definedOnly(policy) };
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}
