// COPY and ADD without a container: resolve the sources (context or another image's merged
// view), digest them for the cache, and write them into a fresh layer directory laid over the
// image's merged view, with Docker's rules for destinations, ownership, modes and mtimes.

import { createReadStream, promises as fs, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalid, ShoalError } from '../../../shared/errors';
import type { SourceEntry, SourceGroup } from './cache';
import { lstatIn, resolveInScope } from './fsview';
import { cleanPath, globToRegExp, hasWildcards } from './ignore';
import { archiveKind, extractTar } from './tarx';

export interface Owner {
  uid: number;
  gid: number;
}

export const ROOT: Owner = { uid: 0, gid: 0 };

export interface ResolvedSource {
  /** The source as written. */
  orig: string;
  /** Its name in a destination directory. */
  name: string;
  /** Host path, symlinks resolved within the source root. */
  abs: string;
  /** stat of abs (symlinks followed). */
  stat: Stats;
}

const URL_RE = /^(https?|git|ssh):\/\/|^git@/i;

export function isRemoteSource(src: string): boolean {
  return URL_RE.test(src);
}

/** Why an ADD/COPY source is refused before looking at any file. */
export function remoteSourceError(cmd: string, src: string): ShoalError {
  return invalid(`${cmd} failed: ${src} is a URL; shoald builds without network access, so ADD and COPY take files from the build context (or another stage) only`);
}

async function walkSorted(root: string, rel: string, visit: (rel: string, st: Stats) => Promise<boolean /* descend */>): Promise<void> {
  const names = (await fs.readdir(rel ? join(root, rel) : root)).sort();
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    const st = await fs.lstat(join(root, r));
    if ((await visit(r, st)) && st.isDirectory()) await walkSorted(root, r, visit);
  }
}

/**
 * The files COPY/ADD names, within `root`. Wildcards follow Go's filepath.Match; a matching
 * directory is taken whole. `where` names the root in errors ("build context", "stage x").
 */
export async function resolveSources(root: string, sources: string[], cmd: string, where: string): Promise<ResolvedSource[]> {
  const out: ResolvedSource[] = [];
  for (const orig of sources) {
    if (cmd === 'ADD' && isRemoteSource(orig)) throw remoteSourceError(cmd, orig);
    let p = orig.replace(/^\/+/, '');
    p = cleanPath(p === '' ? '.' : p);
    if (p === '..' || p.startsWith('../')) throw invalid(`${cmd} failed: forbidden path outside the build context: ${orig}`);
    if (hasWildcards(p)) {
      const re = globToRegExp(p);
      const before = out.length;
      await walkSorted(root, '', async (rel, st) => {
        if (!re.test(rel)) return true;
        const abs = join(root, await resolveInScope([root], rel));
        const real = st.isSymbolicLink() ? await fs.stat(abs).catch(() => undefined) : st;
        if (real) out.push({ orig, name: posix.basename(rel), abs, stat: real });
        return false;
      });
      if (out.length === before) throw invalid(`${cmd} failed: no source files were specified`);
      continue;
    }
    const abs = join(root, await resolveInScope([root], p));
    let stat: Stats;
    try {
      stat = await fs.stat(abs);
    } catch {
      throw invalid(`${cmd} failed: file not found in ${where} or excluded by .dockerignore: stat ${p}: file does not exist`);
    }
    out.push({ orig, name: p === '.' ? '.' : posix.basename(p), abs, stat });
  }
  return out;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function entryOf(path: string, st: Stats): SourceEntry {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0 };
}

/** The digest input for resolved sources: every entry below each, with contents hashed. */
export async function describeSources(sources: ResolvedSource[]): Promise<SourceGroup[]> {
  const groups: SourceGroup[] = [];
  for (const s of sources) {
    const top = entryOf('', s.stat);
    if (top.type === 'file') top.sha256 = await fileSha256(s.abs);
    const entries: SourceEntry[] = [top];
    if (s.stat.isDirectory()) {
      await walkSorted(s.abs, '', async (rel, st) => {
        const e = entryOf(rel, st);
        const abs = join(s.abs, rel);
        if (e.type === 'file') e.sha256 = await fileSha256(abs);
        if (e.type === 'symlink') e.link = await fs.readlink(abs);
        entries.push(e);
        return true;
      });
    }
    groups.push({ name: s.name, entries });
  }
  return groups;
}

/** Parse --chmod: octal only ("755", "0644"). */
export function parseChmod(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[0-7]{1,4}$/.test(v)) throw invalid(`invalid chmod parameter: ${v} (expected an octal mode such as 755)`);
  return parseInt(v, 8);
}

