// What the API shows of the cluster object: everything but the CA and the unlock key the store keeps in it.
// Light on purpose (types only): the swarm API loads it on every node.
import type { CACluster } from './state';

/** The cluster object as the API shows it: without its CA and unlock key (keys, even sealed, stay inside). */
export function publicCluster<T extends CACluster & { ManagerUnlockKey?: unknown }>(c: T): Omit<T, 'RootCA' | 'ManagerUnlockKey'> {
  const { RootCA: _ca, ManagerUnlockKey: _k, ...rest } = c;
  return rest;
}
