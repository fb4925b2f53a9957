// A loop's in-memory view of the store, fed by its watch and by its own commits. Applying a
// commit's result at once keeps the next reconcile from acting on what it just changed (a
// slot filled twice); the watch later delivers the same change, which the revision check
// then ignores, as it ignores any event older than what is cached. Deleted IDs stay as
// tombstones until the watch has passed their revision.
import type { Kind, StoreEvent, StoredObject } from '../store';
import { versionOf } from '../store';
import type { Service, Task, TaskSpec } from '../../shared/swarm';
import { Interner } from './intern';

export interface Change {
  kind: Kind;
  id: string;
  /** What was cached before (undefined: new). */
  before?: StoredObject;
  /** What is cached now (undefined: deleted). */
  after?: StoredObject;
}

type Listener = (c: Change) => void;

export class ObjectCache {
  private readonly objects = new Map<Kind, Map<string, StoredObject>>();
  private readonly tombstones = new Map<string, number>();
  private readonly listeners: Listener[] = [];
  /** Tasks by service and by node, kept for every cache (the loops all need one or both). */
  private readonly byService = new Map<string, Map<string, Task>>();
  private readonly byNode = new Map<string, Map<string, Task>>();
  /** Task specs and service templates, shared among the objects that have equal ones. */
  private readonly specs = new Interner<TaskSpec>();
  /** The newest revision the watch has delivered. */
  revision = 0;

  constructor(readonly kinds: readonly Kind[]) {
    for (const k of kinds) this.objects.set(k, new Map());
  }

  /** Hears every change, after the indexes are updated. */
  onChange(l: Listener): void {
    this.listeners.push(l);
  }

  get<T extends StoredObject>(kind: Kind, id: string): T | undefined {
    return this.objects.get(kind)?.get(id) as T | undefined;
  }

  all<T extends StoredObject>(kind: Kind): IterableIterator<T> {
    return (this.objects.get(kind) ?? new Map()).values() as IterableIterator<T>;
  }

  count(kind: Kind): number {
    return this.objects.get(kind)?.size ?? 0;
  }

  ids(kind: Kind): IterableIterator<string> {
    return (this.objects.get(kind) ?? new Map()).keys();
  }

  tasksOfService(serviceId: string): Iterable<Task> {
    return this.byService.get(serviceId)?.values() ?? [];
  }

  tasksOnNode(nodeId: string): Iterable<Task> {
    return this.byNode.get(nodeId)?.values() ?? [];
  }

  /** Services that have tasks in the cache (some may be gone from it). */
  serviceIdsWithTasks(): IterableIterator<string> {
    return this.byService.keys();
  }

  /**
   * Replaces everything with a watch snapshot read at `revision`; returns the changes against
   * what was cached, so a re-list after a broken watch dirties what differs. What this loop
   * wrote after that revision stays (its events are still to come from the new watch).
   */
  reset(snapshot: Partial<Record<Kind, StoredObject[]>>, revision: number): Change[] {
    const changes: Change[] = [];
    this.revision = revision;
    for (const kind of this.kinds) {
      const fresh = new Map((snapshot[kind] ?? []).map((o) => [o.ID, o]));
      for (const [id, before] of [...(this.objects.get(kind) ?? [])]) {
        if (!fresh.has(id) && versionOf(before) <= revision) changes.push(this.store(kind, id, before, undefined));
      }
      for (const [id, after] of fresh) {
        const deleted = this.tombstones.get(`${kind}/${id}`);
        if (deleted !== undefined && deleted > revision) continue;
        const before = this.get(kind, id);
        if (before && versionOf(before) >= versionOf(after)) continue;
        changes.push(this.store(kind, id, before, after));
      }
    }
    this.prune();
    return changes;
  }

  /** A watch event; the change, or undefined when it is no news (older than what is cached). */
  applyEvent(ev: StoreEvent): Change | undefined {
    this.revision = Math.max(this.revision, ev.revision);
    let change: Change | undefined;
    if (this.objects.has(ev.kind)) {
      change = ev.type === 'put' ? this.put(ev.kind, ev.object, ev.revision) : this.remove(ev.kind, ev.id, ev.revision);
    }
    if (this.tombstones.size) this.prune();
    return change;
  }

  /** An object this loop wrote (or re-read); ignored when the cache already has a newer one. */
  put(kind: Kind, obj: StoredObject, revision = versionOf(obj)): Change | undefined {
    const key = `${kind}/${obj.ID}`;
    const dead = this.tombstones.get(key);
    if (dead !== undefined && dead >= revision) return undefined;
    const before = this.get(kind, obj.ID);
    if (before && versionOf(before) >= revision) return undefined;
    this.tombstones.delete(key);
    return this.store(kind, obj.ID, before, obj);
  }

  /** An object deleted at `revision` (by this loop or as the watch reports). */
  remove(kind: Kind, id: string, revision: number): Change | undefined {
    const before = this.get(kind, id);
    if (before && versionOf(before) > revision) return undefined;
    if (revision > this.revision) this.tombstones.set(`${kind}/${id}`, revision);
    if (!before) return undefined;
    return this.store(kind, id, before, undefined);
  }

  private store(kind: Kind, id: string, before: StoredObject | undefined, after: StoredObject | undefined): Change {
    after = this.share(kind, before, after);
    const map = this.objects.get(kind)!;
    if (after) map.set(id, after);
    else map.delete(id);
    if (kind === 'tasks') {
      if (before) this.unindex(before as Task);
      if (after) this.index(after as Task);
    }
    const change: Change = { kind, id, before, after };
    for (const l of this.listeners) l(change);
    return change;
  }

  /** The object to cache: `after` with its spec swapped for the shared equal one (a shallow copy; the given object is left alone). */
  private share(kind: Kind, before: StoredObject | undefined, after: StoredObject | undefined): StoredObject | undefined {
    if (kind === 'tasks') {
      const was = (before as Task | undefined)?.Spec;
      if (was) this.specs.release(was);
      const t = after as Task | undefined;
      return t?.Spec ? { ...t, Spec: this.specs.intern(t.Spec) } : after;
    }
    if (kind === 'services') {
      const was = (before as Service | undefined)?.Spec?.TaskTemplate;
      if (was) this.specs.release(was);
      const svc = after as Service | undefined;
      return svc?.Spec?.TaskTemplate ? { ...svc, Spec: { ...svc.Spec, TaskTemplate: this.specs.intern(svc.Spec.TaskTemplate) } } : after;
    }
    return after;
  }

  /** Distinct task specs held (tests). */
  get sharedSpecs(): number {
    return this.specs.size;
  }

  private index(t: Task): void {
    add(this.byService, t.ServiceID ?? '', t);
    if (t.NodeID) add(this.byNode, t.NodeID, t);
  }

  private unindex(t: Task): void {
    drop(this.byService, t.ServiceID ?? '', t.ID);
    if (t.NodeID) drop(this.byNode, t.NodeID, t.ID);
  }

  /** Events come in revision order: a tombstone the watch has passed can no longer matter. */
  private prune(): void {
    for (const [key, rev] of this.tombstones) if (rev <= this.revision) this.tombstones.delete(key);
  }
}

function add(index: Map<string, Map<string, Task>>, key: string, t: Task): void {
  let m = index.get(key);
  if (!m) index.set(key, (m = new Map()));
  m.set(t.ID, t);
}

function drop(index: Map<string, Map<string, Task>>, key: string, id: string): void {
  const m = index.get(key);
  if (m?.delete(id) && m.size === 0) index.delete(key);
}
