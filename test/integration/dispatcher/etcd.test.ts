import assert from 'node:assert/strict';
import { EtcdStore } from '../../../manager/store';
import type { Node, Task } from '../../../shared/swarm';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';
import { assignedTask, eventually, startControlPlane, type ControlPlane } from './fixture';

// The same flow on the etcd store: its watch (several kinds on one range) and its non-atomic
// batches are what the dispatcher runs on in a real manager.
describe('dispatcher on etcd: session, assignments and status through a real etcd member', function () {
  this.timeout(60_000);
  let etcd: TestEtcd;
  let c: ControlPlane;

  before(async () => {
    etcd = await startTestEtcd();
    c = await startControlPlane({ store: EtcdStore.connect(etcd.endpoints) });
  });
  after(async () => {
    await c?.stop();
    await etcd?.destroy();
  });

  it('registers the node, streams its tasks and records its reports', async () => {
    await c.store.create<Task>('tasks', assignedTask('e1', 'someoneelse'));
    const w = await c.worker({ name: 'etcd-worker' });
    await c.store.create<Task>('tasks', assignedTask('e2', w.nodeId));
    const n = await eventually(async () => {
      const got = await c.store.get<Node>('nodes', w.nodeId);
      return got?.Status?.State === 'ready' ? got : undefined;
    }, 'the node ready');
    assert.equal(n.Description?.Hostname, 'etcd-worker');

    const ids = () => new Set(w.executor.events.flatMap((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).map((t) => t.ID)));
    await w.executor.until(() => ids().has('e2'));
    assert.ok(!ids().has('e1'));

    w.executor.report(['e2', 'accepted'], ['e2', 'running']);
    await eventually(async () => (await c.store.get<Task>('tasks', 'e2'))?.Status.State === 'running', 'e2 running');
    w.executor.report(['e2', 'preparing']);
    await c.store.delete('tasks', 'e2');
    await w.executor.until((ev) => ev.some((e) => e.type === 'changes' && e.changes.removed.includes('e2')));
    await w.agent.stop();
    const down = await eventually(async () => {
      const got = await c.store.get<Node>('nodes', w.nodeId);
      return got?.Status?.State === 'down' ? got : undefined;
    }, 'the node down');
    assert.equal(down.Status?.Message, 'heartbeat failure');
  });
});
