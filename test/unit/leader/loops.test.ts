// The allocator and scheduler loops over the in-memory store, with time moved by hand.
import { strict as assert } from 'node:assert';
import { Allocator } from '../../../manager/allocator';
import { LeaderComponents } from '../../../manager/leader';
import { SchedulerLoop } from '../../../manager/scheduler/loop';
import { MemoryStore, type BatchOp, type BatchOptions } from '../../../manager/store';
import type { Node, Task } from '../../../shared/swarm';
import { silenceLogging } from '../../../shared/log';
import { ManualClock, flush } from './manual-clock';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

function task(id: string, over: Partial<Task> = {}): Task {
  return { ID: id, ServiceID: 's1', Slot: 1, Spec: {}, Status: { State: 'new' }, DesiredState: 'running', ...over };
}

function node(id: string, cpus: number): Node {
  return { ID: id, Spec: { Role: 'worker', Availability: 'active' }, Description: { Resources: { NanoCPUs: cpus * 1e9, MemoryBytes: 1 << 30 } }, Status: { State: 'ready' } };
}

/** Counts the task writes a store receives. */
class CountingStore extends MemoryStore {
  writes = 0;
  override async batch(ops: BatchOp[], opts?: BatchOptions) {
    this.writes += ops.length;
    return super.batch(ops, opts);
  }
}

async function settle(clock: ManualClock, loop: { idle(): Promise<void> }): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flush();
    clock.advance(10);
  }
  await loop.idle();
}

describe('leader loops over the memory store', () => {
  it('allocator: attaches each new, wanted task through the seam and moves it to PENDING', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const seen: string[] = [];
    const alloc = new Allocator({
      store,
      clock,
      resyncMs: 0,
      attach: (t) => {
        seen.push(t.ID);
        if (t.ID === 'bad') throw new Error('no address left');
        return { ...t, NetworksAttachments: [{ Network: { ID: 'net1' }, Addresses: ['10.0.0.2/24'] }] };
      },
    });
    await store.create('tasks', task('a'));
    await store.create('tasks', task('unwanted', { DesiredState: 'shutdown' }));
    await alloc.start();
    await store.create('tasks', task('b'));
    await store.create('tasks', task('bad'));
    await settle(clock, alloc);
    await alloc.stop();
    assert.deepEqual(seen.sort(), ['a', 'b', 'bad']);
    const get = (id: string) => store.get<Task>('tasks', id);
    for (const id of ['a', 'b']) {
      const t = await get(id);
      assert.equal(t?.Status.State, 'pending');
      assert.equal(t?.Status.Message, 'pending task scheduling');
      assert.deepEqual(t?.NetworksAttachments?.[0].Addresses, ['10.0.0.2/24']);
    }
    assert.equal((await get('bad'))?.Status.State, 'new', 'a failed allocation leaves the task new');
    assert.equal((await get('unwanted'))?.Status.State, 'new');
  });

  it('scheduler: writes a pending reason once, rewrites it only when it changes, assigns when room appears', async () => {
    const store = new CountingStore();
    const clock = new ManualClock();
    const sched = new SchedulerLoop({ store, clock, resyncMs: 1000 });
    await store.create('nodes', node('n1', 1));
    await store.create('tasks', task('t1', { Status: { State: 'pending' }, Spec: { Resources: { Reservations: { NanoCPUs: 2e9 } } } }));
    await sched.start();
    await settle(clock, sched);
    let t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.Err, 'no suitable node (insufficient resources on 1 node)');

    // Resyncs and unrelated task changes retry the task, but the same reason is not written again.
    clock.advance(1000);
    await store.create('tasks', task('other', { ServiceID: 's2', Status: { State: 'complete' }, NodeID: 'n1' }));
    const writes = store.writes;
    await settle(clock, sched);
    assert.equal(store.writes, writes);

    await store.create('nodes', node('n2', 1));
    await settle(clock, sched);
    t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.Err, 'no suitable node (insufficient resources on 2 nodes)');

    await store.create('nodes', node('n3', 4));
    await settle(clock, sched);
    await sched.stop();
    t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.State, 'assigned');
    assert.equal(t?.NodeID, 'n3');
    assert.equal(t?.Status.Message, 'scheduler assigned task to node');
    assert.equal(t?.Status.Err, undefined);
    assert.equal(sched.stats.assigned, 1);
  });

  it('LeaderComponents: all loops run while the leadership signal lasts, and stop when it aborts', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const leadership = new AbortController();
    const leader = new LeaderComponents({ store, clock, resyncMs: 0, newId: (() => { let n = 0; return () => `task${++n}`; })() });
    await store.create('nodes', node('n1', 4));
    await leader.start(leadership.signal);
    await store.create('services', { ID: 'svc1', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } });
    for (let i = 0; i < 4; i++) await settle(clock, leader);
    const { items } = await store.list<Task>('tasks');
    assert.deepEqual(items.map((t) => `${t.ID}:${t.Status.State}@${t.NodeID}`).sort(), ['task1:assigned@n1', 'task2:assigned@n1']);

    leadership.abort();
    await leader.stop();
    await store.create('tasks', task('late'));
    await flush();
    clock.advance(100);
    await flush();
    assert.equal((await store.get<Task>('tasks', 'late'))?.Status.State, 'new', 'no loop acts after leadership ends');
    assert.equal(clock.pending, 0, 'no timer left');
  });
});
