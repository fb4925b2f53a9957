import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { run, CommandError } from '../../../shared/exec';
import { invalid, internal, errorMessage } from '../../../shared/errors';
import { isOverlayMounted, mountsUnder } from './mountinfo';
import { mount, umountAsync, MNT_DETACH, SyscallError } from '../../../shared/sys/syscalls';

/** mount(2) copies the option string into one page; longer strings fail with EINVAL. */
export const MAX_MOUNT_OPTIONS = 4095;

export interface OverlayLayout {
  /** Read-only layers, lowest (base) first, as the image store lists them. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  target: string;
}

function commonParent(paths: string[]): string {
  const split = paths.map((p) => p.split(sep));
  const first = split[0];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || '/';
}

/**
 * The options string for an overlay mount and the directory to run mount from. Absolute paths
 * when they fit in a page; otherwise paths relative to the layers' common parent (the kernel
 * resolves them against the caller's working directory); and when even those are too long,
 * short symlinks ("l/0", "l/1"...) next to the mount point, which the caller creates (`links`).
 */
export function overlayMountOptions(l: OverlayLayout): { options: string; cwd?: string; links?: Array<[string, string]> } {
  if (l.lowerDirs.length === 0) throw invalid('an overlay needs at least one lower layer');
  for (const p of [...l.lowerDirs, l.upperDir, l.workDir]) {
    if (/[,:]/.test(p)) throw invalid(`overlay layer path ${p} contains ',' or ':'`);
  }
  // overlayfs lists the topmost lower layer first.
  const lowers = [...l.lowerDirs].reverse();
  const abs = `lowerdir=${lowers.join(':')},upperdir=${l.upperDir},workdir=${l.workDir}`;
  if (abs.length <= MAX_MOUNT_OPTIONS) return { options: abs };
  const cwd = commonParent([...lowers, l.upperDir, l.workDir]);
  const rel = (p: string) => relative(cwd, p) || '.';
  const short = `lowerdir=${lowers.map(rel).join(':')},upperdir=${rel(l.upperDir)},workdir=${rel(l.workDir)}`;
  if (short.length <= MAX_MOUNT_OPTIONS) return { options: short, cwd };
  const base = dirname(l.target);
  const links: Array<[string, string]> = lowers.map((p, i) => [join(base, 'l', String(i)), p]);
  const linked = `lowerdir=${links.map(([link]) => relative(base, link)).join(':')},upperdir=${relative(base, l.upperDir)},workdir=${relative(base, l.workDir)}`;
  if (linked.length > MAX_MOUNT_OPTIONS || l.lowerDirs.length > 500) throw invalid(`image has too many layers (${l.lowerDirs.length}) for one overlay mount`);
  return { options: linked, cwd: base, links };
}

export async function mountOverlay(l: OverlayLayout): Promise<void> {
  await Promise.all([
    fs.mkdir(l.upperDir, { recursive: true, mode: 0o755 }),
    fs.mkdir(l.workDir, { recursive: true, mode: 0o700 }),
    fs.mkdir(l.target, { recursive: true, mode: 0o755 }),
  ]);
  if (await isOverlayMounted(l.target)) return;
  const { options, cwd, links } = overlayMountOptions(l);
  if (links) {
    await fs.rm(dirname(links[0][0]), { recursive: true, force: true });
    await fs.mkdir(dirname(links[0][0]), { recursive: true });
    for (const [link, target] of links) await fs.symlink(target, link);
  }
  try {
    // Relative layer paths resolve against the caller's working directory: mount(8) gets its
    // own; the daemon's cannot change under its other work.
    if (cwd) await run('mount', ['-t', 'overlay', 'overlay', '-o', options, l.target], { cwd });
    else mount('overlay', l.target, 'overlay', 0, options);
  } catch (e) {
    throw internal(`cannot mount the container's root filesystem: ${e instanceof CommandError ? e.stderr.trim() : errorMessage(e)}`, e);
  }
}

/**
 * Unmount what is mounted on `path`, without reading the mount table, off the main thread (an
 * overlay's unmount syncs the disk, see umountAsync). Not mounted is fine.
 */
async function unmountOne(path: string): Promise<void> {
  try {
    await umountAsync(path);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    // Busy (a process still has it open): detach it now, the kernel frees it when released.
    if (e.errno === 'EBUSY') await umountAsync(path, MNT_DETACH);
    else if (e.errno !== 'EINVAL' && e.errno !== 'ENOENT') throw e;
  }
}

/** Unmount `target` and anything mounted beneath it. Not mounted is fine. */
export async function unmountAll(target: string): Promise<void> {
  for (const m of await mountsUnder(target)) await unmountOne(m);
}

/**
 * Resolve `path` inside `root` as the container would see it: symlinks (absolute or
 * relative) never leave the root. Components that do not exist are joined as they are.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const parts = path.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = await fs.lstat(host);
    } catch {
      done.push(part, ...parts.filter((p) => p !== '.'));
      return normalizeJoin(root, done);
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) throw invalid(`too many levels of symbolic links in ${path}`);
      const target = await fs.readlink(host);
      const tparts = target.split('/').filter((p) => p && p !== '.');
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...tparts);
      continue;
    }
    done.push(part);
  }
  return normalizeJoin(root, done);
}

function normalizeJoin(root: string, parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return join(root, ...out);
}

/**
 * The per-container "init" layer, topmost of the lower layers: empty mount points for the
 * files and directories the runtime mounts over (/etc/hosts, /dev, /proc...), so they are
 * never created in, and committed from, the container's own layer.
 */
export async function prepareInitLayer(dir: string): Promise<void> {
  for (const d of ['dev/pts', 'dev/shm', 'dev/mqueue', 'proc', 'sys', 'etc']) await fs.mkdir(join(dir, d), { recursive: true, mode: 0o755 });
  for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console']) await fs.writeFile(join(dir, f), '', { mode: 0o644 });
  await fs.symlink('/proc/mounts', join(dir, 'etc/mtab')).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
}

/** Make sure a mount point exists in the rootfs for a bind of `source` at `target`. */
export async function ensureMountPoint(rootfs: string, target: string, isDir: boolean): Promise<void> {
  const p = await resolveInRoot(rootfs, target);
  if (isDir) {
    await fs.mkdir(p, { recursive: true });
  } else {
    await fs.mkdir(dirname(p), { recursive: true });
    const fh = await fs.open(p, 'a');
    await fh.close();
  }
}
