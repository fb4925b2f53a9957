// Content digests ("sha256:<hex>"): every blob and manifest is checked against one.
import { createHash, type Hash } from 'node:crypto';
import { ShoalError, invalid } from '../../../shared/errors';

const ALGORITHMS: Record<string, { hash: string; hexLength: number }> = {
  sha256: { hash: 'sha256', hexLength: 64 },
  sha512: { hash: 'sha512', hexLength: 128 },
};

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

/** Parse "algo:hex"; an unknown algorithm or a malformed hex part is INVALID_ARGUMENT. */
export function parseDigest(digest: string): ParsedDigest {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-f0-9]+)$/.exec(digest);
  if (!m) throw invalid(`invalid digest '${digest}'`);
  const alg = ALGORITHMS[m[1]];
  if (!alg) throw invalid(`unsupported digest algorithm '${m[1]}' in '${digest}'`);
  if (m[2].length !== alg.hexLength) throw invalid(`invalid digest '${digest}': wrong length for ${m[1]}`);
  return { algorithm: m[1], hex: m[2] };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function sha256Digest(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Digest of `data` with the algorithm `like` uses. */
export function digestOf(data: Buffer, like = 'sha256:'): string {
  const alg = like.split(':')[0] || 'sha256';
  if (!ALGORITHMS[alg]) throw invalid(`unsupported digest algorithm '${alg}'`);
  return `${alg}:` + createHash(ALGORITHMS[alg].hash).update(data).digest('hex');
}

/** The error for content that does not hash to what was asked for. */
export class DigestMismatchError extends ShoalError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    what = 'content',
  ) {
    super('FAILED_PRECONDITION', `${what} digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/** Incrementally hashes a stream of chunks and checks the result against an expected digest and size. */
export class DigestVerifier {
  private readonly hash: Hash;
  private readonly algorithm: string;
  bytes = 0;

  constructor(
    readonly expected: string,
    readonly expectedSize?: number,
  ) {
    this.algorithm = parseDigest(expected).algorithm;
    this.hash = createHash(ALGORITHMS[this.algorithm].hash);
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }

  /** Throws DigestMismatchError (or a size error) when the content is not the one expected. */
  verify(what = 'content'): string {
    const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (this.expectedSize !== undefined && this.expectedSize >= 0 && this.bytes !== this.expectedSize) {
      throw new ShoalError('FAILED_PRECONDITION', `${what} size mismatch for ${this.expected}: expected ${this.expectedSize} bytes, got ${this.bytes}`);
    }
    if (actual !== this.expected) throw new DigestMismatchError(this.expected, actual, what);
    return actual;
  }
}

/** Check a whole buffer against a digest (manifests, configs). */
export function verifyBuffer(data: Buffer, expected: string, what = 'content'): void {
  const v = new DigestVerifier(expected);
  v.update(data);
  v.verify(what);
}
