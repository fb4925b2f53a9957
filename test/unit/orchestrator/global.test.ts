import assert from 'node:assert/strict';
import { planGlobal, planService } from '../../../manager/orchestrator/plan';
import type { Node, Service, Task } from '../../../shared/swarm';
import { SEC, T0, created, ids, node, service, summary, task } from './fixtures';

const global = service({ Mode: { Global: {} } });
const east = service({ Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.zone==east'] } } });
const on = (s: Service, id: string, nodeId: string, o: Parameters<typeof task>[2] = {}) => task(s, id, { slot: 0, node: nodeId, ...o });

interface Case {
  name: string;
  svc?: Service;
  nodes: Node[];
  tasks: (s: Service) => Task[];
  want: string[];
}

describe('global planner', () => {
  const cases: Case[] = [
    { name: 'one task per node', nodes: [node('n1'), node('n2'), node('n3')], tasks: () => [], want: ['create n1', 'create n2', 'create n3'] },
    { name: 'a node that joins gets a task', nodes: [node('n1'), node('n2')], tasks: (s) => [on(s, 'a', 'n1')], want: ['create n2'] },
    { name: 'nothing to do when every node runs one', nodes: [node('n1'), node('n2')], tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2')], want: [] },
    { name: 'a drained node has its task shut down and gets none', nodes: [node('n1'), node('n2', { availability: 'drain' })], tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2')], want: ['shutdown b'] },
    { name: 'a paused node keeps its task', nodes: [node('n1', { availability: 'pause' })], tasks: (s) => [on(s, 'a', 'n1')], want: [] },
    { name: 'a paused node gets no new task', nodes: [node('n1', { availability: 'pause' })], tasks: () => [], want: [] },
    {
      name: 'a task that fails on a paused node is retired, not restarted',
      nodes: [node('n1', { availability: 'pause' })],
      tasks: (s) => [on(s, 'f', 'n1', { state: 'failed', since: T0 - 60 * SEC })],
      want: ['shutdown f'],
    },
    { name: 'a down node has its task shut down, not moved', nodes: [node('n1'), node('n2', { state: 'down' })], tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2')], want: ['shutdown b'] },
    {
      name: 'a node back from down waits for its old task to stop',
      nodes: [node('n1')],
      tasks: (s) => [on(s, 'old', 'n1', { desired: 'shutdown' })],
      want: [],
    },
    { name: 'then gets a new task', nodes: [node('n1')], tasks: (s) => [on(s, 'old', 'n1', { desired: 'shutdown', state: 'shutdown' })], want: ['create n1'] },
    { name: 'a node that left the swarm has its tasks deleted', nodes: [node('n1')], tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2'), on(s, 'b0', 'n2', { state: 'failed', desired: 'shutdown' })], want: ['delete b', 'delete b0'] },
    { name: 'a failed task restarts on the same node after the delay', nodes: [node('n1')], tasks: (s) => [on(s, 'f', 'n1', { state: 'failed', since: T0 - 10 * SEC })], want: ['shutdown f', 'create n1'] },
    { name: 'a failed task waits for the restart delay', nodes: [node('n1')], tasks: (s) => [on(s, 'f', 'n1', { state: 'failed', since: T0 - 1 * SEC })], want: ['shutdown f', 'wake +4s'] },
    {
      name: 'constraints: only matching nodes get a task',
      svc: east,
      nodes: [node('n1', { labels: { zone: 'east' } }), node('n2', { labels: { zone: 'west' } }), node('n3')],
      tasks: () => [],
      want: ['create n1'],
    },
    {
      name: 'constraints: a node relabelled out of the constraint loses its task',
      svc: east,
      nodes: [node('n1', { labels: { zone: 'east' } }), node('n2', { labels: { zone: 'west' } })],
      tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2')],
      want: ['shutdown b'],
    },
    {
      name: 'constraints: a node relabelled into the constraint gets a task',
      svc: east,
      nodes: [node('n1', { labels: { zone: 'east' } }), node('n2', { labels: { zone: 'east' } })],
      tasks: (s) => [on(s, 'a', 'n1')],
      want: ['create n2'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = c.svc ?? global;
      const actions = planGlobal({ service: svc, tasks: c.tasks(svc), nodes: c.nodes, now: T0, newId: ids() }).actions;
      assert.deepEqual(summary(actions), [...c.want].sort());
    });
  }

  it('creates tasks already on their node, slot 0', () => {
    const [t] = created(planGlobal({ service: global, tasks: [], nodes: [node('n7')], now: T0, newId: ids() }).actions);
    assert.equal(t.NodeID, 'n7');
    assert.equal(t.Slot, 0);
    assert.equal(t.DesiredState, 'running');
  });

  it('a placement-only change leaves tasks on nodes that still satisfy it (no update)', () => {
    const before = service({ Mode: { Global: {} } });
    const after = { ...east, Spec: { ...east.Spec, Name: 'web' }, PreviousSpec: before.Spec };
    const nodes = [node('n1', { labels: { zone: 'east' } }), node('n2', { labels: { zone: 'west' } })];
    const tasks = [on(before, 'a', 'n1'), on(before, 'b', 'n2')];
    const actions = planService({ service: after, tasks, nodes, now: T0, newId: ids() }).actions;
    assert.deepEqual(summary(actions), ['shutdown b']);
  });
});
