import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import type { TaskState } from '../../../shared/swarm';
import { StatusQueue } from '../../../worker/agent/tasks';

const st = (State: TaskState, Message = State) => ({ State, Message });

describe('agent/tasks StatusQueue', () => {
  it('keeps only the latest status per task in a batch', async () => {
    const q = new StatusQueue();
    q.put('a', st('accepted'));
    q.put('a', st('preparing'));
    q.put('b', st('accepted'));
    q.put('a', st('ready'));
    const b = await q.next();
    assert.deepEqual(b.updates, [
      { taskId: 'a', status: st('ready') },
      { taskId: 'b', status: st('accepted') },
    ]);
    b.ack();
    assert.equal(q.size, 0);
  });

  it('keeps unacknowledged reports and sends them again after nack, with newer ones', async () => {
    const q = new StatusQueue();
    q.put('a', st('running'));
    q.put('b', st('running'));
    const first = await q.next();
    q.put('b', st('complete'));
    first.nack(); // the manager was unreachable
    const second = await q.next();
    assert.deepEqual(second.updates, [
      { taskId: 'a', status: st('running') },
      { taskId: 'b', status: st('complete') },
    ]);
    first.ack(); // a late ack of the old batch must not drop the newer status of b
    assert.deepEqual(q.snapshot(), [{ taskId: 'b', status: st('complete') }]);
    second.ack();
    assert.equal(q.size, 0);
  });

  it('waits for something new; a handed-out batch alone does not wake it', async () => {
    const q = new StatusQueue();
    q.put('a', st('running'));
    await q.next(); // neither acked nor nacked: in flight
    let got: string[] | undefined;
    const waiting = q.next().then((b) => (got = b.updates.map((u) => `${u.taskId}:${u.status.State}`)));
    await new Promise((r) => setImmediate(r));
    assert.equal(got, undefined);
    q.put('c', st('failed'));
    await waiting;
    assert.deepEqual(got, ['a:running', 'c:failed']);
  });

  it('drops a task and stops waiting when the signal aborts', async () => {
    const q = new StatusQueue();
    q.put('a', st('running'));
    q.drop('a');
    assert.equal(q.size, 0);
    const ac = new AbortController();
    const waiting = q.next(ac.signal);
    ac.abort();
    await assert.rejects(waiting, (e: unknown) => isShoalError(e, 'CANCELLED'));
    const seen: number[] = [];
    const ac2 = new AbortController();
    q.put('x', st('running'));
    for await (const b of q.batches(ac2.signal)) {
      seen.push(b.updates.length);
      b.ack();
      ac2.abort();
    }
    assert.deepEqual(seen, [1]);
  });
});
