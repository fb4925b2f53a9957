import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import type { MountPoint } from './types';

// docker cp: where a container path lives on the host, and the path stat Docker sends in the
// X-Docker-Container-Path-Stat header.

/** Go's os.FileMode type bits, which the CLI reads from the stat header. */
const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

/** A Unix stat mode as a Go os.FileMode. */
export function goFileMode(st: Pick<Stats, 'mode' | 'isDirectory' | 'isSymbolicLink' | 'isBlockDevice' | 'isCharacterDevice' | 'isFIFO' | 'isSocket'>): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isFIFO()) m += GO_MODE.pipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  return m;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The header value: base64 of the JSON stat. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

/**
 * For a stopped container (no /proc/<pid>/root to look through): the mount that holds a
 * container path, and the path inside it. Undefined means the container's own rootfs.
 */
export function mountFor(mounts: Array<Pick<MountPoint, 'Destination' | 'Source' | 'Type' | 'RW'>>, path: string): { source: string; rest: string; rw: boolean } | undefined {
  const p = posix.normalize(path);
  let best: (typeof mounts)[number] | undefined;
  for (const m of mounts) {
    if (m.Type === 'tmpfs' || !m.Source) continue;
    const d = m.Destination.replace(/\/+$/, '');
    if ((p === d || p.startsWith(`${d}/`)) && (!best || d.length > best.Destination.length)) best = m;
  }
  if (!best) return undefined;
  return { source: best.Source, rest: p.slice(best.Destination.replace(/\/+$/, '').length) || '/', rw: best.RW };
}
