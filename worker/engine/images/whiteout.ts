// Conversion between OCI layer whiteouts (".wh.NAME" files, ".wh..wh..opq" markers) and
// overlayfs's own (a 0/0 character device NAME, xattr trusted.overlay.opaque=y on a dir).
// Pure logic; layers.ts applies it to the filesystem.
import { posix } from 'node:path';

export const WH_PREFIX = '.wh.';
export const WH_META_PREFIX = '.wh..wh.';
export const WH_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export type TarPathKind =
  | { kind: 'normal'; path: string }
  | { kind: 'whiteout'; path: string; target: string }
  | { kind: 'opaque'; path: string; dir: string }
  /** Other ".wh..wh." names (aufs hard-link dirs): dropped, they have no overlay meaning. */
  | { kind: 'meta'; path: string };

/** Clean a tar member name to a relative path: no leading "/" or "./", no trailing "/". "" is the root. */
export function cleanTarPath(name: string): string {
  const norm = posix.normalize('/' + name).replace(/^\/+/, '').replace(/\/+$/, '');
  return norm === '.' ? '' : norm;
}

export function classifyTarPath(name: string): TarPathKind {
  const path = cleanTarPath(name);
  const base = posix.basename(path);
  const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
  if (base === WH_OPAQUE) return { kind: 'opaque', path, dir };
  if (base.startsWith(WH_META_PREFIX)) return { kind: 'meta', path };
  if (base.startsWith(WH_PREFIX) && base.length > WH_PREFIX.length) {
    return { kind: 'whiteout', path, target: dir ? `${dir}/${base.slice(WH_PREFIX.length)}` : base.slice(WH_PREFIX.length) };
  }
  return { kind: 'normal', path };
}

/** What to do to an unpacked layer dir after extracting a tar whose member names were `names`. */
export interface WhiteoutPlan {
  /** Remove the ".wh.X" file and put a 0/0 char device at `target`. */
  whiteouts: Array<{ marker: string; target: string }>;
  /** Remove the marker file and set the opaque xattr on `dir` ("" = layer root). */
  opaques: Array<{ marker: string; dir: string }>;
  /** Marker files to delete without replacement. */
  drop: string[];
}

export function planWhiteouts(names: Iterable<string>): WhiteoutPlan {
  const plan: WhiteoutPlan = { whiteouts: [], opaques: [], drop: [] };
  const seen = new Set<string>();
  for (const n of names) {
    const c = classifyTarPath(n);
    if (seen.has(c.path)) continue;
    seen.add(c.path);
    if (c.kind === 'whiteout') plan.whiteouts.push({ marker: c.path, target: c.target });
    else if (c.kind === 'opaque') plan.opaques.push({ marker: c.path, dir: c.dir });
    else if (c.kind === 'meta') plan.drop.push(c.path);
  }
  return plan;
}

/** One file found in an overlay upper dir, as much as packing needs to know. */
export interface UpperNode {
  path: string; // relative, "" never appears (the root itself is not packed)
  type: 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: number; // permission bits incl. setuid/sticky
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  rdevMajor?: number;
  rdevMinor?: number;
  linkTarget?: string;
  /** dev:ino, for hard links */
  inode?: string;
  nlink?: number;
  opaque?: boolean;
  /** Extended attributes to carry (security.capability, user.*), overlay's own excluded. */
  xattrs?: Record<string, Buffer>;
}

export type TarEntryType = 'Directory' | 'File' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';

export interface TarEntryPlan {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
  /** Relative path in the upper dir to read content from (regular files). */
  source?: string;
  xattrs?: Record<string, Buffer>;
}

/** Is this upper-dir node an overlay whiteout? */
export function isOverlayWhiteout(n: Pick<UpperNode, 'type' | 'rdevMajor' | 'rdevMinor'>): boolean {
  return n.type === 'char' && (n.rdevMajor ?? 0) === 0 && (n.rdevMinor ?? 0) === 0;
}

/**
 * Turn the nodes of an upper dir (in walk order: a dir before its children) into OCI tar
 * entries: whiteout devices become ".wh.NAME" files, opaque dirs get a ".wh..wh..opq"
 * entry right after them, repeated inodes become hard links, sockets are skipped.
 */
export function planUpperTar(nodes: Iterable<UpperNode>): TarEntryPlan[] {
  const out: TarEntryPlan[] = [];
  const firstPathOfInode = new Map<string, string>();
  for (const n of nodes) {
    const base = { mode: n.mode & 0o7777, uid: n.uid, gid: n.gid, mtime: n.mtime, size: 0, ...(n.xattrs && n.type !== 'symlink' ? { xattrs: n.xattrs } : {}) };
    if (isOverlayWhiteout(n)) {
      const dir = posix.dirname(n.path);
      const name = `${WH_PREFIX}${posix.basename(n.path)}`;
      out.push({ path: dir === '.' ? name : `${dir}/${name}`, type: 'File', mode: 0o644, uid: 0, gid: 0, mtime: n.mtime, size: 0 });
      continue;
    }
    switch (n.type) {
      case 'dir':
        out.push({ ...base, path: n.path, type: 'Directory' });
        if (n.opaque) out.push({ path: `${n.path}/${WH_OPAQUE}`, type: 'File', mode: 0o644, uid: 0, gid: 0, mtime: n.mtime, size: 0 });
        break;
      case 'file': {
        if (n.inode && (n.nlink ?? 1) > 1) {
          const first = firstPathOfInode.get(n.inode);
          if (first !== undefined) {
            out.push({ ...base, path: n.path, type: 'Link', linkpath: first });
            break;
          }
          firstPathOfInode.set(n.inode, n.path);
        }
        out.push({ ...base, path: n.path, type: 'File', size: n.size, source: n.path });
        break;
      }
      case 'symlink':
        out.push({ ...base, path: n.path, type: 'SymbolicLink', linkpath: n.linkTarget ?? '', mode: 0o777 });
        break;
      case 'char':
        out.push({ ...base, path: n.path, type: 'CharacterDevice', devmaj: n.rdevMajor ?? 0, devmin: n.rdevMinor ?? 0 });
        break;
      case 'block':
        out.push({ ...base, path: n.path, type: 'BlockDevice', devmaj: n.rdevMajor ?? 0, devmin: n.rdevMinor ?? 0 });
        break;
      case 'fifo':
        out.push({ ...base, path: n.path, type: 'FIFO' });
        break;
      case 'socket':
        break; // tar cannot carry sockets; docker skips them too
    }
  }
  return out;
}

/** Linux dev_t split, as glibc's major()/minor() do. */
export function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
export function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}
