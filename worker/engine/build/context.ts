// The build context: the request body (a tar, maybe gzip-compressed, or a bare Dockerfile)
// unpacked into a private temp dir, with .dockerignore applied the way dockerd applies it
// (the Dockerfile is read first; a matching Dockerfile or .dockerignore is then dropped too).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../../../shared/errors';
import { IgnoreMatcher, parseIgnoreFile, cleanPath } from './ignore';
import { resolveInScope } from './fsview';
import { extractTar, isTarHeader, sniffCompression } from './tarx';

const HEAD = 512;
const MAX_DOCKERFILE = 16 * 1024 * 1024;

export interface BuildContext {
  /** Root of the unpacked context. */
  dir: string;
  dockerfileName: string;
  dockerfile: string;
  /** The .dockerignore patterns that were applied. */
  ignore: string[];
}

/** Read the first `n` bytes of a stream, then give back a stream that replays them. */
async function peek(body: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer>; ended: boolean }> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    chunks.push(b);
    size += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  return { head, rest: rest(), ended };
}

/**
 * Complete an uncompressed tar stream that ends without its last block's padding and the
 * end-of-archive blocks. The docker CLI sends such a tar for `docker build -f - DIR` (the
 * entries it appends are not padded); Go's tar reader takes it, so must we. Zero blocks
 * after a proper end-of-archive are ignored by the reader.
 */
async function* padded(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const c of src) {
    total += c.length;
    yield c;
  }
  yield Buffer.alloc(((512 - (total % 512)) % 512) + 1024);
}

/** Unpack the request body into `dir` (which must exist and be empty). */
export async function receiveContext(body: AsyncIterable<Buffer>, dir: string, opts: { dockerfile?: string; signal?: AbortSignal }): Promise<BuildContext> {
  const { head, rest, ended } = await peek(body, HEAD);
  const compression = sniffCompression(head);
  if (compression === 'bzip2' || compression === 'xz') throw invalid(`unsupported build context compression (${compression}): send a plain or gzip-compressed tar`);
  const isTar = compression !== 'none' || isTarHeader(head) || (head.length === 0 && ended);
  const requested = opts.dockerfile && opts.dockerfile !== '' ? opts.dockerfile : 'Dockerfile';
  if (isTar) {
    if (head.length > 0) await extractTar(compression === 'none' ? padded(rest) : rest, dir, { preserveOwner: false, signal: opts.signal, what: 'build context' });
  } else {
    // A bare Dockerfile as the body (no context files), as with `docker build - < Dockerfile`.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of rest) {
      size += c.length;
      if (size > MAX_DOCKERFILE) throw invalid('build context is neither a tar archive nor a Dockerfile');
      chunks.push(c);
    }
    await fs.writeFile(join(dir, cleanPath(requested).replace(/^(\.\.\/)+|^\//, '')), Buffer.concat(chunks), { mode: 0o644 });
  }
  return readContext(dir, requested);
}

async function readContext(dir: string, requested: string): Promise<BuildContext> {
  const rel = cleanPath(requested);
  if (rel.startsWith('../') || rel === '..') throw invalid(`Cannot locate specified Dockerfile: ${requested} (outside the build context)`);
  let dockerfile: string | undefined;
  let name = rel.replace(/^\/+/, '');
  for (const candidate of name === 'Dockerfile' ? ['Dockerfile', 'dockerfile'] : [name]) {
    const path = join(dir, await resolveInScope([dir], candidate));
    try {
      const st = await fs.stat(path);
      if (!st.isFile()) continue;
      if (st.size > MAX_DOCKERFILE) throw invalid(`the Dockerfile (${candidate}) is larger than ${MAX_DOCKERFILE} bytes`);
      dockerfile = await fs.readFile(path, 'utf8');
      name = candidate;
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    }
  }
  // dockerd answers a missing Dockerfile with 400, like any other bad build request.
  if (dockerfile === undefined) throw invalid(`Cannot locate specified Dockerfile: ${requested}`);
  const ignore = await readIgnore(dir);
  if (ignore.length > 0) await applyIgnore(dir, new IgnoreMatcher(ignore));
  return { dir, dockerfileName: name, dockerfile, ignore };
}

async function readIgnore(dir: string): Promise<string[]> {
  try {
    return parseIgnoreFile(await fs.readFile(join(dir, '.dockerignore'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return [];
    throw e;
  }
}

/** Remove what the patterns exclude from the unpacked context. */
export async function applyIgnore(dir: string, matcher: IgnoreMatcher, rel = ''): Promise<boolean /* emptied */> {
  const entries = await fs.readdir(rel ? join(dir, rel) : dir, { withFileTypes: true });
  let kept = 0;
  for (const e of entries) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    const abs = join(dir, path);
    const ignored = matcher.ignores(path);
    if (e.isDirectory()) {
      if (ignored && !matcher.mayReincludeUnder(path)) {
        await fs.rm(abs, { recursive: true, force: true });
        continue;
      }
      const emptied = await applyIgnore(dir, matcher, path);
      if (ignored && emptied) {
        await fs.rmdir(abs);
        continue;
      }
      kept++;
    } else if (ignored) {
      await fs.unlink(abs);
    } else kept++;
  }
  return kept === 0;
}
