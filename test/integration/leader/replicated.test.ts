// Replicated and global services through the leader loops over a real etcd, with simulated
// nodes and a fake worker reporting task status.
import { strict as assert } from 'node:assert';
import { isDesiredAlive } from '../../../shared/swarm';
import { brief, perNode, replicated, running, startLab, waitFor, wanted, type Lab } from './harness';

describe('leader loops: replicated and global services (etcd)', function () {
  this.timeout(60_000);
  let lab: Lab;

  beforeEach(async () => {
    lab = await startLab();
    for (const id of ['node1', 'node2', 'node3']) await lab.addNode(id);
  });
  afterEach(async () => {
    await lab?.close();
  });

  it('runs 5 replicas spread over 3 nodes, then scales 5 -> 10 -> 2', async () => {
    const svc = await lab.createService(replicated('web', 5));
    const show = () => lab.tasks(svc.ID).then(brief);
    let ts = await waitFor('5 running tasks', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).length === 5 && t;
    }, show);
    const spread = Object.values(perNode(ts)).sort();
    assert.deepEqual(spread, [1, 2, 2], 'spread over the 3 nodes');
    assert.deepEqual(ts.map((t) => t.Slot).sort(), [1, 2, 3, 4, 5]);
    for (const t of ts) assert.equal(t.Status.State, 'running');

    await lab.updateService(svc.ID, (s) => ({ ...s, Mode: { Replicated: { Replicas: 10 } } }));
    ts = await waitFor('10 running tasks', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).length === 10 && t;
    }, show);
    assert.deepEqual(Object.values(perNode(ts)).sort(), [3, 3, 4]);

    await lab.updateService(svc.ID, (s) => ({ ...s, Mode: { Replicated: { Replicas: 2 } } }));
    ts = await waitFor('2 tasks left, both running', async () => {
      const t = await lab.tasks(svc.ID);
      return t.length === 2 && running(t).length === 2 && t;
    }, show);
    assert.equal(wanted(ts).length, 2);
  });

  it('runs a global service on every node, one more on a new node, and stops the task of a drained node', async () => {
    const svc = await lab.createService({ Name: 'agent', Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox:1' } } });
    const show = () => lab.tasks(svc.ID).then(brief);
    await waitFor('a running task on each of 3 nodes', async () => {
      const t = await lab.tasks(svc.ID);
      const n = perNode(t);
      return running(t).length === 3 && Object.keys(n).length === 3;
    }, show);

    await lab.addNode('node4');
    let ts = await waitFor('a running task on node4 too', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).length === 4 && t;
    }, show);
    assert.deepEqual(perNode(ts), { node1: 1, node2: 1, node3: 1, node4: 1 });

    await lab.updateNode('node2', (n) => (n.Spec.Availability = 'drain'));
    ts = await waitFor('node2 task shut down', async () => {
      const t = await lab.tasks(svc.ID);
      const onNode2 = t.filter((x) => x.NodeID === 'node2');
      return onNode2.every((x) => x.Status.State === 'shutdown' && !isDesiredAlive(x.DesiredState)) && running(t).length === 3 && t;
    }, show);
    assert.deepEqual(perNode(ts), { node1: 1, node3: 1, node4: 1 }, 'not moved elsewhere');
  });

  it('removes the tasks of a deleted service', async () => {
    const svc = await lab.createService(replicated('gone', 3));
    await waitFor('3 running', async () => running(await lab.tasks(svc.ID)).length === 3);
    await lab.store.delete('services', svc.ID);
    await waitFor('no task left', async () => (await lab.tasks(svc.ID)).length === 0, () => lab.tasks(svc.ID).then(brief));
  });

  it('carries on after etcd is killed and restarted under it', async () => {
    const svc = await lab.createService(replicated('survivor', 3));
    const show = () => lab.tasks(svc.ID).then(brief);
    await waitFor('3 running', async () => running(await lab.tasks(svc.ID)).length === 3, show);
    lab.etcd.kill(); // its supervisor starts it again; the loops' watches and writes retry
    await waitFor('etcd back', async () => (await lab.store.list('nodes').then(() => true, () => false)) || undefined);
    await lab.updateService(svc.ID, (s) => ({ ...s, Mode: { Replicated: { Replicas: 5 } } }));
    const ts = await waitFor('5 running', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).length === 5 && t;
    }, show);
    assert.equal(wanted(ts).length, 5);
  });
});
