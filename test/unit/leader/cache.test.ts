import { strict as assert } from 'node:assert';
import { ObjectCache, type Change } from '../../../manager/leader';
import type { Task } from '../../../shared/swarm';

function task(id: string, version: number, over: Partial<Task> = {}): Task {
  return { ID: id, Version: { Index: version }, ServiceID: 's1', Spec: {}, Status: { State: 'new' }, DesiredState: 'running', ...over };
}

describe('leader/ObjectCache', () => {
  it('ignores watch events older than what it holds (its own commits arrive first)', () => {
    const c = new ObjectCache(['tasks']);
    assert.ok(c.put('tasks', task('t1', 12, { Status: { State: 'pending' } })));
    const stale = c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 10), created: true, revision: 10 });
    assert.equal(stale, undefined);
    const echo = c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 12, { Status: { State: 'pending' } }), created: false, revision: 12 });
    assert.equal(echo, undefined, 'the echo of its own write is no news');
    const news = c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 13, { Status: { State: 'assigned' } }), created: false, revision: 13 });
    assert.equal((news?.after as Task).Status.State, 'assigned');
    assert.equal(c.get<Task>('tasks', 't1')?.Version?.Index, 13);
  });

  it('keeps a tombstone for its own delete until the watch passes it', () => {
    const c = new ObjectCache(['tasks']);
    c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 5), created: true, revision: 5 });
    c.remove('tasks', 't1', 9);
    assert.equal(c.get('tasks', 't1'), undefined);
    // A put from before the delete, delivered late by the watch, must not bring it back.
    assert.equal(c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 7), created: false, revision: 7 }), undefined);
    assert.equal(c.get('tasks', 't1'), undefined);
    assert.equal(c.applyEvent({ kind: 'tasks', type: 'delete', id: 't1', revision: 9 }), undefined);
    // Past the tombstone, the ID can be created again.
    const again = c.applyEvent({ kind: 'tasks', type: 'put', id: 't1', object: task('t1', 11), created: true, revision: 11 });
    assert.ok(again?.after);
  });

  it('indexes tasks by service and node through every change', () => {
    const c = new ObjectCache(['tasks']);
    c.put('tasks', task('a', 1, { ServiceID: 's1' }));
    c.put('tasks', task('b', 2, { ServiceID: 's1', NodeID: 'n1' }));
    c.put('tasks', task('c', 3, { ServiceID: 's2', NodeID: 'n1' }));
    c.put('tasks', task('a', 4, { ServiceID: 's1', NodeID: 'n2' }));
    c.remove('tasks', 'b', 5);
    assert.deepEqual([...c.tasksOfService('s1')].map((t) => t.ID), ['a']);
    assert.deepEqual([...c.tasksOnNode('n1')].map((t) => t.ID), ['c']);
    assert.deepEqual([...c.tasksOnNode('n2')].map((t) => t.ID), ['a']);
    assert.deepEqual([...c.serviceIdsWithTasks()].sort(), ['s1', 's2']);
  });

  it('reset() replaces the contents and reports only what differs', () => {
    const c = new ObjectCache(['tasks', 'nodes']);
    c.put('tasks', task('keep', 1));
    c.put('tasks', task('gone', 2));
    c.put('tasks', task('moved', 3));
    const heard: Change[] = [];
    c.onChange((ch) => heard.push(ch));
    const changes = c.reset({ tasks: [task('keep', 1), task('moved', 6), task('new', 7)], nodes: [{ ID: 'n1', Version: { Index: 4 } }] }, 8);
    const summary = changes.map((ch) => `${ch.kind}/${ch.id}:${ch.before ? 'was' : 'new'}:${ch.after ? 'is' : 'gone'}`).sort();
    assert.deepEqual(summary, ['nodes/n1:new:is', 'tasks/gone:was:gone', 'tasks/moved:was:is', 'tasks/new:new:is']);
    assert.equal(heard.length, 4, 'listeners hear each change');
    assert.equal(c.count('tasks'), 3);
    assert.equal(c.revision, 8);
  });

  it('reset() keeps what the loop wrote after the snapshot was read', () => {
    const c = new ObjectCache(['tasks']);
    c.put('tasks', task('old', 3));
    c.put('tasks', task('created-later', 12));
    c.put('tasks', task('updated-later', 11, { DesiredState: 'shutdown' }));
    c.put('tasks', task('deleted-later', 4));
    c.remove('tasks', 'deleted-later', 13);
    const changes = c.reset({ tasks: [task('old', 3), task('updated-later', 6), task('deleted-later', 4)] }, 10);
    assert.deepEqual(changes, []);
    assert.equal(c.get<Task>('tasks', 'created-later')?.Version?.Index, 12);
    assert.equal(c.get<Task>('tasks', 'updated-later')?.DesiredState, 'shutdown');
    assert.equal(c.get('tasks', 'deleted-later'), undefined);
  });

  it('shares one spec object among tasks and their service template with equal specs, and lets it go with them', () => {
    const c = new ObjectCache(['tasks', 'services']);
    const spec = () => ({ ContainerSpec: { Image: 'busybox:1', Env: ['A=1'] } });
    const given = task('t1', 1, { Spec: spec() });
    c.put('tasks', given);
    c.put('tasks', task('t2', 2, { Spec: spec() }));
    c.put('tasks', task('t3', 3, { Spec: { ContainerSpec: { Image: 'busybox:2' } } }));
    c.put('services', { ID: 's1', Version: { Index: 4 }, Spec: { Name: 'web', TaskTemplate: spec() } } as never);
    const t1 = c.get<Task>('tasks', 't1')!;
    assert.equal(t1.Spec, c.get<Task>('tasks', 't2')!.Spec);
    assert.equal(t1.Spec, c.get<{ Spec: { TaskTemplate: unknown } } & { ID: string }>('services', 's1')!.Spec.TaskTemplate);
    assert.notEqual(given, t1, 'the given object is not changed');
    assert.deepEqual(t1.Spec, spec());
    assert.equal(c.sharedSpecs, 2);
    c.remove('tasks', 't3', 5);
    assert.equal(c.sharedSpecs, 1);
    c.remove('tasks', 't1', 6);
    c.remove('tasks', 't2', 7);
    c.remove('services', 's1', 8);
    assert.equal(c.sharedSpecs, 0);
  });

  it('ignores events of kinds it does not hold, but follows their revision', () => {
    const c = new ObjectCache(['nodes']);
    assert.equal(c.applyEvent({ kind: 'tasks', type: 'put', id: 't', object: task('t', 3), created: true, revision: 3 }), undefined);
    assert.equal(c.count('tasks'), 0);
    assert.equal(c.revision, 3);
  });
});
