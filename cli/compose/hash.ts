// The config hash compose stores on each container: equal hashes mean the container already
// runs what the file asks for, so `up` leaves it alone.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level and undefined fields left out. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableStringify(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
}

/** sha256 hex of the canonical JSON of `v`. */
export function configHash(v: unknown): string {
  return createHash('sha256').update(stableStringify(v)).digest('hex');
}
