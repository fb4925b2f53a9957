// Content-addressed blob storage in OCI image layout: <root>/blobs/sha256/<hex>.
// Every write goes to a temp file first and is renamed into place only after its digest
// checks out, so a blob path either holds exactly its content or does not exist.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { invalid, notFound } from '../../../shared/errors';
import { validateDigest } from './reference';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export class BlobStore {
  readonly dir: string;

  constructor(
    root: string,
    /** Where temp files go; same filesystem as root so rename is atomic. */
    private readonly tmpDir: string,
  ) {
    this.dir = join(root, 'blobs', 'sha256');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
  }

  path(digest: string): string {
    if (!digest.startsWith('sha256:')) throw invalid(`unsupported digest algorithm in '${digest}': only sha256 is stored`);
    validateDigest(digest);
    return join(this.dir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await fs.access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Size in bytes, or undefined when absent. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.path(digest))).size;
    } catch {
      return undefined;
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${digest} not found`);
      throw e;
    }
  }

  open(digest: string): ReadStream {
    return createReadStream(this.path(digest));
  }

  /** `hold` runs (synchronously) just before the blob becomes visible, so a collector never sees it unheld. */
  async putBytes(data: Buffer, hold?: (digest: string) => void): Promise<Descriptor & { created: boolean }> {
    const digest = sha256(data);
    const dst = this.path(digest);
    hold?.(digest);
    if (await this.has(digest)) return { digest, size: data.length, mediaType: '', created: false };
    const tmp = this.tmpName();
    await fs.writeFile(tmp, data, { mode: 0o644 });
    await fs.rename(tmp, dst);
    return { digest, size: data.length, mediaType: '', created: true };
  }

  /**
   * Stream into the store while hashing. With `expect`, a digest or size mismatch is an
   * INVALID_ARGUMENT error and nothing is kept. `created` says whether the blob is new.
   */
  async putStream(src: Readable | AsyncIterable<Buffer>, expect: { digest?: string; size?: number } = {}, signal?: AbortSignal, hold?: (digest: string) => void): Promise<{ digest: string; size: number; created: boolean }> {
    if (expect.digest) this.path(expect.digest); // validates
    const tmp = this.tmpName();
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (expect.size !== undefined && size > expect.size) cb(invalid(`blob size mismatch: more than the expected ${expect.size} bytes`));
        else cb(null, chunk);
      },
    });
    const out = createWriteStream(tmp, { mode: 0o644 });
    try {
      await pipeline(src, meter, out, { signal });
      const digest = 'sha256:' + hash.digest('hex');
      if (expect.digest && digest !== expect.digest) throw invalid(`digest mismatch: expected ${expect.digest}, got ${digest}`);
      if (expect.size !== undefined && size !== expect.size) throw invalid(`blob size mismatch: expected ${expect.size} bytes, got ${size}`);
      const dst = this.path(digest);
      hold?.(digest);
      if (await this.has(digest)) {
        await fs.rm(tmp, { force: true });
        return { digest, size, created: false };
      }
      await fs.rename(tmp, dst);
      return { digest, size, created: true };
    } catch (e) {
      // A pipeline that failed early may not have opened the file yet: once the stream has
      // closed, nothing can create it behind the removal.
      if (!out.closed) await new Promise<void>((r) => out.once('close', () => r()));
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Move an already-written file in (its digest computed by the caller). */
  async adopt(file: string, digest: string): Promise<boolean> {
    const dst = this.path(digest);
    if (await this.has(digest)) {
      await fs.rm(file, { force: true });
      return false;
    }
    await fs.rename(file, dst);
    return true;
  }

  async remove(digest: string): Promise<number> {
    const p = this.path(digest);
    const st = await fs.stat(p).catch(() => undefined);
    await fs.rm(p, { force: true });
    return st?.size ?? 0;
  }

  async list(): Promise<string[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  tmpName(): string {
    return join(this.tmpDir, `blob-${randomBytes(8).toString('hex')}`);
  }
}
