// The one conformance suite every ClusterStore passes (DESIGN principle 7): the etcd store runs
// it against a real etcd member, the memory store in the unit tests.
import assert from 'node:assert/strict';
import { isShoalError, type ErrorCode } from '../../../shared/errors';
import { within } from '../../helpers/etcd';
import { versionOf, type ClusterStore, type Kind, type StoreEvent, type StoredObject } from '../../../manager/store';

export interface StoreHarness {
  store: ClusterStore;
  /**
   * Cut the store off from its server, run `during` with a second store that can still write,
   * then let the first back: its watches must resume. Absent for stores without a connection.
   */
  interrupt?(during: (other: ClusterStore) => Promise<void>): Promise<void>;
  /** Discard the server's history up to now (etcd compaction). */
  compact?(): Promise<void>;
  /** Restart the server the store talks to (same data). */
  restart?(): Promise<void>;
  teardown(): Promise<void>;
}

interface Svc extends StoredObject {
  Spec: { Name: string; Labels?: Record<string, string> };
}
interface Task extends StoredObject {
  Spec: unknown;
  ServiceID: string;
  Status: { State: string };
}

let seq = 0;
const uid = (p: string) => `${p}${Date.now().toString(36)}${(seq++).toString(36)}`;

export function svc(name = uid('web-')): Omit<Svc, 'Version'> {
  return { ID: uid('svc'), Spec: { Name: name } };
}
export function task(serviceId = 'svcx'): Omit<Task, 'Version'> {
  return { ID: uid('task'), ServiceID: serviceId, Spec: {}, Status: { State: 'new' } };
}

export async function rejects(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(isShoalError(e, code), `expected ${code}, got ${isShoalError(e) ? e.code : ''} ${String(e)}`);
    if (message) assert.match((e as Error).message, message);
    return e as Error;
  }
  assert.fail(`expected a ${code} error`);
}

/** Reads a watch's events one at a time; a guard fails the test if one never comes. */
export class EventReader {
  private readonly it: AsyncIterator<StoreEvent>;
  constructor(events: AsyncIterable<StoreEvent>) {
    this.it = events[Symbol.asyncIterator]();
  }
  async next(): Promise<StoreEvent> {
    const r = await within(this.it.next());
    assert.equal(r.done, false, 'the watch ended');
    return r.value as StoreEvent;
  }
  async take(n: number): Promise<StoreEvent[]> {
    const out: StoreEvent[] = [];
    while (out.length < n) out.push(await this.next());
    return out;
  }
  /** Events until one matches. */
  async until(match: (e: StoreEvent) => boolean): Promise<StoreEvent[]> {
    const out: StoreEvent[] = [];
    for (;;) {
      const e = await this.next();
      out.push(e);
      if (match(e)) return out;
    }
  }
  async ended(): Promise<boolean> {
    return (await within(this.it.next())).done === true;
  }
}

