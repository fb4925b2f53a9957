import { strict as assert } from 'node:assert';
import { ObjectCache, chunked, commitOps } from '../../../manager/leader';
import { MemoryStore, type BatchOp, type ClusterStore, type BatchOptions } from '../../../manager/store';
import type { Task } from '../../../shared/swarm';

function task(id: string, over: Partial<Task> = {}): Task {
  return { ID: id, ServiceID: 's1', Spec: {}, Status: { State: 'new' }, DesiredState: 'running', ...over };
}

/** Records the batches a store receives. */
function recording(store: ClusterStore): { store: ClusterStore; batches: Array<{ size: number; atomic?: boolean }> } {
  const batches: Array<{ size: number; atomic?: boolean }> = [];
  const proxy = Object.create(store) as ClusterStore;
  proxy.batch = (ops: BatchOp[], opts?: BatchOptions) => {
    batches.push({ size: ops.length, atomic: opts?.atomic });
    return store.batch(ops, opts);
  };
  return { store: proxy, batches };
}

describe('leader/commit', () => {
  it('chunked() splits into consecutive parts of at most n', () => {
    assert.deepEqual(chunked([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunked([], 3), []);
    assert.throws(() => chunked([1], 0), /at least 1/);
  });

  it('commits in non-atomic chunks, applies results to the cache, and reports stale ops apart', async () => {
    const mem = new MemoryStore();
    const { store, batches } = recording(mem);
    const a = await mem.create<Task>('tasks', task('a'));
    const b = await mem.create<Task>('tasks', task('b'));
    await mem.update<Task>('tasks', { ...b, DesiredState: 'shutdown' }); // b's version moves on
    const cache = new ObjectCache(['tasks']);
    const ops: BatchOp[] = [
      { op: 'update', kind: 'tasks', object: { ...a, Status: { State: 'pending' } } as Task },
      { op: 'update', kind: 'tasks', object: { ...b, Status: { State: 'pending' } } as Task }, // stale version
      { op: 'create', kind: 'tasks', object: task('c') },
      { op: 'delete', kind: 'tasks', id: 'nope' },
      { op: 'create', kind: 'tasks', object: task('d') },
    ];
    const out = await commitOps(store, ops, cache, 2);
    assert.deepEqual(batches, [{ size: 2, atomic: false }, { size: 2, atomic: false }, { size: 1, atomic: false }]);
    assert.equal(out.committed, 3);
    assert.deepEqual(out.stale.map((s) => s.error.message.split(':')[0]).sort(), ['task nope not found', 'update out of sequence']);
    assert.equal(out.failed.length, 0);
    assert.equal(cache.get<Task>('tasks', 'a')?.Status.State, 'pending');
    assert.equal(cache.get<Task>('tasks', 'b'), undefined, 'a failed write does not reach the cache');
    assert.equal(cache.get<Task>('tasks', 'c')?.Version?.Index, (await mem.get<Task>('tasks', 'c'))?.Version?.Index);
  });
});
