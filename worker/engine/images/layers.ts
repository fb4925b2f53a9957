// Layer tars <-> directories. Unpacking uses GNU tar (it keeps owners, modes, device
// nodes, hard links, xattrs and times, and refuses members that escape the target) while
// node-tar's parser reads the same bytes to learn the member names (for whiteouts), the
// content size and whether the stream is a well-formed tar at all. Packing walks an
// overlay upper dir and writes the tar itself with node-tar's header encoder, because no
// off-the-shelf packer turns overlay whiteouts into OCI ones.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import { Header, Parser, type ReadEntry } from 'tar';
import { invalid, errorMessage, isShoalError } from '../../../shared/errors';
import { run } from '../../../shared/exec';
import { sniffCompression, type Compression } from './mediatypes';
import { OPAQUE_XATTR, planUpperTar, planWhiteouts, devMajor, devMinor, cleanTarPath, type UpperNode, type TarEntryPlan } from './whiteout';

export interface UnpackResult {
  diffId: string;
  /** Bytes of regular-file content in the layer (what `docker images` adds up). */
  size: number;
}

async function readHead(file: string, n = 8): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The compression of a stored blob, by its magic bytes. */
export async function fileCompression(file: string): Promise<Compression> {
  return sniffCompression(await readHead(file));
}