function lookupDb(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] === name && /^\d+$/.test(f[2])) return parseInt(f[2], 10);
  }
  return undefined;
}

async function readInView(view: string, path: string): Promise<string> {
  try {
    return await fs.readFile(join(view, await resolveInScope([view], path)), 'utf8');
  } catch {
    return '';
  }
}

/** --chown=user[:group], names looked up in the image's /etc/passwd and /etc/group. */
export async function resolveOwner(chown: string | undefined, view: string): Promise<Owner> {
  if (chown === undefined || chown === '') return ROOT;
  const parts = chown.split(':');
  if (parts.length > 2) throw invalid(`invalid chown string format: ${chown}`);
  const [user, group = parts[0]] = parts;
  const prefix = 'unable to convert uid/gid chown string to host mapping';
  let uid: number | undefined = /^\d+$/.test(user) ? parseInt(user, 10) : lookupDb(await readInView(view, '/etc/passwd'), user);
  if (uid === undefined) throw invalid(`${prefix}: can't find uid for user ${user}: no such user: ${user}`);
  let gid: number | undefined = /^\d+$/.test(group) ? parseInt(group, 10) : lookupDb(await readInView(view, '/etc/group'), group);
  if (gid === undefined) throw invalid(`${prefix}: can't find gid for group ${group}: no such group: ${group}`);
  uid = uid >>> 0;
  gid = gid >>> 0;
  return { uid, gid };
}

export interface PlaceOptions {
  owner: Owner;
  chmod?: number;
}

/**
 * A layer being written over an image's merged view. Paths are resolved through both (the
 * layer first), so a destination under a symlinked directory of the image lands where the
 * image's symlink points, and existing directories keep their metadata.
 */
export class LayerWriter {
  private readonly links = new Map<string, string>(); // dev:ino -> first copy, to keep hard links

  constructor(
    readonly layer: string,
    readonly view: string,
    private readonly tmp: string,
  ) {}

  private get roots(): string[] {
    return [this.layer, this.view];
  }

  /** Resolve an absolute container path to a path relative to the root. */
  resolve(path: string, followLast = true): Promise<string> {
    return resolveInScope(this.roots, path, followLast);
  }

  async isDir(rel: string): Promise<boolean> {
    if (rel === '') return true;
    const hit = await lstatIn(this.roots, rel);
    return hit?.stat.isDirectory() ?? false;
  }

  /** Make `rel` a directory in the layer with its parents; returns whether any was new to the image. */
  async ensureDir(rel: string, owner: Owner): Promise<boolean> {
    let created = false;
    const parts = rel.split('/').filter((p) => p !== '');
    for (let i = 0; i < parts.length; i++) {
      const p = parts.slice(0, i + 1).join('/');
      const inLayer = await lstatIn([this.layer], p);
      if (inLayer) {
        if (!inLayer.stat.isDirectory()) throw invalid(`cannot create directory /${p}: a file is in the way`);
        continue;
      }
      const inView = await lstatIn([this.view], p);
      const abs = join(this.layer, p);
      if (inView) {
        if (!inView.stat.isDirectory()) throw invalid(`cannot create directory /${p}: not a directory in the image`);
        // Mirror the image's directory so the overlay shows it unchanged.
        await fs.mkdir(abs);
        await fs.lchown(abs, inView.stat.uid, inView.stat.gid);
        await fs.chmod(abs, inView.stat.mode & 0o7777);
        await fs.utimes(abs, inView.stat.atime, inView.stat.mtime);
      } else {
        await fs.mkdir(abs);
        await fs.lchown(abs, owner.uid, owner.gid);
        await fs.chmod(abs, 0o755);
        created = true;
      }
    }
    return created;
  }

