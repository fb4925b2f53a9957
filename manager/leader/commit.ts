// Committing a loop's writes: non-atomic store batches of at most `chunk` operations, each
// operation compared on the version it was planned from, so one stale object fails alone
// and the rest of the batch lands. Results go straight into the loop's cache; an operation
// that lost a race (CONFLICT, NOT_FOUND) is reported so its owner can re-read and plan again.
import { isShoalError } from '../../shared/errors';
import type { BatchOp, BatchResult, ClusterStore, Kind } from '../store';
import type { ObjectCache } from './cache';

export const DEFAULT_CHUNK = 1000;

/** Splits ops into consecutive chunks of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size ${size} must be at least 1`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The kind and ID an operation writes. */
export function opTarget(op: BatchOp): { kind: Kind; id: string } {
  return op.op === 'delete' ? { kind: op.kind, id: op.id } : { kind: op.kind, id: op.object.ID };
}

export interface CommitOutcome {
  results: BatchResult[];
  committed: number;
  /** Operations that failed because the object changed or went away since it was read. */
  stale: Array<{ op: BatchOp; error: Error }>;
  /** Operations that failed for any other reason (bad object, too large). */
  failed: Array<{ op: BatchOp; error: Error }>;
}

/** The object changed or disappeared since it was read: re-read and plan again. */
export function isStale(err: unknown): boolean {
  return isShoalError(err, 'CONFLICT') || isShoalError(err, 'NOT_FOUND') || isShoalError(err, 'ALREADY_EXISTS');
}

/**
 * Commits `ops` in non-atomic chunks and applies what committed to `cache`. A store that cannot
 * be reached throws (the caller's queue retries the whole batch; committed chunks are already
 * in the cache, and replanning from there does not repeat them).
 */
export async function commitOps(store: ClusterStore, ops: readonly BatchOp[], cache?: ObjectCache, chunk = DEFAULT_CHUNK, inFlight = 1): Promise<CommitOutcome> {
  const out: CommitOutcome = { results: [], committed: 0, stale: [], failed: [] };
  const parts = chunked(ops, chunk);
  const results: BatchResult[][] = new Array(parts.length);
  // Up to `inFlight` chunks at once: etcd commits concurrent transactions in one raft round.
  let next = 0;
  const worker = async () => {
    while (next < parts.length) {
      const i = next++;
      results[i] = await store.batch(parts[i], { atomic: false });
      apply(parts[i], results[i]);
    }
  };
  const apply = (part: BatchOp[], rs: BatchResult[]) => {
    rs.forEach((r, i) => {
      const op = part[i];
      if (!r.ok) {
        (isStale(r.error) ? out.stale : out.failed).push({ op, error: r.error });
        return;
      }
      out.committed++;
      if (!cache) return;
      if (op.op === 'delete') cache.remove(op.kind, op.id, r.revision);
      else if (r.object) cache.put(op.kind, r.object, r.revision);
    });
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, parts.length)) }, worker));
  out.results = results.flat();
  return out;
}

/** Objects re-read after a lost race; beyond this many the watch's events bring the rest. */
const MAX_REREADS = 64;

/** Re-reads the objects of stale operations into the cache, so the next plan starts from their current version. */
export async function rereadStale(store: ClusterStore, cache: ObjectCache, stale: CommitOutcome['stale']): Promise<void> {
  const seen = new Set<string>();
  for (const { op } of stale) {
    if (seen.size >= MAX_REREADS) break;
    const { kind, id } = opTarget(op);
    const key = `${kind}/${id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const obj = await store.get(kind, id);
    if (obj) cache.put(kind, obj);
  }
}
