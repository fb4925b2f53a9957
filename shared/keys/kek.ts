// Which key-encryption key (KEK) seals the key files under a node's swarm directory: set while
// autolock is on and the node is unlocked, absent otherwise. Kept in this process's memory
// only: that is what "locked" means after a restart.
import { resolve, sep } from 'node:path';
import type { DataKey } from '../crypto/seal';

const keks = new Map<string, DataKey>();

/** Seal what is written under `stateDir` with `kek` from now on (undefined: write it in the clear). */
export function setKek(stateDir: string, kek: DataKey | undefined): void {
  if (kek) keks.set(resolve(stateDir), kek);
  else keks.delete(resolve(stateDir));
}

/** The KEK of the registered directory holding `path`, if any. */
export function kekFor(path: string): DataKey | undefined {
  let best: string | undefined;
  const p = resolve(path);
  for (const dir of keks.keys()) {
    if ((p === dir || p.startsWith(dir + sep)) && (!best || dir.length > best.length)) best = dir;
  }
  return best === undefined ? undefined : keks.get(best);
}
