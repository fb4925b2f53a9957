// Autolock in the cluster object: the unlock key, sealed with the cluster's data key (so the
// store never holds it in the clear), beside Spec.EncryptionConfig.AutoLockManagers. Every
// manager follows it to seal its own key files (see follower.ts).
import { dataKeyOf, open, seal, type DataKey, type SealedData } from '../../shared/crypto/seal';
import { invalid } from '../../shared/errors';
import { newUnlockKey } from '../../shared/keys';
import type { Swarm, SwarmSpec } from '../../shared/swarm';

export type AutolockCluster = Swarm & { ManagerUnlockKey?: SealedData };

const context = (clusterId: string) => `cluster/${clusterId}/unlock-key`;

export function sealUnlockKey(clusterId: string, kek: DataKey, dataKey: DataKey): SealedData {
  return seal(dataKey, context(clusterId), kek.key);
}

/** The cluster's unlock key, or undefined while autolock is off. */
export function unlockKeyOf(c: AutolockCluster, dataKey: DataKey): DataKey | undefined {
  if (!c.ManagerUnlockKey || !c.Spec?.EncryptionConfig?.AutoLockManagers) return undefined;
  return dataKeyOf(open(dataKey, context(c.ID), c.ManagerUnlockKey));
}

/**
 * The autolock part of a swarm update: turning it on makes a key, turning it off drops it,
 * rotateManagerUnlockKey replaces it (refused while autolock is off).
 */
export function autolockUpdate(c: AutolockCluster, spec: SwarmSpec, rotate: boolean, dataKey: DataKey | undefined): { EncryptionConfig: { AutoLockManagers: boolean }; ManagerUnlockKey?: SealedData } {
  const on = spec.EncryptionConfig?.AutoLockManagers === true;
  if (rotate && !on) throw invalid('cannot rotate the unlock key: autolock is not turned on');
  if (!on) return { EncryptionConfig: { AutoLockManagers: false } };
  if (c.ManagerUnlockKey && !rotate && c.Spec?.EncryptionConfig?.AutoLockManagers) return { EncryptionConfig: { AutoLockManagers: true }, ManagerUnlockKey: c.ManagerUnlockKey };
  if (!dataKey) throw invalid("this manager does not hold the cluster's data key: it cannot make an unlock key");
  return { EncryptionConfig: { AutoLockManagers: true }, ManagerUnlockKey: sealUnlockKey(c.ID, newUnlockKey(), dataKey) };
}
