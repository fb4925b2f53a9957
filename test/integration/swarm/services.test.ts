import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startLab, type TestLab } from '../../helpers/lab';
import { busyboxService, eventually, nodesByName, running, taskContainers, tasksOf, type TaskJson } from '../../helpers/swarm';
import type { EngineClient } from '../../../shared/client';

const countBy = (ts: TaskJson[]) => ts.reduce((m, t) => m.set(t.NodeID!, (m.get(t.NodeID!) ?? 0) + 1), new Map<string, number>());

describe('swarm services on the 3-host lab (real etcd, NATS, crun)', function () {
  this.timeout(180_000);
  let lab: TestLab;
  let m1: EngineClient;

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2 });
    m1 = lab.host('m1').client;
  });
  after(async () => {
    await lab?.down();
  });

  const update = async (id: string, change: (spec: Record<string, any>) => void, query: Record<string, string> = {}) => {
    const svc = await m1.get<{ Version: { Index: number }; Spec: Record<string, any> }>(`/services/${id}`);
    const spec = structuredClone(svc.Spec);
    change(spec);
    await m1.post(`/services/${id}/update`, { query: { version: String(svc.Version.Index), ...query }, body: spec });
  };

  it('docker service create waits for convergence; tasks spread over the nodes and run as containers', async () => {
    const r = await lab.docker('m1', ['service', 'create', '--name', 'web', '--replicas', '6', '--stop-grace-period', '1s', 'busybox', 'sleep', '3600']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /verify: Service .*converged/);
    const ts = await running(m1, 'web', 6);
    assert.deepEqual([...countBy(ts).values()].sort(), [2, 2, 2], 'two tasks on each of the three nodes');
    let containers = 0;
    for (const h of lab.hosts) containers += (await taskContainers(h.client)).filter((c) => c.State === 'running').length;
    assert.equal(containers, 6);
    const ls = await lab.docker('m1', ['service', 'ls']);
    assert.match(ls.stdout, /web\s+replicated\s+6\/6\s+busybox/);
  });

  it('scales up and down', async () => {
    await update('web', (s) => (s.Mode.Replicated.Replicas = 9));
    await running(m1, 'web', 9);
    const r = await lab.docker('m1', ['service', 'scale', 'web=2']);
    assert.equal(r.code, 0, r.stderr);
    await running(m1, 'web', 2);
    await eventually('containers of removed tasks gone', async () => {
      let n = 0;
      for (const h of lab.hosts) n += (await taskContainers(h.client)).filter((c) => c.State === 'running').length;
      return n === 2;
    });
  });

  it('rolling update, then rollback, keep the replica count', async () => {
    await update('web', (s) => (s.TaskTemplate.ContainerSpec.Env = ['V=2']));
    await eventually('all tasks on the new spec', async () => {
      const ts = (await tasksOf(m1, 'web')).filter((t) => t.Status.State === 'running');
      const specs = await Promise.all(ts.map((t) => m1.get<{ Spec: { ContainerSpec: { Env?: string[] } } }>(`/tasks/${t.ID}`)));
      return ts.length === 2 && specs.every((s) => s.Spec.ContainerSpec.Env?.includes('V=2'));
    });
    const r = await lab.docker('m1', ['service', 'rollback', 'web']);
    assert.equal(r.code, 0, r.stderr);
    await eventually('tasks back on the old spec', async () => {
      const ts = (await tasksOf(m1, 'web')).filter((t) => t.Status.State === 'running');
      const specs = await Promise.all(ts.map((t) => m1.get<{ Spec: { ContainerSpec: { Env?: string[] } } }>(`/tasks/${t.ID}`)));
      return ts.length === 2 && specs.every((s) => !s.Spec.ContainerSpec.Env?.includes('V=2'));
    });
  });

  it('global mode runs one task on every node', async () => {
    const { ID } = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('agent', { Mode: { Global: {} } }) });
    const ts = await running(m1, ID, 3);
    assert.equal(countBy(ts).size, 3);
  });

  it('drain moves tasks away; constraints and reservations are honoured', async () => {
    const nodes = await nodesByName(m1);
    const w1 = nodes.get('w1')!;
    const { ID } = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('spread', { Mode: { Replicated: { Replicas: 3 } } }) });
    await running(m1, ID, 3);
    await m1.post(`/nodes/${w1.ID}/update`, { query: { version: w1.Version.Index }, body: { ...w1.Spec, Availability: 'drain' } });
    await eventually('no task left on the drained node', async () => {
      const ts = (await tasksOf(m1, ID)).filter((t) => t.Status.State === 'running');
      return ts.length === 3 && ts.every((t) => t.NodeID !== w1.ID);
    });
    const again = (await nodesByName(m1)).get('w1')!;
    await m1.post(`/nodes/${w1.ID}/update`, { query: { version: again.Version.Index }, body: { ...again.Spec, Availability: 'active' } });

    const pinned = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('pinned', { Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'] }, Placement: { Constraints: ['node.hostname==w2'] } } }) });
    const ts = await running(m1, pinned.ID, 2);
    assert.ok(ts.every((t) => t.NodeID === nodes.get('w2')!.ID));

    const huge = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('huge', { TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'] }, Resources: { Reservations: { MemoryBytes: 1e15 } } } }) });
    const pending = await eventually('the task stays pending with the reason', async () => {
      const [t] = await tasksOf(m1, huge.ID);
      return t?.Status.State === 'pending' && /insufficient resources on 3 nodes/.test(t.Status.Err ?? '') ? t : undefined;
    });
    assert.match(pending.Status.Err!, /no suitable node/);
    const ps = await lab.docker('m1', ['service', 'ps', '--no-trunc', 'huge']);
    assert.match(ps.stdout, /Pending.*no suitable node \(insufficient resources on 3 nodes\)/);
  });

  it('a replicated job runs its completions and stops', async () => {
    const { ID } = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('job', { Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } } }, { Command: ['true'] }) });
    await eventually('4 completed tasks', async () => (await tasksOf(m1, ID, false)).filter((t) => t.Status.State === 'complete').length === 4);
    const svc = await m1.get<Array<{ ServiceStatus: { CompletedTasks: number } }>>('/services', { query: { status: 'true', filters: JSON.stringify({ id: [ID] }) } });
    assert.equal(svc[0].ServiceStatus.CompletedTasks, 4);
  });

  it('service logs gathers the lines of every node', async () => {
    const { ID } = await m1.post<{ ID: string }>('/services/create', { body: busyboxService('talk', { Mode: { Global: {} } }, { Command: ['sh', '-c', 'echo hello from $(hostname); sleep 3600'] }) });
    await running(m1, ID, 3);
    const out = await eventually('a line from each node', async () => {
      const r = await lab.docker('m1', ['service', 'logs', 'talk']);
      return (r.stdout.match(/hello from/g) ?? []).length === 3 ? r.stdout : undefined;
    });
    for (const n of ['m1', 'w1', 'w2']) assert.match(out, new RegExp(`talk\\.\\w+\\.\\w+@${n}\\s+\\|\\s+hello from`));
  });

  it('service logs -f follows new lines from every node until the client goes away', async () => {
    const { ID } = await m1.post<{ ID: string }>('/services/create', {
      body: busyboxService('ticker', { Mode: { Global: {} } }, { Command: ['sh', '-c', 'i=0; while true; do echo "tick $i from $(hostname)"; i=$((i+1)); sleep 0.3; done'] }),
    });
    await running(m1, ID, 3);
    const child = spawn('docker', ['-H', lab.host('m1').host, 'service', 'logs', '-f', '--raw', 'ticker'], { env: { ...process.env, DOCKER_CLI_HINTS: 'false' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    try {
      // Lines written after the request started (a tick of 10 or more) from each of the three tasks.
      await eventually('followed lines from every task', async () => new Set([...out.matchAll(/tick (\d+) from (\w+)/g)].filter((m) => Number(m[1]) >= 10).map((m) => m[2])).size === 3);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('service rm removes its tasks and their containers on every node', async () => {
    for (const s of ['web', 'agent', 'spread', 'pinned', 'huge', 'job', 'talk', 'ticker']) assert.equal((await lab.docker('m1', ['service', 'rm', s])).code, 0);
    await eventually('no task containers left', async () => {
      for (const h of lab.hosts) if ((await taskContainers(h.client)).length) return false;
      return true;
    });
  });
});