  private async clear(abs: string, keepDir: boolean): Promise<void> {
    const st = await fs.lstat(abs).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory() && keepDir) return;
    await fs.rm(abs, { recursive: true, force: true });
  }

  /** Copy one source tree entry (not following symlinks below the top) to `rel` in the layer. */
  private async copyEntry(src: string, st: Stats, rel: string, opts: PlaceOptions): Promise<void> {
    const abs = join(this.layer, rel);
    if (st.isDirectory()) {
      await this.clear(abs, true);
      await fs.mkdir(abs).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      await fs.lchown(abs, opts.owner.uid, opts.owner.gid);
      await fs.chmod(abs, opts.chmod ?? st.mode & 0o7777);
      for (const name of (await fs.readdir(src)).sort()) {
        const child = join(src, name);
        await this.copyEntry(child, await fs.lstat(child), `${rel}/${name}`, opts);
      }
      await fs.utimes(abs, st.atime, st.mtime);
      return;
    }
    await this.clear(abs, false);
    if (st.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(src), abs);
      await fs.lchown(abs, opts.owner.uid, opts.owner.gid);
      await fs.lutimes(abs, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) return; // devices, sockets and FIFOs are not copied
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.links.get(inode) : undefined;
    if (first) {
      await fs.link(first, abs);
      return;
    }
    await fs.copyFile(src, abs);
    await fs.lchown(abs, opts.owner.uid, opts.owner.gid);
    await fs.chmod(abs, opts.chmod ?? st.mode & 0o7777); // after chown, which clears set-id bits
    await fs.utimes(abs, st.atime, st.mtime);
    if (st.nlink > 1) this.links.set(inode, abs);
  }

  /**
   * Place the sources at `dest` (absolute, workdir already applied; a trailing "/" means a
   * directory) with Docker's rules. `decompress` (ADD) extracts local tar archives.
   */
  async place(sources: ResolvedSource[], dest: string, opts: PlaceOptions & { cmd: string; decompress: boolean }): Promise<void> {
    const endsInSlash = dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
    if (sources.length > 1 && !endsInSlash) throw invalid(`When using ${opts.cmd} with more than one source file, the destination must be a directory and end with a /`);
    for (const s of sources) {
      if (s.stat.isDirectory()) {
        const rel = await this.resolve(dest);
        await this.ensureDir(rel, opts.owner);
        for (const name of (await fs.readdir(s.abs)).sort()) {
          const child = join(s.abs, name);
          await this.copyEntry(child, await fs.lstat(child), rel ? `${rel}/${name}` : name, opts);
        }
        continue;
      }
      if (opts.decompress) {
        const kind = await archiveKind(s.abs);
        if (kind === 'tar' || kind === 'tar.gz') {
          await this.extract(s.abs, await this.resolve(dest));
          continue;
        }
        if (kind === 'bzip2' || kind === 'xz' || kind === 'zstd') throw invalid(`${opts.cmd} failed: ${s.orig} is a ${kind}-compressed archive; only plain and gzip-compressed tars are extracted`);
      }
      const destRel = await this.resolve(dest);
      const target = endsInSlash || (await this.isDir(destRel)) ? (destRel ? `${destRel}/${s.name}` : s.name) : destRel;
      if (target === '') throw invalid(`${opts.cmd} failed: cannot copy a file over the root directory`);
      const parent = posix.dirname(target);
      if (parent !== '.') await this.ensureDir(parent, opts.owner);
      await this.copyEntry(s.abs, s.stat, target, opts);
    }
  }

  /** ADD of a local tar: extract it (owners from the archive) into directory `rel`. */
  private async extract(archive: string, rel: string): Promise<void> {
    const staging = await fs.mkdtemp(join(this.tmp, 'add-'));
    try {
      const entries = await extractTar(createReadStream(archive), staging, { preserveOwner: true, what: 'archive' });
      const explicit = new Set(entries.map((e) => cleanPath(e.path.replace(/^\.\//, ''))));
      await this.ensureDir(rel, ROOT);
      await this.merge(staging, '', rel, explicit);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** Move an extracted tree into the layer; directories the archive only implied keep the image's metadata. */
  private async merge(staging: string, sub: string, rel: string, explicit: Set<string>): Promise<void> {
    for (const name of (await fs.readdir(sub ? join(staging, sub) : staging)).sort()) {
      const s = sub ? `${sub}/${name}` : name;
      const src = join(staging, s);
      const st = await fs.lstat(src);
      const destRel = rel ? `${rel}/${s}` : s;
      const abs = join(this.layer, destRel);
      if (st.isDirectory()) {
        if (explicit.has(s)) {
          await this.clear(abs, true);
          await fs.mkdir(abs).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST') throw e;
          });
          await fs.lchown(abs, st.uid, st.gid);
          await fs.chmod(abs, st.mode & 0o7777);
        } else {
          await this.ensureDir(destRel, { uid: st.uid, gid: st.gid });
        }
        await this.merge(staging, s, rel, explicit);
        if (explicit.has(s)) await fs.utimes(abs, st.atime, st.mtime);
        continue;
      }
      await this.clear(abs, false);
      await fs.rename(src, abs);
    }
  }
}
