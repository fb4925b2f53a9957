// Join tokens in Docker's format: SWMTKN-1-<CA digest>-<secret>.
// The digest is the SHA-256 of the root CA certificate's DER, as a base-36 number padded to
// 50 digits; it lets a joiner trust the CA it is shown. The secret is 25 base-36 digits
// (128 random bits) and says which role the holder may join as.
import { randomBytes } from 'node:crypto';
import { invalid } from '../errors';

export const JOIN_TOKEN_PREFIX = 'SWMTKN';
export const JOIN_TOKEN_VERSION = 1;
const DIGEST_DIGITS = 50;
const SECRET_DIGITS = 25;
const SECRET_BYTES = 16;
const TOKEN_RE = /^SWMTKN-1-([0-9a-z]{50})-([0-9a-z]{25})$/;

export interface ParsedJoinToken {
  /** SHA-256 of the root CA certificate (DER), lowercase hex. */
  caDigest: string;
  secret: string;
}

function toBase36(hex: string, digits: number): string {
  return BigInt(`0x${hex || '0'}`).toString(36).padStart(digits, '0');
}

function base36ToBigInt(s: string): bigint {
  let n = 0n;
  for (const ch of s) n = n * 36n + BigInt(parseInt(ch, 36));
  return n;
}

/** Parse a token; a malformed one is INVALID_ARGUMENT "invalid join token". */
export function parseJoinToken(token: string): ParsedJoinToken {
  const m = TOKEN_RE.exec(typeof token === 'string' ? token.trim() : '');
  if (!m) throw invalid('invalid join token');
  const digest = base36ToBigInt(m[1]);
  if (digest >= 1n << 256n) throw invalid('invalid join token');
  if (base36ToBigInt(m[2]) >= 1n << BigInt(SECRET_BYTES * 8)) throw invalid('invalid join token');
  return { caDigest: digest.toString(16).padStart(64, '0'), secret: m[2] };
}

/** The token for a CA digest (hex) and a secret (base 36, as randomJoinSecret makes). */
export function formatJoinToken(caDigestHex: string, secret: string): string {
  if (!/^[0-9a-f]{64}$/.test(caDigestHex)) throw invalid('invalid CA digest: want 64 hex digits');
  if (!/^[0-9a-z]{25}$/.test(secret)) throw invalid('invalid join token secret: want 25 base-36 digits');
  return `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-${toBase36(caDigestHex, DIGEST_DIGITS)}-${secret}`;
}

/** 128 random bits as 25 base-36 digits. */
export function randomJoinSecret(): string {
  return toBase36(randomBytes(SECRET_BYTES).toString('hex'), SECRET_DIGITS);
}
