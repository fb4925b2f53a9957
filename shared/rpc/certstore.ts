// A node's key, certificate and root CA on disk, under <stateDir>/certificates.
// The three files change together (a renewal brings a new key and a new certificate), so
// `certificates` is a symlink to a directory written in full, swapped with one rename:
// a crash leaves the old set or the new one, never a key that does not match its certificate.
//
// Under autolock the key is sealed in the set (swarm-node.key.sealed) and swarm-node.key is a
// link to a plaintext copy in the node's live (RAM) directory, for the programs that read the
// key from its file (etcd, nats-server, nats.js). After a restart the link dangles until the
// node is unlocked: loading the credentials then needs the KEK and puts the copy back.
//
// The store is the node's source of truth for its credentials: what a save writes also reaches
// every live TlsIdentity made from credentials loaded from the same directory (the way grpc's
// file-watcher certificate provider follows its files), so the manager's server and the
// agent's channels present a renewed certificate without being told by whoever renewed it.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { internal } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { ensureLiveDir, kekFor, liveDir, readKeyFile, sealedKeyId, writeKeyFile } from '../keys';
import type { NodeCredentials } from './credentials';

export interface CertPaths {
  dir: string;
  key: string;
  cert: string;
  ca: string;
}

const LINK = 'certificates';

/** Where loaded credentials came from (a hidden property: they compare and print as before). */
const STORE_DIR = Symbol('shoal.certstore.dir');

/** What follows a store: a TlsIdentity (kept weakly, so a stopped one can be collected). */
export interface CredentialsFollower {
  update(creds: NodeCredentials): void;
}

const followers = new Map<string, Set<WeakRef<CredentialsFollower>>>();

/** The state directory credentials were loaded from, if loadNodeCredentials made them. */
export function credentialsStoreDir(creds: NodeCredentials): string | undefined {
  return (creds as { [STORE_DIR]?: string })[STORE_DIR];
}

/** Keep `f` updated with what is saved in `stateDir` from now on. */
export function followNodeCredentials(stateDir: string, f: CredentialsFollower): void {
  const dir = resolve(stateDir);
  let set = followers.get(dir);
  if (!set) followers.set(dir, (set = new Set()));
  set.add(new WeakRef(f));
}

function notifyFollowers(stateDir: string, creds: NodeCredentials): void {
  const dir = resolve(stateDir);
  const set = followers.get(dir);
  if (!set) return;
  for (const ref of set) {
    const f = ref.deref();
    if (f) f.update(creds);
    else set.delete(ref);
  }
  if (set.size === 0) followers.delete(dir);
}

function tagged(creds: NodeCredentials, stateDir: string): NodeCredentials {
  const out = { keyPem: creds.keyPem, certPem: creds.certPem, caPem: creds.caPem };
  Object.defineProperty(out, STORE_DIR, { value: resolve(stateDir), enumerable: false });
  return out;
}

/** The paths (stable across renewals: they go through the symlink). */
export function certPaths(stateDir: string): CertPaths {
  const dir = join(stateDir, LINK);
  return { dir, key: join(dir, 'swarm-node.key'), cert: join(dir, 'swarm-node.crt'), ca: join(dir, 'swarm-root-ca.crt') };
}

/** Write all three files, then switch to them at once (the key is 0600); then tell the store's followers. */
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
    if (kekFor(dir)) {
      await writeKeyFile(join(dir, 'swarm-node.key'), creds.keyPem);
      const live = join(await ensureLiveDir(stateDir), `${target}.key`);
      await writeFileAtomic(live, creds.keyPem, 0o600);
      await fs.symlink(live, join(dir, 'swarm-node.key'));
    } else await write('swarm-node.key', creds.keyPem, 0o600);
    await write('swarm-node.crt', creds.certPem, 0o644);
    await write('swarm-root-ca.crt', creds.caPem, 0o644);
    const old = await currentTarget(stateDir);
    const tmpLink = join(stateDir, `${LINK}.${suffix}.link`);
    await fs.symlink(target, tmpLink);
    await fs.rename(tmpLink, join(stateDir, LINK));
    if (old && old !== target) await removeSet(stateDir, old);
  } catch (e) {
    await removeSet(stateDir, target);
    throw internal(`cannot save node certificates under ${stateDir}: ${(e as Error).message}`, e);
  }
  notifyFollowers(stateDir, tagged(creds, stateDir));
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

/** A set's directory and its live key copy, if it has one. */
async function removeSet(stateDir: string, target: string): Promise<void> {
  await Promise.all([fs.rm(join(stateDir, target), { recursive: true, force: true }), fs.rm(join(liveDir(stateDir), `${target}.key`), { force: true })]);
}

/** The ID of the unlock key that seals the node's key, or undefined when it is kept in the clear. */
export async function nodeKeySealedWith(stateDir: string): Promise<string | undefined> {
  return sealedKeyId(certPaths(stateDir).key);
}

/**
 * The saved credentials, or undefined when the node has none (never joined, or left).
 * A sealed key needs the node's KEK (UNAVAILABLE "Swarm is encrypted..." without it).
 */
export async function loadNodeCredentials(stateDir: string): Promise<NodeCredentials | undefined> {
  const p = certPaths(stateDir);
  try {
    const [keyPem, certPem, caPem] = await Promise.all([readKeyFile(p.key), fs.readFile(p.cert, 'utf8'), fs.readFile(p.ca, 'utf8')]);
    if (keyPem === undefined) return undefined;
    await restoreLiveKey(p.key, keyPem);
    return tagged({ keyPem, certPem, caPem }, stateDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A sealed key opened after a restart: put back the plaintext copy its link points at. */
async function restoreLiveKey(keyPath: string, keyPem: string): Promise<void> {
  let live: string;
  try {
    live = await fs.readlink(keyPath);
  } catch {
    return; // a plain file: nothing to restore
  }
  try {
    await fs.access(live);
  } catch {
    await fs.mkdir(dirname(live), { recursive: true, mode: 0o700 });
    await writeFileAtomic(live, keyPem, 0o600);
  }
}

/** Forget the node's credentials (swarm leave). */
export async function removeNodeCredentials(stateDir: string): Promise<void> {
  const old = await currentTarget(stateDir);
  await fs.rm(join(stateDir, LINK), { force: true });
  if (old) await removeSet(stateDir, old);
}
