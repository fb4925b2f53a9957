import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

export interface MountEntry {
  id: number;
  parent: number;
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undo the octal escapes the kernel puts in mountinfo paths (space is \040). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse /proc/<pid>/mountinfo text (proc(5)). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3]),
      mountPoint: unescape(f[4]),
      options: f[5].split(','),
      fsType: f[sep + 1],
      source: unescape(f[sep + 2]),
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  }
  return out;
}

export async function readMountInfo(): Promise<MountEntry[]> {
  return parseMountInfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const base = dir.replace(/\/+$/, '');
  const all = await readMountInfo();
  return all
    .map((m) => m.mountPoint)
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

/** statfs magic of overlayfs. */
const OVERLAYFS_SUPER_MAGIC = 0x794c7630;

/**
 * Whether an overlay filesystem is mounted on `path`, without reading the mount table (which
 * grows with every running container and was parsed twice per container start): a mount point
 * has another device than its parent, and this one must be an overlay.
 */
export async function isOverlayMounted(path: string): Promise<boolean> {
  try {
    const [here, parent, fsInfo] = await Promise.all([fs.stat(path), fs.stat(dirname(path)), fs.statfs(path)]);
    return here.dev !== parent.dev && fsInfo.type === OVERLAYFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export async function isMountPoint(path: string): Promise<boolean> {
  const p = path.replace(/\/+$/, '');
  return (await readMountInfo()).some((m) => m.mountPoint === p);
}
