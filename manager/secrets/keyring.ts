// Which data key a running manager holds, by cluster ID. The manager registers its key when it
// starts; the control API and the dispatcher look it up by the cluster they serve, so neither
// needs the key passed through the daemon's wiring. Managers of one cluster hold one key.
import { unavailable } from '../../shared/errors';
import type { DataKey } from './crypto';

const keys = new Map<string, DataKey>();

export function registerDataKey(clusterId: string, k: DataKey): void {
  keys.set(clusterId, k);
}

/** Forget the key, if it is still the one registered. */
export function unregisterDataKey(clusterId: string, k?: DataKey): void {
  if (!k || keys.get(clusterId) === k) keys.delete(clusterId);
}

export function dataKeyFor(clusterId: string | undefined): DataKey | undefined {
  return clusterId ? keys.get(clusterId) : undefined;
}

/** The key, or UNAVAILABLE naming what is missing. */
export function requireDataKey(clusterId: string | undefined): DataKey {
  const k = dataKeyFor(clusterId);
  if (!k) throw unavailable(`this manager does not hold the cluster's data key (cluster ${clusterId ?? 'unknown'}): secrets cannot be sealed or opened here`);
  return k;
}
