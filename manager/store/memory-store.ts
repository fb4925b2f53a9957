// An in-memory ClusterStore with etcd's semantics (one revision counter, a transaction's changes
// share one revision, versions are mod revisions), for unit tests of the components above the
// store. It passes the same conformance suite as the etcd store.
import { ShoalError, precondition } from '../../shared/errors';
import { checkId, checkKind, kindPrefix, nameKey, nameOf, objectKey } from './keys';
import { checkOp, decode, missing, prepareBatch, type PreparedOp } from './ops';
import { AsyncQueue } from '../../shared/queue';
import { BatchStore } from './single';
import type { BatchOp, BatchOptions, BatchResult, Kind, ListResult, StoreEvent, StoreWatch, StoredObject } from './types';

interface Entry {
  value: string;
  create: number;
  mod: number;
}

interface Watcher {
  kinds: ReadonlySet<Kind>;
  queue: AsyncQueue<StoreEvent>;
}

export class MemoryStore extends BatchStore {
  private revision = 1;
  private readonly data = new Map<string, Entry>();
  private readonly names = new Map<string, string>();
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  /** The store's current revision. */
  get currentRevision(): number {
    return this.revision;
  }

  async get<T extends StoredObject>(kind: Kind, id: string): Promise<T | undefined> {
    this.checkOpen();
    const e = this.data.get(objectKey(checkKind(kind), checkId(kind, id)));
    return e ? decode<T>(e.value, e.mod) : undefined;
  }

  async list<T extends StoredObject>(kind: Kind): Promise<ListResult<T>> {
    this.checkOpen();
    return { items: this.listNow<T>(checkKind(kind)), revision: this.revision };
  }

  async batch(ops: BatchOp[], opts: BatchOptions = {}): Promise<BatchResult[]> {
    this.checkOpen();
    const atomic = opts.atomic ?? true;
    const prepared = prepareBatch(ops);
    const results: BatchResult[] = prepared.map((p) => (p instanceof ShoalError ? { ok: false, error: p } : { ok: true, revision: 0 }));
    const runnable: PreparedOp[] = [];
    for (const p of prepared) {
      if (p instanceof ShoalError) continue;
      const e = this.data.get(p.key);
      const err = checkOp(p, { object: e ? decode(e.value, e.mod) : undefined, mod: e?.mod ?? 0 }, p.name === undefined ? undefined : this.names.get(nameKey(p.kind, p.name)));
      if (err) results[p.index] = { ok: false, error: err };
      else runnable.push(p);
    }
    const failed = results.find((r) => !r.ok);
    if (atomic && failed && !failed.ok) throw failed.error;
    if (runnable.length === 0) return results;

    const rev = ++this.revision;
    const events: StoreEvent[] = [];
    for (const p of runnable) {
      const prev = this.data.get(p.key);
      if (p.op === 'delete') {
        if (!prev) throw missing(p.kind, p.id); // checked above
        const old = decode(prev.value, prev.mod);
        const name = nameOf(p.kind, old);
        if (name !== undefined) this.names.delete(nameKey(p.kind, name));
        this.data.delete(p.key);
        results[p.index] = { ok: true, revision: rev };
        events.push({ kind: p.kind, type: 'delete', id: p.id, object: old, revision: rev });
      } else {
        this.data.set(p.key, { value: p.value as string, create: prev?.create ?? rev, mod: rev });
        if (p.name !== undefined) this.names.set(nameKey(p.kind, p.name), p.id);
        const object = decode(p.value as string, rev);
        results[p.index] = { ok: true, revision: rev, object };
        events.push({ kind: p.kind, type: 'put', id: p.id, object: decode(p.value as string, rev), created: !prev, revision: rev });
      }
    }
    for (const w of this.watchers) for (const ev of events) if (w.kinds.has(ev.kind)) w.queue.push(ev);
    return results;
  }

  async watch(kinds: Kind[], signal: AbortSignal): Promise<StoreWatch> {
    this.checkOpen();
    const set = new Set(kinds.map(checkKind));
    const snapshot: Partial<Record<Kind, StoredObject[]>> = {};
    for (const k of set) snapshot[k] = this.listNow(k);
    const w: Watcher = { kinds: set, queue: new AsyncQueue() };
    const stop = () => {
      this.watchers.delete(w);
      w.queue.end();
    };
    if (signal.aborted) stop();
    else {
      this.watchers.add(w);
      signal.addEventListener('abort', stop, { once: true });
    }
    // Nothing here is ever missed, so the watch never needs to re-list.
    return { revision: this.revision, snapshot, events: w.queue };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.queue.end();
    this.watchers.clear();
  }

  private listNow<T extends StoredObject>(kind: Kind): T[] {
    const prefix = kindPrefix(kind);
    return [...this.data.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => decode<T>(e.value, e.mod));
  }

  private checkOpen(): void {
    if (this.closed) throw precondition('the store is closed');
  }
}
