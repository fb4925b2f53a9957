import assert from 'node:assert/strict';
import { planReplicated, type PlanAction } from '../../../manager/orchestrator/plan';
import type { Cluster, Node, Service, Task } from '../../../shared/swarm';
import { SEC, T0, NS, Sim, cluster, created, ids, node, replicated, summary, task } from './fixtures';

interface Case {
  name: string;
  svc: Service;
  tasks: (svc: Service) => Task[];
  nodes?: Node[];
  cluster?: Pick<Cluster, 'Spec'>;
  want: string[];
}

const nodes3 = [node('n1'), node('n2'), node('n3')];
const web3 = replicated(3);
const oldSpec = { ...replicated(3).Spec.TaskTemplate!, ContainerSpec: { Image: 'busybox:old' } };

function plan(c: Omit<Case, 'name' | 'want'>): PlanAction[] {
  return planReplicated({ service: c.svc, tasks: c.tasks(c.svc), nodes: c.nodes ?? nodes3, cluster: c.cluster, now: T0, newId: ids() }).actions;
}

function table(cases: Case[]) {
  for (const c of cases) it(c.name, () => assert.deepEqual(summary(plan(c)), [...c.want].sort()));
}

describe('replicated planner: scaling', () => {
  table([
    { name: 'creates slots 1..N for a new service', svc: web3, tasks: () => [], want: ['create s1', 'create s2', 'create s3'] },
    {
      name: 'does nothing when every slot runs',
      svc: web3,
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'b', { slot: 2, node: 'n2' }), task(s, 'c', { slot: 3, node: 'n3' })],
      want: [],
    },
    {
      name: 'fills the lowest free slot numbers when scaling up',
      svc: replicated(4),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'c', { slot: 3, node: 'n3' })],
      want: ['create s2', 'create s4'],
    },
    {
      name: 'scales down from the most crowded node first (desired REMOVE)',
      svc: replicated(2),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'b', { slot: 2, node: 'n1' }), task(s, 'c', { slot: 3, node: 'n2' }), task(s, 'd', { slot: 4, node: 'n1' })],
      want: ['remove b', 'remove d'],
    },
    {
      name: 'scales down tasks that are not running before running ones',
      svc: replicated(2),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'b', { slot: 2, node: 'n2', state: 'preparing' }), task(s, 'c', { slot: 3, node: 'n3' })],
      want: ['remove b'],
    },
    {
      name: 'scales down unscheduled tasks first of all',
      svc: replicated(2),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'b', { slot: 2, node: 'n1' }), task(s, 'p', { slot: 3, state: 'pending' })],
      want: ['delete p'],
    },
    {
      name: 'scaling to zero removes running tasks and deletes their dead history',
      svc: replicated(0),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'old', { slot: 1, node: 'n1', state: 'failed', desired: 'shutdown', created: T0 - 900 * SEC })],
      want: ['remove a', 'delete old'],
    },
    {
      name: 'a removed slot (desired REMOVE) does not count; its stopped tasks are deleted',
      svc: replicated(1),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'gone', { slot: 2, node: 'n2', desired: 'remove', state: 'shutdown' }), task(s, 'going', { slot: 3, node: 'n2', desired: 'remove' })],
      want: ['delete gone'],
    },
    {
      name: 'a removed slot number is reused when scaling up again',
      svc: replicated(2),
      tasks: (s) => [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'going', { slot: 2, node: 'n2', desired: 'remove' })],
      want: ['create s2'],
    },
  ]);

  it('creates full tasks: desired running, state new, spec copied, cluster log driver default', () => {
    const svc = replicated(1);
    const actions = planReplicated({
      service: svc,
      tasks: [],
      nodes: nodes3,
      cluster: { Spec: { TaskDefaults: { LogDriver: { Name: 'json-file' } } } },
      now: T0,
      newId: ids('t'),
    }).actions;
    const [t] = created(actions);
    assert.deepEqual(t, {
      ID: 't1',
      CreatedAt: new Date(T0).toISOString(),
      UpdatedAt: new Date(T0).toISOString(),
      ServiceID: 'svc',
      Slot: 1,
      Spec: { ...svc.Spec.TaskTemplate, LogDriver: { Name: 'json-file' } },
      Status: { State: 'new', Timestamp: new Date(T0).toISOString(), Message: 'created' },
      DesiredState: 'running',
      // The worker names the container and publishes host ports from these copies.
      ServiceAnnotations: { Name: svc.Spec.Name, Labels: {} },
      Endpoint: { Spec: svc.Spec.EndpointSpec },
    });
    assert.notEqual(t.Spec.ContainerSpec, svc.Spec.TaskTemplate!.ContainerSpec, 'the spec is a copy');
  });

  it('gives setDesired and delete the version they were read at', () => {
    const actions = plan({ svc: replicated(0), tasks: (s) => [task(s, 'a', { node: 'n1' })] });
    assert.deepEqual(actions, [{ type: 'setDesired', taskId: 'a', desired: 'remove', version: 100, reason: 'scaled down to 0' }]);
  });
});

