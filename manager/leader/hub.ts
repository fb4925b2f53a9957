// One store watch shared by all the leader's loops. Each loop still gets what
// ClusterStore.watch promises (a snapshot of its kinds, then the changes after it), but etcd
// streams and the manager decodes every change once instead of once per loop. The hub keeps
// the current objects of its kinds so that a loop subscribing late (or again) gets a snapshot
// consistent with the events that follow it. Objects are shared among subscribers: they must
// not change them (the loops' caches copy what they alter).
import { unavailable } from '../../shared/errors';
import type { Logger } from '../../shared/log';
import { AsyncQueue } from '../../shared/queue';
import type { BatchOp, BatchOptions, BatchResult, ClusterStore, Kind, ListResult, NewObject, StoreEvent, StoreWatch, StoredObject } from '../store';
import { versionOf } from '../store';
import type { Clock } from './clock';
import { keepWatching } from './rewatch';

interface Subscriber {
  kinds: ReadonlySet<Kind>;
  queue: AsyncQueue<StoreEvent>;
}

export class SharedWatchStore implements ClusterStore {
  private readonly objects = new Map<Kind, Map<string, StoredObject>>();
  private readonly subscribers = new Set<Subscriber>();
  private revision = 0;
  private loaded: Promise<void> | undefined;
  private ctl: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly inner: ClusterStore,
    readonly kinds: readonly Kind[],
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    for (const k of kinds) this.objects.set(k, new Map());
  }

  /** Opens the shared watch; resolves once its first snapshot is in (or `signal` aborts). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.ctl) throw new Error('the shared watch is already started');
    const ctl = (this.ctl = new AbortController());
    if (signal?.aborted) ctl.abort();
    else signal?.addEventListener('abort', () => ctl.abort(), { once: true });
    let ready!: () => void;
    this.loaded = new Promise<void>((resolve) => (ready = resolve));
    if (ctl.signal.aborted) ready();
    else ctl.signal.addEventListener('abort', () => ready(), { once: true });
    this.running = this.follow(ctl.signal, ready);
    await this.loaded;
  }

  /** Ends the shared watch and every subscriber's stream. */
  async stop(): Promise<void> {
    this.ctl?.abort();
    await this.running;
    for (const s of this.subscribers) s.queue.end();
    this.subscribers.clear();
  }

  async watch(kinds: Kind[], signal: AbortSignal): Promise<StoreWatch> {
    const missing = kinds.filter((k) => !this.objects.has(k));
    if (missing.length || !this.loaded) return this.inner.watch(kinds, signal);
    await this.loaded;
    if (this.ctl?.signal.aborted) throw unavailable('the shared watch has stopped');
    const sub: Subscriber = { kinds: new Set(kinds), queue: new AsyncQueue() };
    const snapshot: Partial<Record<Kind, StoredObject[]>> = {};
    for (const k of sub.kinds) snapshot[k] = [...this.objects.get(k)!.values()];
    const end = () => {
      this.subscribers.delete(sub);
      sub.queue.end();
    };
    if (signal.aborted || this.ctl?.signal.aborted) end();
    else {
      this.subscribers.add(sub);
      signal.addEventListener('abort', end, { once: true });
    }
    return { revision: this.revision, snapshot, events: sub.queue };
  }

  private follow(signal: AbortSignal, ready: () => void): Promise<void> {
    return keepWatching('shared watch', this.log, this.clock, signal, async (connected) => {
      const w = await this.inner.watch([...this.kinds], signal);
      connected();
      // A re-list: what changed since the last state reaches subscribers as ordinary events.
      for (const ev of this.diff(w.snapshot, w.revision)) this.publish(ev);
      this.revision = Math.max(this.revision, w.revision);
      ready();
      for await (const ev of w.events) this.publish(ev);
    });
  }

  private publish(ev: StoreEvent): void {
    const map = this.objects.get(ev.kind);
    if (!map) return;
    if (ev.type === 'put') map.set(ev.id, ev.object);
    else map.delete(ev.id);
    this.revision = Math.max(this.revision, ev.revision);
    for (const s of this.subscribers) if (s.kinds.has(ev.kind)) s.queue.push(ev);
  }

  /** Puts and deletes that turn the current state into the snapshot. */
  private diff(snapshot: Partial<Record<Kind, StoredObject[]>>, revision: number): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (const [kind, map] of this.objects) {
      const fresh = new Map((snapshot[kind] ?? []).map((o) => [o.ID, o]));
      for (const [id, old] of map) if (!fresh.has(id)) out.push({ kind, type: 'delete', id, object: old, revision });
      for (const [id, obj] of fresh) {
        const old = map.get(id);
        if (!old || versionOf(old) !== versionOf(obj)) out.push({ kind, type: 'put', id, object: obj, created: !old, revision: versionOf(obj) });
      }
    }
    return out;
  }

  // Everything else goes straight to the store.
  get<T extends StoredObject>(kind: Kind, id: string): Promise<T | undefined> {
    return this.inner.get(kind, id);
  }
  list<T extends StoredObject>(kind: Kind): Promise<ListResult<T>> {
    return this.inner.list(kind);
  }
  create<T extends StoredObject>(kind: Kind, obj: NewObject<T>): Promise<T> {
    return this.inner.create(kind, obj);
  }
  update<T extends StoredObject>(kind: Kind, obj: T, opts?: { force?: boolean }): Promise<T> {
    return this.inner.update(kind, obj, opts);
  }
  delete(kind: Kind, id: string, version?: number): Promise<void> {
    return this.inner.delete(kind, id, version);
  }
  batch(ops: BatchOp[], opts?: BatchOptions): Promise<BatchResult[]> {
    return this.inner.batch(ops, opts);
  }
  /** The hub does not own the store: closing it only ends the shared watch. */
  async close(): Promise<void> {
    await this.stop();
  }
}