/** A stream of the uncompressed tar in `file`, plus a promise for the decompressor's own failure. */
async function openUncompressed(file: string, signal?: AbortSignal): Promise<{ stream: Readable; done: Promise<void> }> {
  const c = await fileCompression(file);
  if (c === 'none') return { stream: createReadStream(file), done: Promise.resolve() };
  if (c === 'gzip') {
    const gz = createGunzip();
    const src = createReadStream(file);
    src.on('error', (e) => gz.destroy(e));
    return { stream: src.pipe(gz), done: Promise.resolve() };
  }
  const cmd = { zstd: 'zstd', bzip2: 'bzip2', xz: 'xz' }[c];
  const child = spawn(cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'], signal });
  createReadStream(file).pipe(child.stdin!);
  child.stdin!.on('error', () => undefined);
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(invalid(`cannot decompress ${c} layer: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(invalid(`cannot decompress ${c} data: ${err.trim() || `exit ${code}`}`))));
  });
  return { stream: child.stdout!, done };
}

/**
 * Unpack the (possibly compressed) layer tar in `file` into `dest` (which must exist and
 * be empty), converting OCI whiteouts to overlay ones. Returns the diffID (sha256 of the
 * uncompressed tar). A malformed tar is INVALID_ARGUMENT; the caller discards `dest`.
 */
export async function unpackLayer(file: string, dest: string, signal?: AbortSignal): Promise<UnpackResult> {
  const { stream, done: decompressDone } = await openUncompressed(file, signal);
  const hash = createHash('sha256');
  const names: string[] = [];
  let size = 0;
  let parseError: string | undefined;
  let sawEntry = false;
  let total = 0;
  const parser = new Parser({
    onwarn: (code: string, msg: string) => {
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ENTRY_INVALID' || code === 'TAR_ABORT') parseError ??= msg;
    },
  });
  parser.on('entry', (e: ReadEntry) => {
    sawEntry = true;
    names.push(e.path);
    if (e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile') size += e.size ?? 0;
    e.resume();
  });
  parser.on('error', (e: Error) => (parseError ??= e.message));
  const parserDone = once(parser, 'end').catch(() => undefined);

  const tar = spawn('tar', ['-x', '-f', '-', '-C', dest, '--numeric-owner', '--same-owner', '-p', '--xattrs', '--xattrs-include=*', '--no-overwrite-dir'], { stdio: ['pipe', 'ignore', 'pipe'], signal });
  let tarErr = '';
  tar.stderr!.on('data', (b) => (tarErr += b));
  const tarExit = new Promise<number>((resolve, reject) => {
    tar.on('error', (e) => reject(e));
    tar.on('close', (code) => resolve(code ?? 128));
  });
  tar.stdin!.on('error', () => undefined); // tar may exit early on bad input; its exit code says why

  try {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        total += chunk.length;
        parser.write(chunk);
        if (!tar.stdin!.write(chunk)) await Promise.race([once(tar.stdin!, 'drain'), tarExit]);
      }
    } catch (e) {
      throw invalid(`invalid layer data: ${errorMessage(e)}`);
    }
    parser.end();
    tar.stdin!.end();
    await decompressDone;
    const code = await tarExit;
    await parserDone;
    if (total === 0) throw invalid('invalid tar archive: empty input');
    if (parseError || !sawEntry && total < 1024) throw invalid(`invalid tar archive: ${parseError ?? 'truncated input'}`);
    if (code !== 0) throw invalid(`invalid tar archive: ${tarErr.trim().split('\n').filter((l) => !/Removing leading/.test(l)).slice(-2).join('; ') || `tar exit ${code}`}`);
  } catch (e) {
    tar.kill('SIGKILL');
    if (isShoalError(e)) throw e;
    throw invalid(`invalid tar archive: ${errorMessage(e)}`);
  }
  await applyWhiteouts(dest, names);
  return { diffId: 'sha256:' + hash.digest('hex'), size };
}

/** Refuse to touch a path whose parents include a symlink: it could point outside the layer. */
async function safeParent(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    const st = await fs.lstat(cur).catch(() => undefined);
    if (!st || !st.isDirectory()) return false;
  }
  return true;
}

async function applyWhiteouts(root: string, names: string[]): Promise<void> {
  const plan = planWhiteouts(names);
  if (!plan.whiteouts.length && !plan.opaques.length && !plan.drop.length) return;
  // Keep parent dir times as the tar set them.
  const touched = new Map<string, Stats>();
  const remember = async (rel: string) => {
    const dir = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    if (touched.has(dir)) return;
    const st = await fs.lstat(join(root, dir)).catch(() => undefined);
    if (st) touched.set(dir, st);
  };
  for (const m of plan.drop) {
    if (!(await safeParent(root, m))) continue;
    await remember(m);
    await fs.rm(join(root, m), { force: true, recursive: true });
  }
  for (const w of plan.whiteouts) {
    if (!(await safeParent(root, w.marker))) throw invalid(`invalid layer: whiteout ${w.marker} is under a non-directory`);
    await remember(w.marker);
    await fs.rm(join(root, w.marker), { force: true, recursive: true });
    await fs.rm(join(root, w.target), { force: true, recursive: true });
    await run('mknod', ['-m', '0000', join(root, w.target), 'c', '0', '0']);
  }
  for (const o of plan.opaques) {
    if (!(await safeParent(root, o.marker))) throw invalid(`invalid layer: opaque marker ${o.marker} is under a non-directory`);
    await remember(o.marker);
    await fs.rm(join(root, o.marker), { force: true });
    await run('setfattr', ['-h', '-n', OPAQUE_XATTR, '-v', 'y', join(root, o.dir) || root]);
  }
  for (const [dir, st] of touched) await fs.utimes(join(root, dir), st.atime, st.mtime).catch(() => undefined);
}

/**
 * Every extended attribute under `root` (one getfattr run for the tree), by relative path.
 * Values are raw bytes ("" is the root itself).
 */
async function readXattrs(root: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  const res = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '-', '-e', 'base64', root], { okCodes: [0, 1] });
  let file: string | undefined;
  for (const line of res.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = unescapeGetfattr(line.slice('# file: '.length));
      continue;
    }
    const eq = line.indexOf('=');
    if (file === undefined || eq <= 0) continue;
    const name = line.slice(0, eq);
    const raw = line.slice(eq + 1);
    const value = raw.startsWith('0s') ? Buffer.from(raw.slice(2), 'base64') : raw.startsWith('0x') ? Buffer.from(raw.slice(2), 'hex') : Buffer.from(raw.replace(/^"|"$/g, ''));
    const rel = file === root ? '' : file.slice(root.length + 1);
    let m = out.get(rel);
    if (!m) out.set(rel, (m = new Map()));
    m.set(name, value);
  }
  return out;
}

/** getfattr escapes unusual bytes in names as \ooo octal. */
export function unescapeGetfattr(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (s[i] === '\\' && s[i + 1] === '\\') {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(...Buffer.from(s[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Walk an upper dir depth-first in name order (a dir before its children). */
async function* walkUpper(root: string, xattrs: Map<string, Map<string, Buffer>>, rel = ''): AsyncGenerator<UpperNode> {
  const entries = (await fs.readdir(join(root, rel))).sort();
  for (const name of entries) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(root, path);
    const st = await fs.lstat(abs, { bigint: false });
    const xa = xattrs.get(path);
    // overlay's own attributes (opaque, redirect, origin...) are not image content.
    const own = xa ? Object.fromEntries([...xa].filter(([k]) => !k.startsWith('trusted.overlay.'))) : {};
    const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, mtime: st.mtime, inode: `${st.dev}:${st.ino}`, nlink: st.nlink, ...(Object.keys(own).length ? { xattrs: own } : {}) };
    if (st.isDirectory()) {
      yield { ...base, type: 'dir', opaque: xa?.get(OPAQUE_XATTR)?.toString() === 'y' };
      yield* walkUpper(root, xattrs, path);
    } else if (st.isFile()) yield { ...base, type: 'file' };
    else if (st.isSymbolicLink()) yield { ...base, type: 'symlink', linkTarget: await fs.readlink(abs) };
    else if (st.isCharacterDevice()) yield { ...base, type: 'char', rdevMajor: devMajor(st.rdev), rdevMinor: devMinor(st.rdev) };
    else if (st.isBlockDevice()) yield { ...base, type: 'block', rdevMajor: devMajor(st.rdev), rdevMinor: devMinor(st.rdev) };
    else if (st.isFIFO()) yield { ...base, type: 'fifo' };
    else if (st.isSocket()) yield { ...base, type: 'socket' };
  }
}

const BLOCK = 512;

/** A PAX extended header block carrying `records` (values may be binary, as xattrs are). */
function paxBlock(forPath: string, records: Array<[string, Buffer]>): Buffer {
  const lines = records.map(([k, v]) => {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
    // The length prefix counts itself: find the fixed point.
    let n = rest.length + 1;
    while (String(n).length + rest.length !== n) n = String(n).length + rest.length;
    return Buffer.concat([Buffer.from(String(n)), rest]);
  });
  const body = Buffer.concat(lines);
  const h = new Header({ path: `PaxHeader/${posix.basename(forPath)}`.slice(0, 99), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: new Date(0), type: 'ExtendedHeader', uname: '', gname: '' });
  const head = Buffer.alloc(BLOCK);
  h.encode(head, 0);
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return Buffer.concat([head, body, Buffer.alloc(pad)]);
}

/** Encode one tar header (with a PAX header first when a field does not fit ustar, or for xattrs). */
export function encodeHeader(e: Omit<TarEntryPlan, 'source'> & { path: string }): Buffer {
  const path = e.type === 'Directory' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  const data = {
    path,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.type === 'File' ? e.size : 0,
    mtime: e.mtime,
    type: e.type,
    linkpath: e.linkpath,
    uname: '',
    gname: '',
    devmaj: e.devmaj ?? 0,
    devmin: e.devmin ?? 0,
  };
  const h = new Header(data);
  const block = Buffer.alloc(BLOCK);
  h.encode(block, 0);
  const xattrs = Object.entries(e.xattrs ?? {});
  if (!h.needPax && !xattrs.length) return block;
  const records: Array<[string, Buffer]> = [];
  if (h.needPax) {
    records.push(['path', Buffer.from(path)]);
    if (data.linkpath && Buffer.byteLength(data.linkpath) > 100) records.push(['linkpath', Buffer.from(data.linkpath)]);
    if (data.size > 0o77777777777) records.push(['size', Buffer.from(String(data.size))]);
    if (data.uid > 0o7777777) records.push(['uid', Buffer.from(String(data.uid))]);
    if (data.gid > 0o7777777) records.push(['gid', Buffer.from(String(data.gid))]);
  }
  for (const [k, v] of xattrs) records.push([`SCHILY.xattr.${k}`, v]);
  return Buffer.concat([paxBlock(path, records), block]);
}

/** Write a tar of `entries` (content read under `root`) to `out`; returns bytes written. */
export async function writeTar(root: string, entries: Iterable<TarEntryPlan>, out: Writable, hash?: ReturnType<typeof createHash>): Promise<number> {
  let total = 0;
  const put = async (b: Buffer) => {
    hash?.update(b);
    total += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  for (const e of entries) {
    await put(encodeHeader(e));
    if (e.type !== 'File' || !e.source) continue;
    let n = 0;
    for await (const chunk of createReadStream(join(root, e.source)) as AsyncIterable<Buffer>) {
      // A file that grew while we read it would corrupt the tar: stop at the size in the header.
      const take = chunk.subarray(0, Math.max(0, e.size - n));
      n += take.length;
      if (take.length) await put(take);
      if (n >= e.size) break;
    }
    if (n < e.size) await put(Buffer.alloc(e.size - n)); // shrank meanwhile: pad with zeros
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad) await put(Buffer.alloc(pad));
  }
  await put(Buffer.alloc(BLOCK * 2));
  return total;
}

/**
 * Pack an overlay upper dir as an OCI layer tar into `dest`. Returns the diffID and the
 * content size. Whiteout devices and opaque dirs become OCI whiteout entries.
 */
export async function packUpperDir(upperDir: string, dest: string): Promise<UnpackResult> {
  const xattrs = await readXattrs(upperDir);
  const nodes: UpperNode[] = [];
  for await (const n of walkUpper(upperDir, xattrs)) nodes.push(n);
  const plan = planUpperTar(nodes);
  // The upper dir root itself may be opaque (a dir replaced wholesale at "/" is impossible, but be exact).
  if (xattrs.get('')?.get(OPAQUE_XATTR)?.toString() === 'y') plan.unshift({ path: '.wh..wh..opq', type: 'File', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: new Date(0) });
  const hash = createHash('sha256');
  const out = createWriteStream(dest, { mode: 0o644 });
  try {
    await writeTar(upperDir, plan, out, hash);
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    throw e;
  }
  const size = plan.reduce((s, e) => s + (e.type === 'File' ? e.size : 0), 0);
  return { diffId: 'sha256:' + hash.digest('hex'), size };
}

/** Names in a tar (for tests and diagnostics). */
export async function listTar(file: string): Promise<Array<{ path: string; type: string; size: number; linkpath?: string; mode?: number; uid?: number; devmaj?: number; devmin?: number }>> {
  const { stream } = await openUncompressed(file);
  const out: Array<{ path: string; type: string; size: number; linkpath?: string; mode?: number; uid?: number }> = [];
  const parser = new Parser();
  parser.on('entry', (e: ReadEntry) => {
    out.push({ path: cleanTarPath(e.path), type: e.type, size: e.size ?? 0, linkpath: e.linkpath, mode: e.mode, uid: e.uid, devmaj: e.header.devmaj, devmin: e.header.devmin } as (typeof out)[number]);
    e.resume();
  });
  const end = once(parser, 'end');
  stream.pipe(parser as unknown as Writable);
  await end;
  return out;
}