describe('replicated planner: restart policy', () => {
  const withPolicy = (policy: Record<string, unknown>) => replicated(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: policy } });
  const failedAt = (s: Service, id: string, ago: number, o: Partial<Parameters<typeof task>[2]> = {}) =>
    task(s, id, { node: 'n1', state: 'failed', created: T0 - ago - 60 * SEC, since: T0 - ago, ...o });
  table([
    { name: 'any: a failed task is replaced once the 5s default delay has passed', svc: web3, tasks: (s) => [...twoRunning(s), failedAt(s, 'f', 10 * SEC, { slot: 3 })], want: ['shutdown f', 'create s3'] },
    { name: 'any: a completed task is replaced too', svc: withPolicy({ Condition: 'any' }), tasks: (s) => [failedAt(s, 'c', 10 * SEC, { state: 'complete' })], want: ['shutdown c', 'create s1'] },
    { name: 'delay: within the delay the slot waits and asks to be woken', svc: web3, tasks: (s) => [...twoRunning(s), failedAt(s, 'f', 2 * SEC, { slot: 3 })], want: ['shutdown f', 'wake +3s'] },
    { name: 'delay: a retired task still inside its delay only waits', svc: web3, tasks: (s) => [...twoRunning(s), failedAt(s, 'f', 2 * SEC, { slot: 3, desired: 'shutdown' })], want: ['wake +3s'] },
    { name: 'delay: a custom delay of 30s', svc: withPolicy({ Delay: 30 * NS }), tasks: (s) => [failedAt(s, 'f', 10 * SEC)], want: ['shutdown f', 'wake +20s'] },
    { name: 'none: a failed task is retired and not replaced', svc: withPolicy({ Condition: 'none' }), tasks: (s) => [failedAt(s, 'f', 10 * SEC)], want: ['shutdown f'] },
    { name: 'none: the retired task keeps its slot occupied (no new task on the next plan)', svc: withPolicy({ Condition: 'none' }), tasks: (s) => [failedAt(s, 'f', 10 * SEC, { desired: 'shutdown' })], want: [] },
    { name: 'on-failure: a completed task is not restarted', svc: withPolicy({ Condition: 'on-failure' }), tasks: (s) => [failedAt(s, 'c', 10 * SEC, { state: 'complete' })], want: ['shutdown c'] },
    { name: 'on-failure: a failed task is restarted', svc: withPolicy({ Condition: 'on-failure' }), tasks: (s) => [failedAt(s, 'f', 10 * SEC)], want: ['shutdown f', 'create s1'] },
    { name: 'on-failure: a rejected task is restarted', svc: withPolicy({ Condition: 'on-failure' }), tasks: (s) => [failedAt(s, 'r', 10 * SEC, { state: 'rejected' })], want: ['shutdown r', 'create s1'] },
    {
      name: 'max attempts: restarts while fewer than MaxAttempts restarts happened',
      svc: withPolicy({ MaxAttempts: 2 }),
      tasks: (s) => [failedAt(s, 'f1', 100 * SEC, { desired: 'shutdown' }), failedAt(s, 'f2', 10 * SEC)],
      want: ['shutdown f2', 'create s1'],
    },
    {
      name: 'max attempts: gives up after MaxAttempts restarts',
      svc: withPolicy({ MaxAttempts: 2 }),
      tasks: (s) => [failedAt(s, 'f1', 200 * SEC, { desired: 'shutdown' }), failedAt(s, 'f2', 100 * SEC, { desired: 'shutdown' }), failedAt(s, 'f3', 10 * SEC)],
      want: ['shutdown f3'],
    },
    {
      name: 'max attempts: restarts outside the window do not count',
      svc: withPolicy({ MaxAttempts: 1, Window: 60 * NS }),
      tasks: (s) => [failedAt(s, 'f1', 120 * SEC, { desired: 'shutdown' }), failedAt(s, 'f2', 10 * SEC)],
      want: ['shutdown f2', 'create s1'],
    },
    {
      name: 'max attempts: restarts inside the window count',
      svc: withPolicy({ MaxAttempts: 1, Window: 60 * NS }),
      tasks: (s) => [failedAt(s, 'f1', 40 * SEC, { desired: 'shutdown' }), failedAt(s, 'f2', 10 * SEC)],
      want: ['shutdown f2'],
    },
    {
      name: 'max attempts: failures of an older spec do not count (the service was updated)',
      svc: withPolicy({ MaxAttempts: 1 }),
      tasks: (s) => [failedAt(s, 'f1', 40 * SEC, { desired: 'shutdown', spec: oldSpec }), failedAt(s, 'f2', 10 * SEC)],
      want: ['shutdown f2', 'create s1'],
    },
  ]);

  it('a slot that gave up stays given up on later plans, even after the window has passed', () => {
    const svc = withPolicy({ MaxAttempts: 1, Window: 60 * NS });
    const tasks = [failedAt(svc, 'f1', 40 * SEC, { desired: 'shutdown' }), failedAt(svc, 'f2', 10 * SEC, { desired: 'shutdown' })];
    const later = planReplicated({ service: svc, tasks, nodes: nodes3, now: T0 + 3600 * SEC, newId: ids() }).actions;
    assert.deepEqual(later, []);
  });

  it('the restarted task gets the service spec of now, not the failed task spec', () => {
    const svc = replicated(1);
    const [t] = created(plan({ svc, tasks: (s) => [failedAt(s, 'f', 10 * SEC, { spec: oldSpec })] }));
    assert.equal(t.Spec.ContainerSpec?.Image, 'busybox');
  });
});

