// A manager's key files (node key, data key, root CA key) written again under a new KEK, or in
// the clear when autolock goes off. Every file is rewritten whole and atomically, so a crash
// halfway leaves each one readable with either the old key or the new one.
import type { DataKey } from '../../shared/crypto/seal';
import { setKek } from '../../shared/keys';
import { loadNodeCredentials, saveNodeCredentials } from '../../shared/rpc/certstore';
import type { NodeCredentials } from '../../shared/rpc/credentials';
import type { RootCA } from '../ca/rootca';
import { saveDataKey } from '../secrets/keyfile';

export interface ManagerKeyFiles {
  /** The node's swarm directory (certificates, data key). */
  stateDir: string;
  caDir: string;
  dataKey: DataKey | undefined;
  rootCA: RootCA;
}

/**
 * From now on seal what is written under `stateDir` with `kek` (undefined: in the clear), and
 * write the node's credentials again so (`creds`, or what is saved, read under the old key).
 */
export async function resealNodeKey(stateDir: string, kek: DataKey | undefined, creds?: NodeCredentials): Promise<void> {
  const c = creds ?? (await loadNodeCredentials(stateDir));
  setKek(stateDir, kek);
  if (c) await saveNodeCredentials(stateDir, c);
}

export async function resealKeyFiles(f: ManagerKeyFiles, kek: DataKey | undefined): Promise<void> {
  await resealNodeKey(f.stateDir, kek);
  if (f.dataKey) await saveDataKey(f.stateDir, f.dataKey);
  await f.rootCA.save(f.caDir);
}
