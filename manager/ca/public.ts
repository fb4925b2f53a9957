// What the API shows of the cluster object: everything but the CA the store keeps in it.
// Light on purpose (types only): the swarm API loads it on every node.
import type { CACluster } from './state';

/** The cluster object as the API shows it: without its CA (keys, even sealed, stay inside). */
export function publicCluster<T extends CACluster>(c: T): Omit<T, 'RootCA'> {
  const { RootCA: _ca, ...rest } = c;
  return rest;
}
