// Is a stack file's service spec already what the cluster runs? The daemon stores a spec with
// its defaults filled in and network names turned into IDs, and Go's omitempty makes absent,
// null, zero, false, "" and empty collections one value on the wire. Both sides are brought to
// that one form (defaults filled, empties dropped, keys sorted) and compared as JSON: equal
// means a deploy leaves the service alone, so its version does not move and no task restarts.
import { DEFAULT_JOB_RESTART_CONDITION, DEFAULT_RESTART_POLICY, DEFAULT_ROLLBACK_CONFIG, DEFAULT_UPDATE_CONFIG, serviceModeKind } from '../../shared/swarm/defaults';
import type { ServiceSpec } from '../../shared/swarm/types';

type Json = unknown;

/** The spec with swarm's defaults filled in, as the daemon stores it (a copy). */
export function withServerDefaults(input: ServiceSpec): ServiceSpec {
  const spec = structuredClone(input);
  spec.Labels ??= {};
  const task = (spec.TaskTemplate ??= {});
  if (spec.Networks?.length && !task.Networks?.length) task.Networks = spec.Networks;
  delete spec.Networks;
  const mode = spec.Mode && Object.values(spec.Mode).some((v) => v !== undefined && v !== null) ? spec.Mode : { Replicated: {} };
  if (mode.Replicated) mode.Replicated = { ...mode.Replicated, Replicas: mode.Replicated.Replicas ?? 1 };
  if (mode.ReplicatedJob) {
    const max = mode.ReplicatedJob.MaxConcurrent || 1;
    mode.ReplicatedJob = { MaxConcurrent: max, TotalCompletions: mode.ReplicatedJob.TotalCompletions || max };
  }
  spec.Mode = mode;
  const kind = serviceModeKind(mode);
  const isJob = kind === 'replicated-job' || kind === 'global-job';
  task.RestartPolicy = { ...DEFAULT_RESTART_POLICY, ...(isJob ? { Condition: DEFAULT_JOB_RESTART_CONDITION } : {}), ...defined(task.RestartPolicy) };
  task.ForceUpdate ??= 0;
  task.Runtime = task.Runtime || 'container';
  spec.UpdateConfig = { ...DEFAULT_UPDATE_CONFIG, ...defined(spec.UpdateConfig) };
  spec.RollbackConfig = { ...DEFAULT_ROLLBACK_CONFIG, ...defined(spec.RollbackConfig) };
  const ep = (spec.EndpointSpec ??= {});
  ep.Mode ||= 'vip';
  if (ep.Ports) ep.Ports = ep.Ports.map((p) => ({ ...p, Protocol: p.Protocol || 'tcp', PublishMode: p.PublishMode || 'ingress' }));
  return spec;
}

function defined<T extends object>(o: T | undefined | null): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}

const isEmpty = (v: Json) =>
  v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * Drop Go's zero values recursively and sort keys. The keys of a Mode are kept even when empty
 * ({"Global":{}} is not {"Replicated":{}} with zero replicas).
 */
function canonical(v: Json, keepEmptyKeys = false): Json {
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, Json> = {};
  for (const k of Object.keys(v).sort()) {
    const x = canonical((v as Record<string, Json>)[k], k === 'Mode');
    if (keepEmptyKeys ? x !== undefined && x !== null : !isEmpty(x)) out[k] = x;
  }
  return out;
}

/** The form two specs are compared in. */
export function comparableSpec(spec: ServiceSpec): Json {
  return canonical(withServerDefaults(spec));
}

/**
 * Dotted paths where the two specs differ in comparable form ("TaskTemplate.ContainerSpec.Image");
 * empty when a deploy has nothing to change.
 */
export function specDifferences(wanted: ServiceSpec, current: ServiceSpec): string[] {
  const out: string[] = [];
  diff(comparableSpec(wanted), comparableSpec(current), '', out);
  return out;
}

export function sameServiceSpec(wanted: ServiceSpec, current: ServiceSpec): boolean {
  return JSON.stringify(comparableSpec(wanted)) === JSON.stringify(comparableSpec(current));
}

function diff(a: Json, b: Json, path: string, out: string[]): void {
  const objA = a !== null && typeof a === 'object' && !Array.isArray(a);
  const objB = b !== null && typeof b === 'object' && !Array.isArray(b);
  if (objA && objB) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) diff((a as Record<string, Json>)[k], (b as Record<string, Json>)[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path || '.');
}
