import assert from 'node:assert/strict';
import { backoffMs, decodeChanges, decodeComplete, ManagerList, PendingStatuses } from '../../../worker/agent/session';
import { isShoalError } from '../../../shared/errors';
import type { TaskStatus } from '../../../shared/swarm';

const st = (State: TaskStatus['State']): TaskStatus => ({ State });

describe('agent session: pure parts', () => {
  describe('pending status reports', () => {
    it('keeps only the latest report per task, oldest task first', () => {
      const p = new PendingStatuses();
      p.put([{ taskId: 'a', status: st('preparing') }, { taskId: 'b', status: st('running') }]);
      p.put([{ taskId: 'a', status: st('running') }]);
      assert.deepEqual(p.take(), [
        { taskId: 'b', status: st('running') },
        { taskId: 'a', status: st('running') },
      ]);
      assert.equal(p.size, 0);
    });

    it('a batch that failed to send is pending again unless a newer report replaced it', () => {
      const p = new PendingStatuses();
      p.put([{ taskId: 'a', status: st('starting') }, { taskId: 'b', status: st('starting') }, { taskId: 'c', status: st('starting') }]);
      const batch = p.take(2);
      assert.deepEqual(batch.map((r) => r.taskId), ['a', 'b']);
      p.put([{ taskId: 'b', status: st('running') }]);
      p.restore(batch);
      assert.deepEqual(p.take(), [
        { taskId: 'a', status: st('starting') },
        { taskId: 'c', status: st('starting') },
        { taskId: 'b', status: st('running') },
      ]);
    });

    it('forgets a task that is no longer assigned, and wakes a waiting sender', async () => {
      const p = new PendingStatuses();
      const ac = new AbortController();
      const waiting = p.whenAny(ac.signal);
      p.put([{ taskId: 'a', status: st('running') }]);
      assert.equal(await waiting, true);
      p.drop('a');
      assert.equal(p.size, 0);
      const aborted = p.whenAny(ac.signal);
      ac.abort();
      assert.equal(await aborted, false);
    });
  });

  describe('managers to try', () => {
    it('moves past a manager that failed, and wraps around', () => {
      const m = new ManagerList(['a:1', 'b:1', 'a:1']);
      assert.deepEqual(m.list(), ['a:1', 'b:1']);
      assert.equal(m.current(), 'a:1');
      m.failed('a:1');
      assert.equal(m.current(), 'b:1');
      m.failed('a:1'); // an old failure report does not skip the next manager
      assert.equal(m.current(), 'b:1');
      m.failed('b:1');
      assert.equal(m.current(), 'a:1');
    });

    it('takes the list a session message carries, heaviest first, staying on the connected manager, and keeps the others it knew last', () => {
      const m = new ManagerList(['seed:1']);
      m.update([{ nodeId: 'x', addr: 'x:1', weight: 1 }, { nodeId: 'l', addr: 'l:1', weight: 10 }], 'seed:1');
      assert.deepEqual(m.list(), ['l:1', 'x:1', 'seed:1']);
      assert.equal(m.current(), 'seed:1');
      m.update([{ nodeId: 'x', addr: 'x:1', weight: 1 }, { nodeId: 'l', addr: 'l:1', weight: 10 }], 'x:1');
      assert.equal(m.current(), 'x:1');
      m.update([], 'x:1');
      assert.deepEqual(m.list(), ['l:1', 'x:1', 'seed:1'], 'an empty list keeps what is known');
      // A manager down for a while drops out of the messages but stays last: after a failover it may be the one left.
      m.update([{ nodeId: 'l', addr: 'l:1', weight: 10 }], 'l:1');
      assert.deepEqual(m.list(), ['l:1', 'x:1', 'seed:1']);
      m.failed('l:1');
      assert.equal(m.current(), 'x:1');
      assert.throws(() => new ManagerList([]), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT'));
    });

    it('backs off exponentially up to a cap, with jitter in the upper half', () => {
      const o = { initialMs: 100, maxMs: 1000 };
      assert.equal(backoffMs(0, o), 0);
      assert.deepEqual([1, 2, 3, 4, 5, 9].map((f) => backoffMs(f, o, () => 1)), [100, 200, 400, 800, 1000, 1000]);
      assert.deepEqual([1, 5].map((f) => backoffMs(f, o, () => 0)), [50, 500]);
    });
  });

  describe('decoding assignments', () => {
    const t = (id: string) => JSON.stringify({ ID: id, Spec: {}, Status: { State: 'assigned' }, DesiredState: 'running', ServiceID: 's' });
    it('a COMPLETE set gives the tasks and their dependencies', () => {
      const got = decodeComplete({ changes: [{ action: 'UPDATE', network: JSON.stringify({ ID: 'n1' }) }, { action: 'UPDATE', task: t('t1'), item: 'task' }, { action: 'UPDATE', secret: JSON.stringify({ ID: 's1' }) }] });
      assert.deepEqual(got.tasks.map((x) => x.ID), ['t1']);
      assert.deepEqual(got.dependencies, { networks: [{ ID: 'n1' }], secrets: [{ ID: 's1' }], configs: [] });
      assert.throws(() => decodeComplete({ changes: [{ action: 'REMOVE', task: '{"ID":"x"}' }] }), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT'));
    });

    it('changes split into updated and removed tasks and dependencies', () => {
      const got = decodeChanges({ changes: [{ action: 'UPDATE', task: t('t2') }, { action: 'REMOVE', task: '{"ID":"t1"}' }, { action: 'REMOVE', config: '{"ID":"c1"}' }] });
      assert.deepEqual(got.updated.map((x) => x.ID), ['t2']);
      assert.deepEqual(got.removed, ['t1']);
      assert.deepEqual(got.dependencies.removed, { networks: [], secrets: [], configs: ['c1'] });
    });

    it('a change without an object, or an object without an ID, is a protocol error', () => {
      assert.throws(() => decodeChanges({ changes: [{ action: 'UPDATE' }] }), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && /change 0 carries no task/.test(e.message));
      assert.throws(() => decodeChanges({ changes: [{ action: 'UPDATE', task: '{}' }] }), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && /has no ID/.test(e.message));
    });
  });
});