export function storeConformance(title: string, setup: () => Promise<StoreHarness>): void {
  describe(`ClusterStore conformance: ${title}`, function () {
    this.timeout(60_000);
    let h: StoreHarness;
    let s: ClusterStore;
    const watches: AbortController[] = [];
    const watchCtl = () => {
      const c = new AbortController();
      watches.push(c);
      return c;
    };

    beforeEach(async () => {
      h = await setup();
      s = h.store;
    });
    afterEach(async () => {
      for (const c of watches.splice(0)) c.abort();
      await h?.teardown();
    });

    describe('objects', () => {
      it('creates an object whose Version.Index is its revision, with timestamps, and reads it back', async () => {
        const made = await s.create<Svc>('services', svc('alpha'));
        assert.ok(versionOf(made) > 0);
        assert.ok(made.CreatedAt && !Number.isNaN(Date.parse(made.CreatedAt)));
        assert.equal(made.UpdatedAt, made.CreatedAt);
        const got = await s.get<Svc>('services', made.ID);
        assert.deepEqual(got, made);
        const { items, revision } = await s.list<Svc>('services');
        assert.deepEqual(items, [made]);
        assert.ok(revision >= versionOf(made));
      });

      it('gives undefined for an object that is not there', async () => {
        assert.equal(await s.get('services', 'nosuchservice'), undefined);
        assert.deepEqual((await s.list('tasks')).items, []);
      });

      it('refuses a second object with the same ID', async () => {
        const a = svc();
        await s.create('services', a);
        await rejects(s.create('services', { ...a, Spec: { Name: 'other' } }), 'ALREADY_EXISTS', /already exists/);
      });

      it('keeps kinds apart: the same ID can exist in two kinds', async () => {
        await s.create('nodes', { ID: 'shared1', Spec: {} });
        await s.create('tasks', { ID: 'shared1', Spec: {} });
        assert.equal((await s.list('nodes')).items.length, 1);
        assert.equal((await s.list('tasks')).items.length, 1);
      });

      it('lists in ID order, all at one revision', async () => {
        const ids = ['c3', 'a1', 'b2'];
        for (const id of ids) await s.create('nodes', { ID: id, Spec: {} });
        const { items } = await s.list('nodes');
        assert.deepEqual(
          items.map((o) => o.ID),
          ['a1', 'b2', 'c3'],
        );
      });

      it('updates with the version it read, and refuses a stale version with "update out of sequence"', async () => {
        const v1 = await s.create<Svc>('services', svc('beta'));
        const v2 = await s.update<Svc>('services', { ...v1, Spec: { ...v1.Spec, Labels: { a: 'b' } } });
        assert.ok(versionOf(v2) > versionOf(v1));
        assert.equal(v2.CreatedAt, v1.CreatedAt);
        assert.deepEqual((await s.get<Svc>('services', v1.ID))?.Spec.Labels, { a: 'b' });
        const e = await rejects(s.update<Svc>('services', { ...v1, Spec: { ...v1.Spec, Labels: { stale: '1' } } }), 'CONFLICT', /update out of sequence/);
        assert.match(e.message, /re-read/);
        assert.deepEqual((await s.get<Svc>('services', v1.ID))?.Spec.Labels, { a: 'b' }, 'the stale update changed nothing');
      });

      it('force-updates without a version check; an update of a missing object is NOT_FOUND', async () => {
        const v1 = await s.create<Task>('tasks', task());
        const forced = await s.update<Task>('tasks', { ...v1, Version: { Index: 1 }, Status: { State: 'pending' } }, { force: true });
        assert.equal(forced.Status.State, 'pending');
        await rejects(s.update<Task>('tasks', { ...v1, ID: 'gone1' }), 'NOT_FOUND');
        await rejects(s.update<Task>('tasks', { ...v1, ID: 'gone2' }, { force: true }), 'NOT_FOUND');
      });

      it('deletes, checking the version when given', async () => {
        const v1 = await s.create<Task>('tasks', task());
        const v2 = await s.update<Task>('tasks', { ...v1, Status: { State: 'running' } });
        await rejects(s.delete('tasks', v1.ID, versionOf(v1)), 'CONFLICT', /update out of sequence/);
        await s.delete('tasks', v1.ID, versionOf(v2));
        assert.equal(await s.get('tasks', v1.ID), undefined);
        await rejects(s.delete('tasks', v1.ID), 'NOT_FOUND');
        const t2 = await s.create<Task>('tasks', task());
        await s.delete('tasks', t2.ID);
        assert.equal(await s.get('tasks', t2.ID), undefined);
      });

      it('rejects bad kinds, IDs and versions with a message naming the field', async () => {
        await rejects(s.create('widgets' as Kind, { ID: 'x1' }), 'INVALID_ARGUMENT', /kind "widgets"/);
        await rejects(s.create('tasks', { ID: 'a/b' }), 'INVALID_ARGUMENT', /task ID "a\/b"/);
        await rejects(s.create('tasks', { ID: '' }), 'INVALID_ARGUMENT', /task ID/);
        await rejects(s.get('tasks', '../x'), 'INVALID_ARGUMENT', /task ID/);
        await rejects(s.update('tasks', { ID: 'x1', Version: { Index: -3 } }), 'INVALID_ARGUMENT', /Version.Index/);
        await rejects(s.create('services', { ID: 's1', Spec: {} }), 'INVALID_ARGUMENT', /Spec.Name/);
      });
    });

    describe('names', () => {
      it('refuses a second service with the same name, and frees the name on delete', async () => {
        const a = await s.create<Svc>('services', svc('gamma'));
        await rejects(s.create('services', svc('gamma')), 'ALREADY_EXISTS', new RegExp(`name "gamma" is already in use by service ${a.ID}`));
        await s.create('networks', { ID: 'n1', Spec: { Name: 'gamma' } }); // names are per kind
        await s.delete('services', a.ID);
        const b = await s.create<Svc>('services', svc('gamma'));
        assert.notEqual(b.ID, a.ID);
      });

      it('refuses a rename', async () => {
        const a = await s.create<Svc>('services', svc('delta'));
        await rejects(s.update<Svc>('services', { ...a, Spec: { Name: 'epsilon' } }), 'INVALID_ARGUMENT', /name cannot change/);
        await s.create('services', svc('epsilon')); // the new name was not taken by the refused rename
      });
    });

    describe('batch', () => {
      it('commits all operations at one revision', async () => {
        const old = await s.create<Task>('tasks', task());
        const gone = await s.create<Task>('tasks', task());
        const fresh = [task(), task(), task()];
        const res = await s.batch([
          ...fresh.map((t) => ({ op: 'create' as const, kind: 'tasks' as const, object: t })),
          { op: 'update', kind: 'tasks', object: { ...old, Status: { State: 'assigned' } } as Task },
          { op: 'delete', kind: 'tasks', id: gone.ID, version: versionOf(gone) },
        ]);
        assert.equal(res.length, 5);
        const revs = new Set(res.map((r) => (r.ok ? r.revision : -1)));
        assert.equal(revs.size, 1);
        const rev = [...revs][0];
        assert.ok(rev > versionOf(old));
        for (const r of res.slice(0, 4)) assert.ok(r.ok && r.object?.Version?.Index === rev);
        const { items } = await s.list<Task>('tasks');
        assert.deepEqual(items.map((t) => t.ID).sort(), [old.ID, ...fresh.map((t) => t.ID)].sort());
        assert.equal(items.find((t) => t.ID === old.ID)?.Status.State, 'assigned');
      });

      it('is all-or-nothing: one stale operation fails the batch and nothing changes', async () => {
        const t1 = await s.create<Task>('tasks', task());
        await s.update<Task>('tasks', { ...t1, Status: { State: 'running' } });
        const fresh = [task(), task()];
        await rejects(
          s.batch([...fresh.map((t) => ({ op: 'create' as const, kind: 'tasks' as const, object: t })), { op: 'update', kind: 'tasks', object: { ...t1, Status: { State: 'failed' } } as Task }]),
          'CONFLICT',
          new RegExp(`task ${t1.ID}`),
        );
        const { items } = await s.list<Task>('tasks');
        assert.deepEqual(
          items.map((t) => t.ID),
          [t1.ID],
        );
        assert.equal(items[0].Status.State, 'running');
      });

      it('refuses a batch that changes one object twice', async () => {
        const t = task();
        await rejects(
          s.batch([
            { op: 'create', kind: 'tasks', object: t },
            { op: 'delete', kind: 'tasks', id: t.ID },
          ]),
          'INVALID_ARGUMENT',
          /more than once/,
        );
        assert.equal(await s.get('tasks', t.ID), undefined);
      });

      it('non-atomic: reports each failing operation and commits the others', async () => {
        const t1 = await s.create<Task>('tasks', task());
        const t1b = await s.update<Task>('tasks', { ...t1, Status: { State: 'running' } });
        const a = task();
        const b = task();
        const dupName = await s.create<Svc>('services', svc());
        const res = await s.batch(
          [
            { op: 'create', kind: 'tasks', object: a },
            { op: 'update', kind: 'tasks', object: { ...t1, Status: { State: 'x' } } as Task },
            { op: 'create', kind: 'services', object: svc(dupName.Spec.Name) },
            { op: 'delete', kind: 'tasks', id: 'nosuchtask' },
            { op: 'create', kind: 'tasks', object: { ...b, ID: 'bad/id' } },
            { op: 'create', kind: 'tasks', object: b },
          ],
          { atomic: false },
        );
        const codes = res.map((r) => (r.ok ? 'ok' : isShoalError(r.error) ? r.error.code : 'other'));
        assert.deepEqual(codes, ['ok', 'CONFLICT', 'ALREADY_EXISTS', 'NOT_FOUND', 'INVALID_ARGUMENT', 'ok']);
        assert.ok(await s.get('tasks', a.ID));
        assert.ok(await s.get('tasks', b.ID));
        assert.equal((await s.get<Task>('tasks', t1.ID))?.Version?.Index, versionOf(t1b));
      });

      it('commits 1000 creates in one batch', async () => {
        const ts = Array.from({ length: 1000 }, () => task('svcbig'));
        const res = await s.batch(ts.map((t) => ({ op: 'create' as const, kind: 'tasks' as const, object: t })));
        assert.ok(res.every((r) => r.ok));
        const { items } = await s.list('tasks');
        assert.equal(items.length, 1000);
      });
    });

    describe('watch', () => {
      it('gives a snapshot, then every change after it in order, until the signal aborts', async () => {
        const before = await s.create<Svc>('services', svc());
        const ctl = watchCtl();
        const w = await s.watch(['services', 'tasks'], ctl.signal);
        assert.deepEqual(w.snapshot.services, [before]);
        assert.deepEqual(w.snapshot.tasks, []);
        assert.ok(w.revision >= versionOf(before));
        const r = new EventReader(w.events);

        const t = await s.create<Task>('tasks', task(before.ID));
        const t2 = await s.update<Task>('tasks', { ...t, Status: { State: 'running' } });
        await s.create('nodes', { ID: 'n1', Spec: {} }); // not watched
        await s.delete('services', before.ID);
        const evs = await r.take(3);
        assert.deepEqual(
          evs.map((e) => [e.kind, e.type, e.id]),
          [
            ['tasks', 'put', t.ID],
            ['tasks', 'put', t.ID],
            ['services', 'delete', before.ID],
          ],
        );
        assert.deepEqual(evs[0].type === 'put' && [evs[0].created, evs[0].object], [true, t]);
        assert.deepEqual(evs[1].type === 'put' && [evs[1].created, evs[1].object], [false, t2]);
        assert.equal(evs[1].revision, versionOf(t2));
        assert.deepEqual(evs[2].object, before, 'a delete carries the object it removed');
        assert.ok(evs.every((e, i) => e.revision > w.revision && (i === 0 || e.revision > evs[i - 1].revision)));

        ctl.abort();
        assert.equal(await r.ended(), true, 'the watch ends when its signal aborts');
      });

      it('delivers a batch as events of one revision', async () => {
        const ctl = watchCtl();
        const w = await s.watch(['tasks'], ctl.signal);
        const r = new EventReader(w.events);
        const ts = [task(), task(), task()];
        await s.batch(ts.map((t) => ({ op: 'create' as const, kind: 'tasks' as const, object: t })));
        const evs = await r.take(3);
        assert.deepEqual(evs.map((e) => e.id).sort(), ts.map((t) => t.ID).sort());
        assert.equal(new Set(evs.map((e) => e.revision)).size, 1);
      });

      it('resumes after the connection is cut, with what changed meanwhile', async function () {
        if (!h.interrupt) this.skip();
        const ctl = watchCtl();
        const w = await s.watch(['tasks'], ctl.signal);
        const r = new EventReader(w.events);
        const first = await s.create<Task>('tasks', task());
        assert.equal((await r.next()).id, first.ID);
        const during = task();
        await h.interrupt!(async (other) => {
          await other.create('tasks', during);
        });
        const after = await s.create<Task>('tasks', task());
        const evs = await r.until((e) => e.id === after.ID);
        assert.deepEqual(
          evs.map((e) => e.id),
          [during.ID, after.ID],
        );
      });

      it('re-lists when the history it missed was compacted, and yields the difference', async function () {
        if (!h.interrupt || !h.compact) this.skip();
        const kept = await s.create<Task>('tasks', task());
        const changed = await s.create<Task>('tasks', task());
        const removed = await s.create<Task>('tasks', task());
        const ctl = watchCtl();
        const w = await s.watch(['tasks'], ctl.signal);
        const r = new EventReader(w.events);
        const added = task();
        let changedNow: Task | undefined;
        await h.interrupt!(async (other) => {
          await other.create('tasks', added);
          changedNow = await other.update<Task>('tasks', { ...changed, Status: { State: 'running' } });
          await other.delete('tasks', removed.ID);
          await h.compact!();
        });
        const evs = await r.take(3);
        const byId = new Map(evs.map((e) => [e.id, e]));
        assert.equal(byId.get(added.ID)?.type, 'put');
        assert.deepEqual(byId.get(changed.ID)?.object, changedNow);
        assert.equal(byId.get(removed.ID)?.type, 'delete');
        assert.equal(byId.has(kept.ID), false, 'an unchanged object is not repeated');
        const next = await s.create<Task>('tasks', task());
        assert.equal((await r.next()).id, next.ID, 'the watch goes on after the re-list');
      });

      it('keeps working across a restart of the server', async function () {
        if (!h.restart) this.skip();
        const ctl = watchCtl();
        const w = await s.watch(['tasks'], ctl.signal);
        const r = new EventReader(w.events);
        const a = await s.create<Task>('tasks', task());
        assert.equal((await r.next()).id, a.ID);
        await h.restart!();
        await retryUnavailable(() => s.get('tasks', a.ID)); // a read: retrying it cannot write twice
        const b = await s.create<Task>('tasks', task());
        const evs = await r.until((e) => e.id === b.ID);
        assert.deepEqual(
          evs.map((e) => e.id),
          [b.ID],
        );
        assert.equal((await s.get('tasks', a.ID))?.ID, a.ID);
      });
    });
  });
}

/** Run `fn` until it stops failing with UNAVAILABLE (a restarted server takes a moment). */
export async function retryUnavailable<T>(fn: () => Promise<T>, attempts = 100): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isShoalError(e, 'UNAVAILABLE') || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
