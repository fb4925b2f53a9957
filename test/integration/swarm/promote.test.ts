// node promote / demote on a lab (one manager, two workers, real etcd, NATS and crun): workers
// join the managers' Raft group and leave it again, a demotion that would lose quorum is
// refused, and the nodes' tasks keep running throughout.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type TestLab } from '../../helpers/lab';
import { busyboxService, eventually, running, taskContainers } from '../../helpers/swarm';
import type { EngineClient } from '../../../shared/client';

interface NodeJson {
  ID: string;
  Spec: { Role: string };
  Description: { Hostname: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

describe('node promote and demote: workers join and leave the managers (lab)', function () {
  this.timeout(300_000);
  let lab: TestLab;
  let svc: string;
  const client = (h: string): EngineClient => lab.host(h).client;
  const managers = async (via: string) => (await client(via).get<NodeJson[]>('/nodes')).filter((n) => n.ManagerStatus?.Reachability === 'reachable').map((n) => n.Description.Hostname).sort();
  const containers = async () => {
    const ids: string[] = [];
    for (const h of ['m1', 'w1', 'w2']) ids.push(...(await taskContainers(client(h), svc)).filter((c) => c.State === 'running').map((c) => c.Id));
    return ids.sort();
  };

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2 });
    svc = (await client('m1').post<{ ID: string }>('/services/create', { body: busyboxService('keep', { Mode: { Replicated: { Replicas: 3 } } }) })).ID;
    await running(client('m1'), svc, 3);
  });
  after(async () => {
    await lab?.down();
  });

  it('docker node promote: both workers become reachable managers that serve the swarm API', async () => {
    const before = await containers();
    const r = await lab.docker('m1', ['node', 'promote', 'w1', 'w2']);
    assert.equal(r.code, 0, r.stderr);
    await eventually('three reachable managers', async () => (await managers('m1')).join() === 'm1,w1,w2', 90_000);
    for (const h of ['w1', 'w2']) {
      // Its raft member counts as soon as etcd runs; its daemon serves the API a moment later.
      await eventually(`${h} serves node ls`, async () => (await managers(h)).join() === 'm1,w1,w2');
      assert.ok(existsSync(join(lab.lab.host(h).dataRoot, 'swarm', 'etcd')), `${h} runs an etcd member`);
    }
    assert.deepEqual(await containers(), before, 'no task restarted');
  });

  it('a demotion that would lose quorum is refused; a safe one makes the node a worker again', async () => {
    await lab.cut('w2');
    try {
      await eventually('m1 sees w2 out of reach', async () => (await managers('m1')).join() === 'm1,w1');
      const r = await lab.docker('m1', ['node', 'demote', 'w1']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /loss of quorum \(1 of the 2 remaining managers reachable, 2 needed\)/);
    } finally {
      await lab.heal('w2');
    }
    await eventually('three reachable managers again', async () => (await managers('m1')).join() === 'm1,w1,w2', 90_000);
    const r = await lab.docker('m1', ['node', 'demote', 'w2']);
    assert.equal(r.code, 0, r.stderr);
    await eventually('w2 a worker', async () => (await managers('m1')).join() === 'm1,w1', 90_000);
    await eventually('w2 has handed its manager state back', async () => !existsSync(join(lab.lab.host('w2').dataRoot, 'swarm', 'etcd')));
    const nodes = await client('w1').get<NodeJson[]>('/nodes');
    assert.equal(nodes.find((n) => n.Description.Hostname === 'w2')?.ManagerStatus, undefined);
    await assert.rejects(client('w2').get('/nodes'), /not a swarm manager/);
    await running(client('m1'), svc, 3);
  });
});
