// Where a node keeps the plaintext copies of keys that other programs read from files (etcd's
// and nats-server's TLS keys) while autolock seals them on disk: a RAM-backed directory, gone
// at reboot and removed by the daemon when it stops, so a restart finds only the sealed form.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';

/** tmpfs on every Linux (/run is not, on some machines). */
export const LIVE_ROOT = '/dev/shm/shoal-keys';

/** The live directory of the swarm directory `stateDir` (one per data root). */
export function liveDir(stateDir: string): string {
  return join(LIVE_ROOT, createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 16));
}

export async function ensureLiveDir(stateDir: string): Promise<string> {
  await fs.mkdir(LIVE_ROOT, { recursive: true, mode: 0o700 });
  const dir = liveDir(stateDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function removeLiveDir(stateDir: string): Promise<void> {
  await fs.rm(liveDir(stateDir), { recursive: true, force: true });
}
