import assert from 'node:assert/strict';
import { NodeInfoSet, type TaskView } from '../../../manager/scheduler';
import { node, task, CPU, GiB } from './fixtures';

const on = (id: string, nodeId: string, extra: Partial<TaskView> & { cpus?: number; hostPorts?: string[] } = {}): TaskView => {
  const { cpus, hostPorts, ...rest } = extra;
  return { ...task(id, { node: nodeId, cpus, memory: GiB, hostPorts }), ...rest };
};

describe('scheduler node info', () => {
  it('starts from the node resources and counts held tasks', () => {
    const set = new NodeInfoSet([node('a'), node('b')], [on('t1', 'a', { cpus: 1 }), on('t2', 'a', { cpus: 2, ServiceID: 'other' }), on('t3', 'b')]);
    const a = set.get('a')!;
    assert.equal(a.available.nanoCPUs, 1 * CPU);
    assert.equal(a.available.memoryBytes, 6 * GiB);
    assert.equal(a.activeTasksCount, 2);
    assert.equal(a.serviceTasks('svc'), 1);
    assert.equal(a.serviceTasks('other'), 1);
    assert.deepEqual([...a.tasks.keys()], ['t1', 't2']);
    assert.equal(set.get('b')!.activeTasksCount, 1);
  });

  // Each row: the task's versions applied in order, then node a's free CPUs, active count, svc count, ports.
  const lifecycles: Array<{ name: string; versions: Array<Partial<TaskView>>; cpus: number; active: number; ports: string[] }> = [
    { name: 'assigned holds', versions: [{ Status: { State: 'assigned' } }], cpus: 2, active: 1, ports: ['tcp/80'] },
    { name: 'running holds', versions: [{ Status: { State: 'assigned' } }, { Status: { State: 'running' } }], cpus: 2, active: 1, ports: ['tcp/80'] },
    { name: 'a finished task frees everything', versions: [{ Status: { State: 'running' } }, { Status: { State: 'complete' } }], cpus: 4, active: 0, ports: [] },
    { name: 'a failed task frees everything', versions: [{ Status: { State: 'starting' } }, { Status: { State: 'failed' } }], cpus: 4, active: 0, ports: [] },
    {
      name: 'desired shutdown stops counting but keeps resources until it stops',
      versions: [{ Status: { State: 'running' } }, { Status: { State: 'running' }, DesiredState: 'shutdown' }],
      cpus: 2, active: 0, ports: ['tcp/80'],
    },
    {
      name: 'then stopping frees the resources',
      versions: [{ Status: { State: 'running' } }, { Status: { State: 'running' }, DesiredState: 'shutdown' }, { Status: { State: 'shutdown' }, DesiredState: 'shutdown' }],
      cpus: 4, active: 0, ports: [],
    },
    { name: 'pending on a node does not hold it yet', versions: [{ Status: { State: 'pending' } }], cpus: 4, active: 0, ports: [] },
    { name: 'applying the same version twice counts once', versions: [{ Status: { State: 'running' } }, { Status: { State: 'running' } }], cpus: 2, active: 1, ports: ['tcp/80'] },
    { name: 'a task sent back to pending lets go', versions: [{ Status: { State: 'assigned' } }, { NodeID: '', Status: { State: 'pending' } }], cpus: 4, active: 0, ports: [] },
  ];
  for (const c of lifecycles) {
    it(c.name, () => {
      const set = new NodeInfoSet([node('a')]);
      for (const v of c.versions) set.applyTask(on('t', 'a', { cpus: 2, hostPorts: ['80'], ...v }));
      const a = set.get('a')!;
      assert.deepEqual([a.available.nanoCPUs / CPU, a.activeTasksCount, a.serviceTasks('svc'), a.usedHostPorts], [c.cpus, c.active, c.active, c.ports]);
    });
  }

  it('moves a task that changes node', () => {
    const set = new NodeInfoSet([node('a'), node('b')], [on('t', 'a', { cpus: 3 })]);
    set.applyTask(on('t', 'b', { cpus: 3 }));
    assert.equal(set.get('a')!.available.nanoCPUs, 4 * CPU);
    assert.equal(set.get('a')!.activeTasksCount, 0);
    assert.equal(set.get('b')!.available.nanoCPUs, 1 * CPU);
  });

  it('removeTask frees the node (an assignment that did not commit)', () => {
    const set = new NodeInfoSet([node('a')], [on('t', 'a', { cpus: 3, hostPorts: ['443'] })]);
    set.removeTask('t');
    set.removeTask('t');
    set.removeTask('never-seen');
    const a = set.get('a')!;
    assert.deepEqual([a.available.nanoCPUs, a.activeTasksCount, a.tasks.size, a.hostPortUsed('tcp/443')], [4 * CPU, 0, 0, false]);
  });

  it('keeps tasks of a node it does not know yet and counts them when the node arrives', () => {
    const set = new NodeInfoSet([], [on('t1', 'late', { cpus: 1 }), on('t2', 'late', { cpus: 1 })]);
    set.removeTask('t2');
    const late = set.upsertNode(node('late'));
    assert.equal(late.available.nanoCPUs, 3 * CPU);
    assert.deepEqual([...late.tasks.keys()], ['t1']);
  });

  it('keeps a removed node\'s tasks in case it returns', () => {
    const set = new NodeInfoSet([node('a')], [on('t', 'a', { cpus: 1 })]);
    set.removeNode('a');
    assert.equal(set.get('a'), undefined);
    assert.equal(set.size, 0);
    assert.equal(set.upsertNode(node('a')).available.nanoCPUs, 3 * CPU);
  });

  it('recomputes free resources when a node reports new totals', () => {
    const set = new NodeInfoSet([node('a', { cpus: 4 })], [on('t', 'a', { cpus: 1 })]);
    set.upsertNode(node('a', { cpus: 8, availability: 'drain' }));
    const a = set.get('a')!;
    assert.equal(a.available.nanoCPUs, 7 * CPU);
    assert.equal(a.node.Spec?.Availability, 'drain');
    assert.equal(a.activeTasksCount, 1);
  });

  it('tracks generic resources per kind', () => {
    const set = new NodeInfoSet([node('a', { generic: { gpu: 4 } })]);
    set.applyTask({ ...task('t', { node: 'a', generic: { gpu: 3 } }) });
    assert.equal(set.get('a')!.available.generic.get('gpu'), 1);
    set.removeTask('t');
    assert.equal(set.get('a')!.available.generic.get('gpu'), 4);
  });

  it('totals each service over the nodes it knows', () => {
    const set = new NodeInfoSet([node('a'), node('b')], [on('t1', 'a'), on('t2', 'b'), on('t3', 'b', { ServiceID: 'web' }), on('t4', 'nowhere')]);
    assert.deepEqual([set.serviceTasks('svc'), set.serviceTasks('web'), set.serviceTasks('none')], [2, 1, 0]);
    set.applyTask(on('t1', 'a', { DesiredState: 'shutdown' }));
    set.removeNode('b');
    assert.deepEqual([set.serviceTasks('svc'), set.serviceTasks('web')], [0, 0]);
    set.upsertNode(node('nowhere'));
    set.upsertNode(node('b'));
    assert.deepEqual([set.serviceTasks('svc'), set.serviceTasks('web')], [2, 1]);
  });

  it('lists nodes by ID whatever order they came in', () => {
    const set = new NodeInfoSet([node('c'), node('a'), node('b')]);
    assert.deepEqual(set.all().map((n) => n.id), ['a', 'b', 'c']);
    set.upsertNode(node('0'));
    set.removeNode('b');
    assert.deepEqual(set.all().map((n) => n.id), ['0', 'a', 'c']);
  });
});
