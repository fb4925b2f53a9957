// The cluster data key on a manager's disk: one file in the swarm state directory, mode 0600,
// written at `swarm init`. It is never written to etcd. A manager that joins later must be
// handed the key by an existing manager (over the mTLS join) and save it with saveDataKey:
// that is the seam for more managers (issue #6).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { internal, unavailable } from '../../shared/errors';
import { dataKeyOf, newDataKey, type DataKey } from './crypto';

export const DATA_KEY_FILE = 'data.key';

export const dataKeyPath = (swarmDir: string) => join(swarmDir, DATA_KEY_FILE);

/** Write the key (base64, one line) atomically with mode 0600. */
export async function saveDataKey(swarmDir: string, k: DataKey): Promise<void> {
  await fs.mkdir(swarmDir, { recursive: true, mode: 0o700 });
  const path = dataKeyPath(swarmDir);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, `${k.key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  await fs.rename(tmp, path);
}

/** The key saved in swarmDir, or undefined when there is none. */
export async function loadDataKey(swarmDir: string): Promise<DataKey | undefined> {
  let text: string;
  try {
    text = await fs.readFile(dataKeyPath(swarmDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
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
