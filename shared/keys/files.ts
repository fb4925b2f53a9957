// A key file at rest: in the clear (mode 0600) while autolock is off, sealed with the KEK as
// `<name>.sealed` while it is on. A write leaves exactly one of the two forms.
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { open, seal, type DataKey, type SealedData } from '../crypto/seal';
import { writeFileAtomic } from '../fsutil';
import { internal } from '../errors';
import { kekFor } from './kek';
import { WrongKeyError, swarmLocked } from './errors';

export const SEALED_SUFFIX = '.sealed';

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** Write `data` to `path`, sealed when a KEK covers it; the other form is removed. */
export async function writeKeyFile(path: string, data: string): Promise<void> {
  const kek = kekFor(path);
  if (kek) {
    await writeFileAtomic(path + SEALED_SUFFIX, JSON.stringify(seal(kek, basename(path), Buffer.from(data))), 0o600);
    await fs.rm(path, { force: true });
  } else {
    await writeFileAtomic(path, data, 0o600);
    await fs.rm(path + SEALED_SUFFIX, { force: true });
  }
}

async function readSealed(path: string): Promise<SealedData | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path + SEALED_SUFFIX, 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as SealedData;
  } catch (e) {
    throw internal(`${path}${SEALED_SUFFIX} is not a sealed key file`, e);
  }
}

/** What `kek` opens of the sealed form of `path`; WrongKeyError when another KEK sealed it. */
export function openWith(path: string, kek: DataKey, s: SealedData): string {
  if (s.KeyID !== kek.id) throw new WrongKeyError(path);
  return open(kek, basename(path), s).toString();
}

/**
 * The key in `path` (either form), or undefined when there is none. A sealed key needs the
 * KEK registered for its directory: without one the swarm is locked.
 */
export async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
  const s = await readSealed(path);
  if (!s) return undefined;
  const kek = kekFor(path);
  if (!kek) throw swarmLocked();
  return openWith(path, kek, s);
}

/** The ID of the KEK that sealed `path`, or undefined when it is not sealed. */
export async function sealedKeyId(path: string): Promise<string | undefined> {
  return (await readSealed(path))?.KeyID;
}

/** Whether `kek` opens the sealed form of `path` (unlock checks the key it was given with this). */
export async function opensWith(path: string, kek: DataKey): Promise<boolean> {
  const s = await readSealed(path);
  if (!s) return false;
  try {
    openWith(path, kek, s);
    return true;
  } catch {
    return false;
  }
}

/** Remove both forms. */
export async function removeKeyFile(path: string): Promise<void> {
  await Promise.all([fs.rm(path, { force: true }), fs.rm(path + SEALED_SUFFIX, { force: true })]);
}
