import { promises as fs } from 'node:fs';
import { posix } from 'node:path';
import { invalid } from '../../../shared/errors';
import { run } from '../../../shared/exec';
import type { MountRequest, VolumeResolver } from '../contracts';
import type { OciMount } from '../runtime/spec';
import { resolveInRoot } from '../rootfs/overlay';
import type { HostConfig, MountPoint } from './types';

/** A mount the container asked for, before volumes are acquired. */
export interface PlannedMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: host path; volume: volume name (undefined for a new anonymous volume). */
  source?: string;
  destination: string;
  readOnly: boolean;
  propagation?: string;
  /** Binds from HostConfig.Binds create a missing host directory; Mounts binds must exist. */
  createSource?: boolean;
  noCopy?: boolean;
  labels?: Record<string, string>;
  tmpfsOptions?: string[];
  /** Mode string as given ("ro,z"), for inspect. */
  mode: string;
}

/** A mount with its volume resolved: what inspect shows and what the runtime mounts. */
export interface ResolvedMount extends PlannedMount {
  /** The host path (bind source or volume directory); undefined for tmpfs. */
  hostPath?: string;
  volumeName?: string;
  anonymous?: boolean;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const MODES = ['ro', 'rw', 'nocopy', 'z', 'Z', 'consistent', 'cached', 'delegated', ...PROPAGATIONS];

function checkDestination(kind: string, dest: string | undefined): string {
  if (!dest) throw invalid(`invalid mount config for type "${kind}": field Target must not be empty`);
  if (!dest.startsWith('/')) throw invalid(`invalid mount config for type "${kind}": invalid mount path: '${dest}' mount path must be absolute`);
  const clean = posix.normalize(dest).replace(/\/+$/, '') || '/';
  if (clean === '/') throw invalid(`invalid mount config for type "${kind}": invalid specification: destination can't be '/'`);
  return clean;
}

/** Parse a -v string: "src:dst[:opts]", "name:dst[:opts]" or "dst" (anonymous volume). */
export function parseBind(spec: string): PlannedMount {
  const parts = spec.split(':');
  let src: string | undefined;
  let dst: string;
  let opts = '';
  if (parts.length === 1) dst = parts[0];
  else if (parts.length === 2) {
    // "/dst:ro" when the second part is a mode list, else "src:dst".
    const isMode = parts[1].split(',').every((o) => MODES.includes(o));
    if (isMode && parts[1] !== '') [dst, opts] = parts;
    else [src, dst] = parts;
  } else if (parts.length === 3) [src, dst, opts] = parts;
  else throw invalid(`invalid volume specification: '${spec}'`);
  if (src !== undefined && src === '') throw invalid(`invalid volume specification: '${spec}'`);
  const kind = src === undefined ? 'volume' : src.startsWith('/') ? 'bind' : 'volume';
  const destination = checkDestination(kind, dst);
  let readOnly = false;
  let propagation: string | undefined;
  let noCopy = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (PROPAGATIONS.includes(o)) propagation = o;
    else if (o === 'nocopy') noCopy = true;
    else if (['z', 'Z', 'consistent', 'cached', 'delegated'].includes(o)) continue;
    else throw invalid(`invalid mode: ${o} in volume specification '${spec}'`);
  }
  if (kind === 'volume' && src !== undefined && !VOLUME_NAME.test(src)) {
    throw invalid(`create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  if (kind === 'bind') return { type: 'bind', source: posix.normalize(src!), destination, readOnly, propagation, createSource: true, mode: opts };
  return { type: 'volume', source: src, destination, readOnly, noCopy, mode: opts };
}

export function parseMountRequest(m: MountRequest): PlannedMount {
  const type = m.Type as string;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw invalid(`invalid mount config: mount type unknown: "${type}"`);
  const destination = checkDestination(type, m.Target);
  const readOnly = !!m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw invalid('invalid mount config for type "bind": field Source must not be empty');
    if (!m.Source.startsWith('/')) throw invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
    const prop = m.BindOptions?.Propagation;
    if (prop && !PROPAGATIONS.includes(prop)) throw invalid(`invalid mount config for type "bind": invalid propagation mode: ${prop}`);
    if (m.VolumeOptions) throw invalid('invalid mount config for type "bind": field VolumeOptions must not be specified');
    return { type, source: posix.normalize(m.Source), destination, readOnly, propagation: prop, createSource: !!m.BindOptions?.CreateMountpoint, mode: readOnly ? 'ro' : '' };
  }
  if (type === 'volume') {
    if (m.Source && !VOLUME_NAME.test(m.Source)) throw invalid(`invalid mount config for type "volume": invalid volume name "${m.Source}"`);
    if (m.BindOptions) throw invalid('invalid mount config for type "volume": field BindOptions must not be specified');
    return { type, source: m.Source || undefined, destination, readOnly, noCopy: !!m.VolumeOptions?.NoCopy, labels: m.VolumeOptions?.Labels, mode: readOnly ? 'ro' : '' };
  }
  if (m.Source) throw invalid('invalid mount config for type "tmpfs": field Source must not be specified');
  const opts: string[] = [];
  if (m.TmpfsOptions?.SizeBytes) {
    if (m.TmpfsOptions.SizeBytes < 0) throw invalid('invalid mount config for type "tmpfs": invalid tmpfs size');
    opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
  }
  if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
  return { type, destination, readOnly, tmpfsOptions: opts, mode: readOnly ? 'ro' : '' };
}

/** A --tmpfs value ("rw,size=64m,mode=1777"): mount options, checked for shape. */
export function parseTmpfsOptions(dest: string, opts: string): PlannedMount {
  const destination = checkDestination('tmpfs', dest);
  const list = opts.split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of list) {
    if (!/^[a-z_]+(=[\w.:]+)?$/.test(o)) throw invalid(`invalid tmpfs option "${o}" for ${dest}`);
  }
  return { type: 'tmpfs', destination, readOnly: list.includes('ro'), tmpfsOptions: list, mode: opts };
}

/**
 * Every mount the container gets: Binds, Mounts, Tmpfs, then anonymous volumes for the
 * image's (and config's) Volumes not already covered. Two mounts at one place are an error.
 */
export function planMounts(hc: Partial<HostConfig>, volumes: Record<string, object> | null | undefined): PlannedMount[] {
  const out: PlannedMount[] = [];
  const seen = new Set<string>();
  const add = (m: PlannedMount) => {
    if (seen.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    out.push(m);
  };
  for (const b of hc.Binds ?? []) add(parseBind(b));
  for (const m of hc.Mounts ?? []) add(parseMountRequest(m));
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) add(parseTmpfsOptions(dest, opts));
  for (const dest of Object.keys(volumes ?? {})) {
    const d = checkDestination('volume', dest);
    if (!seen.has(d)) add({ type: 'volume', destination: d, readOnly: false, mode: '' });
  }
  return out;
}

/**
 * Give planned mounts their host paths: check (or create) bind sources and acquire volumes.
 * On failure everything acquired so far is released, so a failed create leaves no volume.
 */
export async function resolveMounts(planned: PlannedMount[], containerId: string, volumes: VolumeResolver): Promise<ResolvedMount[]> {
  // Bind sources first: a missing one fails the create before any volume is made.
  for (const m of planned) {
    if (m.type !== 'bind') continue;
    const st = await fs.stat(m.source!).catch(() => undefined);
    if (!st && !m.createSource) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
  }
  const out: ResolvedMount[] = [];
  const acquired: string[] = [];
  try {
    for (const m of planned) {
      if (m.type === 'bind') {
        await fs.mkdir(m.source!, { recursive: true, mode: 0o755 }).catch((e) => {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        });
        out.push({ ...m, hostPath: m.source });
      } else if (m.type === 'volume') {
        const v = await volumes.acquire(m.source, containerId, m.labels);
        acquired.push(v.name);
        out.push({ ...m, hostPath: v.path, volumeName: v.name, anonymous: m.source === undefined });
      } else out.push({ ...m });
    }
  } catch (e) {
    await volumes.release(containerId, acquired, true).catch(() => undefined);
    throw e;
  }
  return out;
}

/** Docker copies what the image has at a volume's place into a new, empty volume. */
export async function copyUpVolume(rootfs: string, m: ResolvedMount): Promise<void> {
  if (m.type !== 'volume' || m.noCopy || !m.hostPath) return;
  const inVolume = await fs.readdir(m.hostPath).catch(() => ['?']);
  if (inVolume.length) return;
  const src = await resolveInRoot(rootfs, m.destination);
  const st = await fs.stat(src).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((await fs.readdir(src)).length === 0) return;
  await run('cp', ['-a', `${src}/.`, m.hostPath]);
}

export function mountPointOf(m: ResolvedMount): MountPoint {
  if (m.type === 'volume') {
    return { Type: 'volume', Name: m.volumeName, Source: m.hostPath ?? '', Destination: m.destination, Driver: 'local', Mode: m.mode, RW: !m.readOnly, Propagation: '' };
  }
  if (m.type === 'bind') return { Type: 'bind', Source: m.hostPath ?? '', Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation ?? 'rprivate' };
  return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: '' };
}

/** The OCI mount for an inspect MountPoint (records keep MountPoints; the runtime config is made from them). */
export function ociMountOf(mp: MountPoint, tmpfsOptions?: string[]): OciMount {
  if (mp.Type === 'tmpfs') {
    const opts = ['nosuid', 'nodev', 'noexec', ...(tmpfsOptions ?? [])];
    if (!mp.RW && !opts.includes('ro')) opts.push('ro');
    return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: opts };
  }
  const opts = ['rbind', mp.Propagation || 'rprivate'];
  if (!mp.RW) opts.push('ro');
  return { destination: mp.Destination, type: 'bind', source: mp.Source, options: opts };
}
