import assert from 'node:assert/strict';
import { httpStatus } from '../../../shared/errors';
import { pickByRef, resolveRef, findService, findNode, findTask } from '../../../manager/api';
import type { ControlContext } from '../../../manager/api';
import { MemoryStore } from '../../../manager/store';
import type { Service } from '../../../shared/swarm';
import { node, service, task } from './fixtures';

const byName = (s: { Spec: { Name?: string } }) => [s.Spec.Name];

describe('control API name and prefix resolution', () => {
  const items = [service('abc111', 'web'), service('abc222', 'api'), service('xyz', 'abc111x')];

  it('full ID first, then exact name, then a unique ID prefix', () => {
    assert.equal(pickByRef(items, 'abc222', 'service', byName).ID, 'abc222');
    assert.equal(pickByRef(items, 'api', 'service', byName).ID, 'abc222');
    assert.equal(pickByRef(items, 'x', 'service', byName).ID, 'xyz');
    assert.equal(pickByRef(items, 'abc1', 'service', byName).ID, 'abc111');
  });

  it('a name wins over an ID prefix; an ID over a name', () => {
    const clash = [service('web1', 'other'), service('zzz', 'web')];
    assert.equal(pickByRef(clash, 'web', 'service', byName).ID, 'zzz');
    const idName = [service('web', 'one'), service('qqq', 'web')];
    assert.equal(pickByRef(idName, 'web', 'service', byName).ID, 'web');
  });

  it('not found is 404 and ambiguity 400, with dockerd\'s words', () => {
    assert.throws(() => pickByRef(items, 'nope', 'service', byName), (e: unknown) => httpStatus(e) === 404 && (e as Error).message === 'service nope not found');
    assert.throws(() => pickByRef(items, 'abc', 'service', byName), (e: unknown) => httpStatus(e) === 400 && (e as Error).message === 'service abc is ambiguous (2 matches found)');
  });

  describe('against a store', () => {
    let store: MemoryStore;
    let c: ControlContext;
    before(async () => {
      store = new MemoryStore();
      c = { store } as unknown as ControlContext;
      const web = await store.create('services', service('svcweb01', 'web'));
      await store.create('nodes', node('nodeaaa1', 'alpha'));
      await store.create('tasks', task('taskzz1', web as never, { slot: 3, node: 'nodeaaa1' }));
    });
    after(() => store.close());

    it('finds services, nodes (by hostname) and tasks (by svc.slot.id)', async () => {
      assert.equal((await findService(c, 'web')).ID, 'svcweb01');
      assert.equal((await findService(c, 'svcw')).ID, 'svcweb01');
      assert.equal((await findNode(c, 'alpha')).ID, 'nodeaaa1');
      assert.equal((await findTask(c, 'web.3.taskzz1')).ID, 'taskzz1');
      assert.equal((await findTask(c, 'taskz')).ID, 'taskzz1');
    });

    it('input no ID could be (a slash) is looked up by name, not refused as an ID', async () => {
      await assert.rejects(resolveRef<Service>(store, 'services', 'a/b', 'service', () => byName), (e: unknown) => httpStatus(e) === 404);
    });
  });
});
