// Read-only views of an image's file system for COPY/ADD (its /etc/passwd, existing
// directories, COPY --from sources): an overlay mount of the image's layer dirs.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../../../shared/exec';
import { logger } from '../../../shared/log';

const log = logger('build');

export interface MountedView {
  /** Root of the image's merged file system (read-only). */
  path: string;
  release(): Promise<void>;
}

/**
 * Mount the layers (lowest first) read-only under `tmpRoot`. The lowerdir option names short
 * symlinks relative to the mount's cwd, so images with many layers stay under the kernel's
 * one-page limit for mount options.
 */
export async function mountLayers(layerDirs: string[], tmpRoot: string): Promise<MountedView> {
  const base = join(tmpRoot, `view-${randomBytes(6).toString('hex')}`);
  const links = join(base, 'l');
  const merged = join(base, 'merged');
  await fs.mkdir(links, { recursive: true, mode: 0o700 });
  await fs.mkdir(merged, { mode: 0o755 });
  if (layerDirs.length === 0) {
    return { path: merged, release: () => fs.rm(base, { recursive: true, force: true }) };
  }
  try {
    const names: string[] = [];
    for (let i = 0; i < layerDirs.length; i++) {
      await fs.symlink(layerDirs[i], join(links, String(i)));
      names.unshift(String(i)); // overlay wants the top layer first
    }
    // A lower-only overlay needs two lower dirs; an empty one changes nothing.
    if (names.length === 1) {
      await fs.mkdir(join(links, 'e'));
      names.push('e');
    }
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${names.join(':')}`, merged], { cwd: links });
  } catch (e) {
    await fs.rm(base, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  let released = false;
  return {
    path: merged,
    async release() {
      if (released) return;
      released = true;
      await unmountAndRemove(base);
    },
  };
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(`${dir}/`)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Unmount everything under `dir`, then delete it. Never deletes through a live mount. */
export async function unmountAndRemove(dir: string): Promise<void> {
  for (const mp of await mountsUnder(dir)) {
    try {
      await run('umount', [mp]);
    } catch (e) {
      log.warn({ err: e, mountpoint: mp }, 'umount failed; detaching lazily');
      await run('umount', ['-l', mp]);
    }
  }
  if ((await mountsUnder(dir)).length > 0) {
    log.error({ dir }, 'mounts remain; leaving the directory in place');
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
}
