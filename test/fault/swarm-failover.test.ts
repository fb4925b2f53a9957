import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab';
import { busyboxService, eventually, nodesByName, running, taskContainers, tasksOf } from '../helpers/swarm';
import type { EngineClient } from '../../shared/client';

/** Running task containers per host, by the hosts' own engines. */
async function containersPerHost(lab: TestLab, service: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const h of lab.hosts) out.set(h.name, (await taskContainers(h.client, service).catch(() => [])).filter((c) => c.State === 'running').length);
  return out;
}

describe('swarm faults on the lab: a worker killed or cut off, the manager restarted', function () {
  this.timeout(240_000);
  let lab: TestLab;
  let m1: EngineClient;
  let id: string;

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2 });
    m1 = lab.host('m1').client;
    id = (await m1.post<{ ID: string }>('/services/create', { body: busyboxService('steady', { Mode: { Replicated: { Replicas: 6 } } }) })).ID;
    await running(m1, id, 6);
  });
  after(async () => {
    await lab?.down();
  });

  for (const fault of ['kill', 'cut'] as const) {
    it(`${fault === 'kill' ? 'kill -9 of' : 'cutting the link of'} a worker's shoald: its tasks are replaced, and no duplicates remain after it returns`, async () => {
      // The worker running the most tasks (swarm does not move tasks back to a node that returns).
      const nodes = await nodesByName(m1);
      const tasks = await running(m1, id, 6);
      const [victim] = ['w1', 'w2'].sort((a, b) => tasks.filter((t) => t.NodeID === nodes.get(b)!.ID).length - tasks.filter((t) => t.NodeID === nodes.get(a)!.ID).length);
      const node = nodes.get(victim)!;
      assert.ok(tasks.some((t) => t.NodeID === node.ID), `${victim} runs some of the tasks`);
      if (fault === 'kill') await lab.kill(victim);
      else await lab.cut(victim);
      await eventually(`${victim} down`, async () => (await nodesByName(m1)).get(victim)!.Status.State === 'down');
      // Replaced: six running tasks, none on the lost node (its old tasks are told to shut down).
      await eventually('all six running on the other nodes', async () => {
        const ts = (await tasksOf(m1, id)).filter((t) => t.Status.State === 'running');
        return ts.length === 6 && ts.every((t) => t.NodeID !== node.ID);
      });
      if (fault === 'kill') await lab.start(victim);
      else await lab.heal(victim);
      await eventually(`${victim} ready again`, async () => (await nodesByName(m1)).get(victim)!.Status.State === 'ready');
      // The stale tasks there are shut down: exactly six containers run in the whole cluster.
      await eventually(`six containers in all, none left over on ${victim}`, async () => {
        const per = await containersPerHost(lab, id);
        return [...per.values()].reduce((a, b) => a + b, 0) === 6 && per.get(victim) === 0;
      });
      assert.equal((await running(m1, id, 6)).length, 6);
    });
  }

  it("restarting the manager's shoald keeps the cluster state and leaves running containers alone", async () => {
    const before = await running(m1, id, 6);
    const containers = new Map<string, string[]>();
    for (const h of lab.hosts) containers.set(h.name, (await taskContainers(h.client, id)).filter((c) => c.State === 'running').map((c) => c.Id).sort());
    await lab.kill('m1');
    await lab.start('m1');
    m1 = lab.host('m1').client;
    const after = await eventually('the manager answers with the same tasks', async () => {
      const ts = await running(m1, id, 6, 30_000);
      return ts;
    });
    assert.deepEqual(after.map((t) => t.ID).sort(), before.map((t) => t.ID).sort(), 'the same six tasks');
    for (const h of lab.hosts) {
      const now = (await taskContainers(h.client, id)).filter((c) => c.State === 'running').map((c) => c.Id).sort();
      assert.deepEqual(now, containers.get(h.name), `containers on ${h.name} untouched`);
    }
  });
});
