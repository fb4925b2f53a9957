// The cluster data key on a manager's disk: one key file in the swarm state directory (mode
// 0600, or sealed with the unlock key under autolock), written at `swarm init`. It is never
// written to etcd. A manager that joins later is handed the key by an existing manager (over
// the mTLS join) and saves it with saveDataKey.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readKeyFile, writeKeyFile } from '../../shared/keys';
import { internal, unavailable } from '../../shared/errors';
import { dataKeyOf, newDataKey, type DataKey } from '../../shared/crypto/seal';

export const DATA_KEY_FILE = 'data.key';

export const dataKeyPath = (swarmDir: string) => join(swarmDir, DATA_KEY_FILE);

/** Write the key (base64, one line) atomically. */
export async function saveDataKey(swarmDir: string, k: DataKey): Promise<void> {
  await fs.mkdir(swarmDir, { recursive: true, mode: 0o700 });
  await writeKeyFile(dataKeyPath(swarmDir), `${k.key.toString('base64')}\n`);
}

/** The key saved in swarmDir, or undefined when there is none; a sealed one needs the node's KEK. */
export async function loadDataKey(swarmDir: string): Promise<DataKey | undefined> {
  const text = await readKeyFile(dataKeyPath(swarmDir));
  if (text === undefined) return undefined;
  try {
    return dataKeyOf(Buffer.from(text.trim(), 'base64'));
  } catch (e) {
    throw internal(`the cluster data key ${dataKeyPath(swarmDir)} is unreadable`, e);
  }
}

/** A new key, saved (swarm init). */
export async function createDataKey(swarmDir: string): Promise<DataKey> {
  const k = newDataKey();
  await saveDataKey(swarmDir, k);
  return k;
}

/** The key a manager holds, or UNAVAILABLE saying what is missing (secrets can be neither sealed nor opened). */
export function requireDataKey(k: DataKey | undefined): DataKey {
  if (!k) throw unavailable("this manager does not hold the cluster's data key: secrets cannot be sealed or opened here");
  return k;
}