function twoRunning(s: Service): Task[] {
  return [task(s, 'a', { slot: 1, node: 'n1' }), task(s, 'b', { slot: 2, node: 'n2' })];
}

describe('replicated planner: nodes', () => {
  table([
    { name: 'a task on a down node is replaced in its slot at once', svc: web3, nodes: [node('n1'), node('n2'), node('n3', { state: 'down' })], tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3' })], want: ['shutdown c', 'create s3'] },
    { name: 'a task on a node that left the swarm is replaced', svc: web3, nodes: [node('n1'), node('n2')], tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3' })], want: ['shutdown c', 'create s3'] },
    {
      name: 'when the node comes back its stale task is not counted (replicas stay at N)',
      svc: web3,
      tasks: (s) => [...twoRunning(s), task(s, 'stale', { slot: 3, node: 'n3', desired: 'shutdown', created: T0 - 900 * SEC }), task(s, 'c2', { slot: 3, node: 'n1' })],
      want: [],
    },
    {
      name: 'a lost replacement is recreated: the old task on the down node is still retired',
      svc: web3,
      nodes: [node('n1'), node('n2'), node('n3', { state: 'down' })],
      tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3', desired: 'shutdown' })],
      want: ['create s3'],
    },
    { name: 'a drained node loses its task to a replacement without restart delay', svc: web3, nodes: [node('n1'), node('n2'), node('n3', { availability: 'drain' })], tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3' })], want: ['shutdown c', 'create s3'] },
    {
      name: 'a task that failed on a drained node restarts without the delay',
      svc: replicated(1),
      nodes: [node('n1', { availability: 'drain' })],
      tasks: (s) => [task(s, 'f', { node: 'n1', state: 'failed', since: T0 - SEC })],
      want: ['shutdown f', 'create s1'],
    },
    {
      name: 'a task whose node no longer satisfies its constraints is replaced elsewhere',
      svc: replicated(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.zone==east'] } } }),
      nodes: [node('n1', { labels: { zone: 'west' } }), node('n2', { labels: { zone: 'east' } })],
      tasks: (s) => [task(s, 'a', { node: 'n1' })],
      want: ['shutdown a', 'create s1'],
    },
    { name: 'a paused node keeps its task', svc: web3, nodes: [node('n1'), node('n2'), node('n3', { availability: 'pause' })], tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3' })], want: [] },
    { name: 'a node whose state is unknown (after a manager restart) keeps its task', svc: web3, nodes: [node('n1'), node('n2'), node('n3', { state: 'unknown' })], tasks: (s) => [...twoRunning(s), task(s, 'c', { slot: 3, node: 'n3' })], want: [] },
  ]);
});

describe('replicated planner: slots in transition', () => {
  table([
    { name: 'stop-first: the successor waits while the old task is stopping', svc: replicated(1), tasks: (s) => [task(s, 'old', { node: 'n1', desired: 'shutdown', spec: oldSpec })], want: [] },
    { name: 'stop-first: the successor is created once the old task has stopped', svc: replicated(1), tasks: (s) => [task(s, 'old', { node: 'n1', desired: 'shutdown', state: 'shutdown', spec: oldSpec })], want: ['create s1'] },
    { name: 'a retired task that never reached a node counts as stopped', svc: replicated(1), tasks: (s) => [task(s, 'p', { desired: 'shutdown', state: 'pending' })], want: ['create s1'] },
    {
      name: 'start-first: once the new task runs, the old one is retired',
      svc: replicated(1),
      tasks: (s) => [task(s, 'old', { node: 'n1', spec: oldSpec, created: T0 - 900 * SEC }), task(s, 'new', { node: 'n2' })],
      want: ['shutdown old'],
    },
    {
      name: 'start-first: while the new task starts, both stay',
      svc: replicated(1),
      tasks: (s) => [task(s, 'old', { node: 'n1', spec: oldSpec, created: T0 - 900 * SEC }), task(s, 'new', { node: 'n2', state: 'starting' })],
      want: [],
    },
    {
      name: 'duplicates with the current spec: the running one stays',
      svc: replicated(1),
      tasks: (s) => [task(s, 'x', { node: 'n1', created: T0 - 900 * SEC }), task(s, 'y', { node: 'n2' })],
      want: ['shutdown x'],
    },
  ]);
});

describe('replicated planner: task history', () => {
  const history = (s: Service, n: number) =>
    Array.from({ length: n }, (_, i) => task(s, `h${i + 1}`, { node: 'n1', state: 'failed', desired: 'shutdown', created: T0 - (100 - i) * 60 * SEC, since: T0 - (99 - i) * 60 * SEC }));
  const running = (s: Service) => task(s, 'run', { node: 'n1', created: T0 - 60 * SEC });
  table([
    { name: 'keeps 5 tasks per slot by default (running one included)', svc: replicated(1), tasks: (s) => [...history(s, 6), running(s)], want: ['delete h1', 'delete h2'] },
    { name: 'follows the cluster retention limit', svc: replicated(1), cluster: cluster(2), tasks: (s) => [...history(s, 3), running(s)], want: ['delete h1', 'delete h2'] },
    { name: 'a limit of 0 keeps only the newest task', svc: replicated(1), cluster: cluster(0), tasks: (s) => [...history(s, 2), running(s)], want: ['delete h1', 'delete h2'] },
    { name: 'a negative limit keeps everything', svc: replicated(1), cluster: cluster(-1), tasks: (s) => [...history(s, 9), running(s)], want: [] },
    {
      name: 'never deletes a retired task that may still be running (node down)',
      svc: replicated(1),
      cluster: cluster(1),
      nodes: [node('n1'), node('n2', { state: 'down' })],
      tasks: (s) => [task(s, 'lost', { node: 'n2', desired: 'shutdown', created: T0 - 900 * SEC }), running(s)],
      want: [],
    },
    {
      name: 'deletes retired tasks of a node that left the swarm',
      svc: replicated(1),
      cluster: cluster(1),
      nodes: [node('n1')],
      tasks: (s) => [task(s, 'lost', { node: 'n9', desired: 'shutdown', created: T0 - 900 * SEC }), running(s)],
      want: ['delete lost'],
    },
    {
      name: 'keeps failures that MaxAttempts still counts beyond the limit',
      svc: replicated(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { MaxAttempts: 4 } } }),
      cluster: cluster(2),
      tasks: (s) => [...history(s, 4), running(s)],
      want: [],
    },
  ]);
});

describe('replicated planner: a node lost and back (simulated cluster)', () => {
  it('replaces the lost tasks and, when the node returns, its stale tasks stop: replicas stay at N', () => {
    const svc = replicated(3);
    const nodes = [node('n1'), node('n2'), node('n3')];
    const sim = new Sim(svc, nodes);
    sim.settle();
    assert.equal(sim.alive().length, 3);
    const onN3 = [...sim.tasks.values()].filter((t) => t.NodeID === 'n3').map((t) => t.ID);
    assert.equal(onN3.length, 1);

    sim.nodes = [node('n1'), node('n2'), node('n3', { state: 'down' })];
    sim.settle();
    const stale = sim.tasks.get(onN3[0])!;
    assert.deepEqual([stale.DesiredState, stale.Status.State], ['shutdown', 'running'], 'the stale task is retired; its status is unknown until the node reports');
    const desiredRunning = () => [...sim.tasks.values()].filter((t) => t.DesiredState === 'running');
    assert.equal(desiredRunning().length, 3);
    assert.equal(desiredRunning().filter((t) => t.Status.State === 'running').length, 3);

    sim.nodes = [node('n1'), node('n2'), node('n3')];
    assert.deepEqual(summary(sim.plan()), [], 'nothing to do while the returning node stops its stale task');
    sim.settle();
    assert.equal(sim.tasks.get(onN3[0])!.Status.State, 'shutdown');
    assert.equal(sim.alive().length, 3);
    assert.equal(desiredRunning().length, 3);
  });
});
