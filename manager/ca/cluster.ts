// The manager's side of keeping the CA in the cluster object: what a new cluster starts with,
// moving a cluster made before that into it, and what the rest of the manager reads from it
// (the digest join tokens pin, the CA a joining manager is handed).
import { isShoalError } from '../../shared/errors';
import { logger } from '../../shared/log';
import { certificateDigest } from '../../shared/rpc';
import type { ClusterStore } from '../store';
import type { DataKey } from '../../shared/crypto/seal';
import type { RootCA } from './rootca';
import { caFields, CASigners, newStoredRootCA, type CACluster } from './state';

const log = logger('ca');

/** The CA fields of a new cluster object (swarm init): `root`, its key sealed with the data key. */
export function initialClusterCA(root: RootCA, dataKey: DataKey): Pick<CACluster, 'RootCA' | 'TLSInfo' | 'RootRotationInProgress'> {
  return caFields(newStoredRootCA(root, dataKey));
}

/**
 * At manager start: a cluster object without a CA (made before the CA moved to the store) gets
 * this manager's root. Returns whether the cluster has a CA in the store afterwards. Without
 * the data key nothing is written (another manager will do it).
 */
export async function ensureClusterCA(store: ClusterStore, clusterId: string, root: RootCA, dataKey: DataKey | undefined): Promise<boolean> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const c = await store.get<CACluster & { ID: string }>('cluster', clusterId);
    if (!c) return false;
    if (c.RootCA) return true;
    if (!dataKey) return false;
    try {
      await store.update('cluster', { ...c, ...initialClusterCA(root, dataKey) });
      log.info({ digest: root.digest }, "the cluster's root CA is now kept in the store");
      return true;
    } catch (e) {
      if (!isShoalError(e, 'CONFLICT')) throw e;
    }
  }
  return false;
}

/** The digest join tokens pin: the cluster's root (it changes when a rotation finishes). */
export function joinTokenDigest(cluster: CACluster, fallback: RootCA): string {
  return cluster.RootCA ? certificateDigest(cluster.RootCA.CACert) : fallback.digest;
}

/**
 * Keep this manager's disk copy of the CA on the cluster's root: what is minted from the disk
 * copy before the store can be read (the in-memory certificate of the manager's etcd
 * clients) and what a joining manager is handed must come from the root the nodes trust.
 * Call it at start once the store answers, and when this node's trust root changed (before
 * restarting what reads certificates once). Returns the root now on disk.
 */
export async function syncDiskCA(cluster: CACluster, dataKey: () => DataKey | undefined, dir: string, current: RootCA): Promise<RootCA> {
  const ca = cluster.RootCA;
  if (!ca || ca.CACert === current.certPem) return current;
  const root = await new CASigners(dataKey).current(ca);
  await root.save(dir);
  log.info({ digest: root.digest, previous: current.digest }, "this manager's copy of the root CA now follows the cluster's");
  return root;
}

/** The CA a new manager is handed (it signs from then on): the one that signs now. */
export async function signingCA(cluster: CACluster, dataKey: () => DataKey | undefined, fallback: RootCA): Promise<{ certPem: string; keyPem: string }> {
  const root = cluster.RootCA ? await new CASigners(dataKey).signer(cluster.RootCA) : fallback;
  return { certPem: root.certPem, keyPem: root.keyPem };
}
