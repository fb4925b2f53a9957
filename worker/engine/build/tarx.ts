// Tar extraction for build contexts and ADD: node-tar does the unpacking (path sanitising, no
// writes through symlinks, gzip detection); afterwards every entry gets its exact mode back,
// which node-tar leaves to the umask and to chown (which clears set-id bits).

import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Unpack } from 'tar';
import { invalid, errorMessage, ShoalError } from '../../../shared/errors';

export interface ExtractedEntry {
  path: string; // relative, as extracted
  type: string;
  mode: number;
}

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Is this 512-byte block a tar header (checksum valid)? Works for ustar, GNU and v7 tars. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const field = block.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === want && block[0] !== 0;
}

/** Is the file at `path` a tar archive, plain or gzip-compressed? Other compressions are named. */
export async function archiveKind(path: string): Promise<'tar' | 'tar.gz' | Compression | undefined> {
  const fh = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const comp = sniffCompression(head.subarray(0, bytesRead));
    if (comp === 'none') return bytesRead === 512 && isTarHeader(head) ? 'tar' : undefined;
    if (comp !== 'gzip') return comp;
  } finally {
    await fh.close();
  }
  // Gzip: look at the first decompressed block.
  const gunzip = createGunzip();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const src = (await fs.open(path, 'r')).createReadStream();
    await pipeline(src, gunzip, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) {
        chunks.push(c);
        size += c.length;
        if (size >= 512) break;
      }
    });
  } catch {
    // a truncated or corrupt gzip is not an archive to extract
  }
  return size >= 512 && isTarHeader(Buffer.concat(chunks).subarray(0, 512)) ? 'tar.gz' : undefined;
}

/**
 * Extract a tar stream (plain, gzip or zstd) into `cwd`. `preserveOwner` keeps the archive's
 * uid/gid (ADD); otherwise files belong to the daemon. Returns the entries as extracted.
 */
export async function extractTar(source: AsyncIterable<Buffer> | Readable, cwd: string, opts: { preserveOwner: boolean; signal?: AbortSignal; what: string }): Promise<ExtractedEntry[]> {
  const entries = new Map<string, ExtractedEntry & { abs: string }>();
  const unpack = new Unpack({ cwd, preserveOwner: opts.preserveOwner, strict: false, maxDepth: 4096 });
  let warning: string | undefined;
  unpack.on('warn', (code: string, msg: string) => {
    // Unsupported entries (devices, FIFOs) are skipped as Docker's context code does; other
    // warnings are remembered in case extraction fails.
    if (code !== 'TAR_ENTRY_UNSUPPORTED') warning ??= `${code}: ${msg}`;
  });
  unpack.on('entry', (e: { absolute?: string; path: string; type: string; mode?: number }) => {
    if (e.absolute && typeof e.mode === 'number') entries.set(e.absolute, { abs: e.absolute, path: e.path, type: e.type, mode: e.mode & 0o7777 });
  });
  const input = source instanceof Readable ? source : Readable.from(source);
  try {
    await pipeline(input, unpack, { signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw new ShoalError('CANCELLED', `${opts.what}: cancelled`);
    throw invalid(`invalid ${opts.what}: ${errorMessage(e)}`);
  }
  for (const e of entries.values()) {
    if (e.type === 'SymbolicLink') continue;
    await fs.chmod(e.abs, e.mode).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return [...entries.values()].map(({ path, type, mode }) => ({ path, type, mode }));
}
