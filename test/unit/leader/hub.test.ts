import { strict as assert } from 'node:assert';
import { SharedWatchStore, systemClock } from '../../../manager/leader';
import { MemoryStore, type StoreEvent } from '../../../manager/store';
import { logger, silenceLogging } from '../../../shared/log';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

async function take(events: AsyncIterable<StoreEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  if (n === 0) return out;
  for await (const ev of events) {
    out.push(`${ev.type} ${ev.kind}/${ev.id}`);
    if (out.length === n) break;
  }
  return out;
}

describe('leader/SharedWatchStore', () => {
  it('serves each subscriber a snapshot of its kinds and the changes after it, from one store watch', async () => {
    const mem = new MemoryStore();
    let watches = 0;
    const inner = Object.create(mem) as MemoryStore;
    inner.watch = (kinds, signal) => {
      watches++;
      return mem.watch(kinds, signal);
    };
    await mem.create('nodes', { ID: 'n1' });
    const hub = new SharedWatchStore(inner, ['nodes', 'tasks'], logger('test'), systemClock);
    await hub.start();
    const ctl = new AbortController();
    const a = await hub.watch(['nodes', 'tasks'], ctl.signal);
    await mem.create('tasks', { ID: 't1' });
    const b = await hub.watch(['tasks'], ctl.signal);
    await mem.create('nodes', { ID: 'n2' });
    await mem.delete('tasks', 't1');
    assert.deepEqual(a.snapshot.nodes?.map((o) => o.ID), ['n1']);
    assert.deepEqual(a.snapshot.tasks, []);
    assert.deepEqual(b.snapshot.tasks?.map((o) => o.ID), ['t1'], 'a late subscriber sees the current state');
    assert.equal(b.snapshot.nodes, undefined);
    assert.ok(b.revision > a.revision);
    assert.deepEqual(await take(a.events, 3), ['put tasks/t1', 'put nodes/n2', 'delete tasks/t1']);
    assert.deepEqual(await take(b.events, 1), ['delete tasks/t1']);
    assert.equal(watches, 1);

    // Kinds it does not hold go to the store itself.
    const c = await hub.watch(['services'], ctl.signal);
    assert.deepEqual(c.snapshot.services, []);
    assert.equal(watches, 2);

    ctl.abort();
    await hub.stop();
    await assert.rejects(hub.watch(['tasks'], new AbortController().signal), /stopped/);
  });
});
