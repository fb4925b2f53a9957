// A node's key, certificate and root CA on disk, under <stateDir>/certificates.
// The three files change together (a renewal brings a new key and a new certificate), so
// `certificates` is a symlink to a directory written in full, swapped with one rename:
// a crash leaves the old set or the new one, never a key that does not match its certificate.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { internal } from '../errors';
import type { NodeCredentials } from './credentials';

export interface CertPaths {
  dir: string;
  key: string;
  cert: string;
  ca: string;
}

const LINK = 'certificates';

/** The paths (stable across renewals: they go through the symlink). */
export function certPaths(stateDir: string): CertPaths {
  const dir = join(stateDir, LINK);
  return { dir, key: join(dir, 'swarm-node.key'), cert: join(dir, 'swarm-node.crt'), ca: join(dir, 'swarm-root-ca.crt') };
}

/** Write all three files, then switch to them at once. The key is 0600. */
export async function saveNodeCredentials(stateDir: string, creds: NodeCredentials): Promise<CertPaths> {
  await fs.mkdir(stateDir, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const target = `${LINK}.${suffix}`;
  const dir = join(stateDir, target);
  await fs.mkdir(dir, { mode: 0o700 });
  const write = async (name: string, data: string, mode: number) => {
    const fh = await fs.open(join(dir, name), 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  try {
    await write('swarm-node.key', creds.keyPem, 0o600);
    await write('swarm-node.crt', creds.certPem, 0o644);
    await write('swarm-root-ca.crt', creds.caPem, 0o644);
    const old = await currentTarget(stateDir);
    const tmpLink = join(stateDir, `${LINK}.${suffix}.link`);
    await fs.symlink(target, tmpLink);
    await fs.rename(tmpLink, join(stateDir, LINK));
    if (old && old !== target) await fs.rm(join(stateDir, old), { recursive: true, force: true });
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw internal(`cannot save node certificates under ${stateDir}: ${(e as Error).message}`, e);
  }
  return certPaths(stateDir);
}

async function currentTarget(stateDir: string): Promise<string | undefined> {
  try {
    return basename(await fs.readlink(join(stateDir, LINK)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The saved credentials, or undefined when the node has none (never joined, or left). */
export async function loadNodeCredentials(stateDir: string): Promise<NodeCredentials | undefined> {
  const p = certPaths(stateDir);
  try {
    const [keyPem, certPem, caPem] = await Promise.all([fs.readFile(p.key, 'utf8'), fs.readFile(p.cert, 'utf8'), fs.readFile(p.ca, 'utf8')]);
    return { keyPem, certPem, caPem };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Forget the node's credentials (swarm leave). */
export async function removeNodeCredentials(stateDir: string): Promise<void> {
  const old = await currentTarget(stateDir);
  await fs.rm(join(stateDir, LINK), { force: true });
  if (old) await fs.rm(join(stateDir, old), { recursive: true, force: true });
}
