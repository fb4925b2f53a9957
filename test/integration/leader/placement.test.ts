// Scheduling through the loops: constraints and reservations honoured; a task that fits
// nowhere stays pending with the reason, which changes as the cluster does.
import { strict as assert } from 'node:assert';
import type { Node } from '../../../shared/swarm';
import { brief, CPU, perNode, replicated, running, startLab, waitFor, type Lab } from './harness';

describe('leader loops: placement (etcd)', function () {
  this.timeout(60_000);
  let lab: Lab;

  beforeEach(async () => {
    lab = await startLab();
    await lab.addNode('node1', { cpus: 2, labels: { zone: 'a' } });
    await lab.addNode('node2', { cpus: 2, labels: { zone: 'b' } });
    await lab.addNode('node3', { cpus: 2, labels: { zone: 'b' } });
  });
  afterEach(async () => {
    await lab?.close();
  });

  it('places tasks only on nodes that satisfy the constraints', async () => {
    const spec = replicated('zoned', 4);
    spec.TaskTemplate!.Placement = { Constraints: ['node.labels.zone==b'] };
    const svc = await lab.createService(spec);
    const ts = await waitFor('4 running', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).length === 4 && t;
    }, () => lab.tasks(svc.ID).then(brief));
    assert.deepEqual(perNode(ts), { node2: 2, node3: 2 });
  });

  it('keeps a task that fits nowhere pending with the reason, and places it once a node can take it', async () => {
    const spec = replicated('big', 4);
    spec.TaskTemplate!.Resources = { Reservations: { NanoCPUs: 1.5 * CPU } };
    const svc = await lab.createService(spec);
    const show = () => lab.tasks(svc.ID).then(brief);
    const pending = await waitFor('3 running and 1 pending with a reason', async () => {
      const t = await lab.tasks(svc.ID);
      const p = t.filter((x) => x.Status.State === 'pending' && x.Status.Err);
      return running(t).length === 3 && p.length === 1 && p[0];
    }, show);
    assert.equal(pending.Status.Err, 'no suitable node (insufficient resources on 3 nodes)');
    assert.equal(pending.Status.Message, 'pending task scheduling');
    assert.equal(pending.NodeID, undefined);
    assert.deepEqual(Object.values(perNode(await lab.tasks(svc.ID))), [1, 1, 1]);

    // The reason follows the cluster: a fourth node that is too small counts too.
    await lab.addNode('node4', { cpus: 1 });
    await waitFor('the reason to count 4 nodes', async () => (await lab.store.get<typeof pending>('tasks', pending.ID))?.Status.Err === 'no suitable node (insufficient resources on 4 nodes)', show);
    await lab.addNode('node5', { cpus: 2 });
    const placed = await waitFor('the pending task placed on node5', async () => {
      const t = await lab.store.get<typeof pending>('tasks', pending.ID);
      return t?.Status.State === 'running' && t;
    }, show);
    assert.equal(placed.NodeID, 'node5');
    assert.equal(placed.Status.Err, undefined, 'the old reason is gone');
  });

  it('names the constraint filter and the node count when no node matches', async () => {
    const spec = replicated('nowhere', 1);
    spec.TaskTemplate!.Placement = { Constraints: ['node.labels.zone==c'] };
    const svc = await lab.createService(spec);
    const t = await waitFor('a pending task with a reason', async () => (await lab.tasks(svc.ID)).find((x) => x.Status.Err), () => lab.tasks(svc.ID).then(brief));
    assert.equal(t.Status.State, 'pending');
    assert.equal(t.Status.Err, 'no suitable node (scheduling constraints not satisfied on 3 nodes)');
    // Stable: passes after it (the scheduler's resync, every 2 s here) write nothing new for the same reason.
    await lab.leader.scheduler.caughtUp(t.Version?.Index ?? 0);
    await lab.updateNode('node1', (n) => (n.Spec.Labels = { ...n.Spec.Labels, extra: 'x' }));
    await lab.leader.scheduler.caughtUp((await lab.store.get<Node>('nodes', 'node1'))?.Version?.Index ?? 0);
    const again = await lab.store.get<typeof t>('tasks', t.ID);
    assert.equal(again?.Version?.Index, t.Version?.Index);
  });

  it('keeps host-mode published ports apart: one task per node, the rest pending with the reason', async () => {
    const spec = replicated('hostport', 4);
    spec.EndpointSpec = { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] };
    const svc = await lab.createService(spec);
    const show = () => lab.tasks(svc.ID).then(brief);
    const pending = await waitFor('3 running, 1 pending with a reason', async () => {
      const t = await lab.tasks(svc.ID);
      const p = t.find((x) => x.Status.State === 'pending' && x.Status.Err);
      return running(t).length === 3 && p;
    }, show);
    assert.equal(pending.Status.Err, 'no suitable node (host-mode port already in use on 3 nodes)');
    assert.deepEqual(perNode(await lab.tasks(svc.ID)), { node1: 1, node2: 1, node3: 1 });
  });
});
