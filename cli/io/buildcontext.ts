// The build context docker sends: the context directory as a tar stream (node-tar), plus a
// Dockerfile from outside the context or from stdin as an extra entry. .dockerignore is
// left to the daemon.
import { promises as fs } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import * as tar from 'tar';
import { ExitError } from '../errors';

export interface BuildContext {
  body: Readable;
  /** The Dockerfile's path inside the context, for the dockerfile query parameter. */
  dockerfile: string;
}

/** One regular-file tar entry: header, data, padding to a 512-byte block. */
export function tarEntry(path: string, data: Buffer, mode = 0o644): Buffer {
  const h = new tar.Header({ path, mode, size: data.length, mtime: new Date(), type: 'File', uid: 0, gid: 0 });
  const block = Buffer.alloc(512);
  h.encode(block, 0);
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([block, data, Buffer.alloc(pad)]);
}

/** Does this look like an archive (tar, gzip, bzip2, xz) rather than a Dockerfile? */
export function isArchive(buf: Buffer): boolean {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return true;
  if (buf.length >= 3 && buf.subarray(0, 3).toString('latin1') === 'BZh') return true;
  if (buf.length >= 6 && buf.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  return buf.length >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
}

async function readAllStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A tar stream of a directory's contents, entries relative to it (no "./" prefix). */
async function packDir(dir: string): Promise<Readable> {
  const names = (await fs.readdir(dir)).sort();
  if (!names.length) return Readable.from([Buffer.alloc(1024)]);
  return tar.create({ cwd: dir, portable: true, follow: false }, names) as unknown as Readable;
}

/**
 * Prepare the context for `shoal build PATH|-`: `file` is -f (relative to the working
 * directory, or "-" for stdin), `stdin` the process input.
 */
export async function buildContext(path: string, file: string | undefined, cwd: string, stdin: NodeJS.ReadableStream): Promise<BuildContext> {
  if (path === '-') {
    if (file === '-') throw new ExitError(1, 'invalid argument: can\'t use stdin for both build context and dockerfile');
    const input = await readAllStream(stdin);
    if (isArchive(input)) return { body: Readable.from([input]), dockerfile: file ?? 'Dockerfile' };
    // A plain Dockerfile on stdin: a context holding just that file.
    return { body: Readable.from([tarEntry('Dockerfile', input), Buffer.alloc(1024)]), dockerfile: 'Dockerfile' };
  }
  const dir = resolve(cwd, path);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st) throw new ExitError(1, `unable to prepare context: path "${path}" not found`);
  if (!st.isDirectory()) throw new ExitError(1, `unable to prepare context: context must be a directory: ${dir}`);

  let extra: Buffer | undefined;
  let dockerfile: string;
  if (file === '-') {
    dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra = tarEntry(dockerfile, await readAllStream(stdin));
  } else {
    let abs = file ? resolve(cwd, file) : join(dir, 'Dockerfile');
    if (!file) {
      const exists = await fs.lstat(abs).catch(() => undefined);
      if (!exists && (await fs.lstat(join(dir, 'dockerfile')).catch(() => undefined))) abs = join(dir, 'dockerfile');
    }
    const fst = await fs.stat(abs).catch(() => undefined);
    if (!fst) throw new ExitError(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
    const rel = relative(dir, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra = tarEntry(dockerfile, await fs.readFile(abs));
    } else {
      dockerfile = rel.split(sep).join('/');
    }
  }
  const packed = await packDir(dir);
  if (!extra) return { body: packed, dockerfile };
  const out = new PassThrough();
  out.write(extra);
  packed.pipe(out);
  packed.on('error', (e) => out.destroy(e));
  return { body: out, dockerfile };
}
