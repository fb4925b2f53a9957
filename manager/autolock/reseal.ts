// A manager's key files (node key, data key, root CA key) written again under a new KEK, or in
// the clear when autolock goes off. Every file is rewritten whole and atomically, so a crash
// halfway leaves each one readable with either the old key or the new one.
import type { DataKey } from '../../shared/crypto/seal';
import { setKek } from '../../shared/keys';
import { loadNodeCredentials, saveNodeCredentials } from '../../shared/rpc/certstore';
import type { RootCA } from '../ca/rootca';
import { saveDataKey } from '../secrets/keyfile';

export interface ManagerKeyFiles {
  /** The node's swarm directory (certificates, data key). */
  stateDir: string;
  caDir: string;
  dataKey: DataKey | undefined;
  rootCA: RootCA;
}

export async function resealKeyFiles(f: ManagerKeyFiles, kek: DataKey | undefined): Promise<void> {
  // Read under the old key (or through the live copy) before the new one applies.
  const creds = await loadNodeCredentials(f.stateDir);
  setKek(f.stateDir, kek);
  if (creds) await saveNodeCredentials(f.stateDir, creds);
  if (f.dataKey) await saveDataKey(f.stateDir, f.dataKey);
  await f.rootCA.save(f.caDir);
}
