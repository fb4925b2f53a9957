// Swarm benchmarks on the 3-host lab (1 manager, 2 workers, real etcd/NATS/crun): service
// create to all RUNNING, scale up, and the replacement of a killed worker's tasks. Figures only.
import { startLab, type TestLab } from '../test/helpers/lab';
import { median, ms, until } from './stats';

interface TaskJson {
  ID: string;
  NodeID?: string;
  DesiredState: string;
  Status: { State: string };
}

/** A replicated busybox service that sleeps. */
const spec = (name: string, replicas: number) => ({ Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'] } }, Mode: { Replicated: { Replicas: replicas } } });

async function runningCount(lab: TestLab, service: string, exclude?: string): Promise<number> {
  const tasks = await lab.host('m1').client.get<TaskJson[]>('/tasks', { query: { filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }) } });
  return tasks.filter((t) => t.Status.State === 'running' && t.NodeID !== exclude).length;
}


async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Docker's own figures were taken on one node: the same work on a one-node swarm. */
async function oneNode(): Promise<{ create10: number[]; scale50: number }> {
  const lab = await startLab({ managers: 1, workers: 0 });
  const m1 = lab.host('m1').client;
  try {
    let id = '';
    let name = '';
    // The first creation on a fresh cluster, then more on the warm one (each removed before the next).
    const create10: number[] = [];
    for (let round = 0; round < Number(process.env.BENCH_SWARM_ROUNDS ?? 5); round++) {
      if (id) {
        await m1.delete(`/services/${id}`);
        await until('the tasks gone', async () => (await m1.get<TaskJson[]>('/tasks')).length === 0);
      }
      create10.push(
        await timed(async () => {
          name = `one${round}`;
          id = (await m1.post<{ ID: string }>('/services/create', { body: spec(name, 10) })).ID;
          await until('10 running', async () => (await runningCount(lab, id)) >= 10);
        }),
      );
    }
    const scale50 = await timed(async () => {
      const svc = await m1.get<{ Version: { Index: number } }>(`/services/${id}`);
      await m1.post(`/services/${id}/update`, { query: { version: svc.Version.Index }, body: spec(name, 50) });
      await until('50 running', async () => (await runningCount(lab, id)) >= 50);
    });
    return { create10, scale50 };
  } finally {
    await lab.down();
  }
}

/** Kill -9 a worker's shoald; time until all the service's replicas run on the other nodes. */
async function failover(lab: TestLab, id: string, host: string, nodeId: string, replicas: number): Promise<{ replicas: number; moved: number; down: number; placed: number; total: number }> {
  const m1 = lab.host('m1').client;
  const list = () => m1.get<TaskJson[]>('/tasks', { query: { filters: JSON.stringify({ service: [id], 'desired-state': ['running'] }) } });
  const moved = (await list()).filter((t) => t.NodeID === nodeId).length;
  const t0 = performance.now();
  await lab.kill(host);
  await until(`${host} down`, async () => (await m1.get<{ Status: { State: string } }>(`/nodes/${nodeId}`)).Status.State === 'down');
  const down = performance.now() - t0;
  await until('replacements placed', async () => (await list()).filter((t) => t.NodeID && t.NodeID !== nodeId).length >= replicas);
  const placed = performance.now() - t0;
  await until('replacements running', async () => (await runningCount(lab, id, nodeId)) >= replicas);
  return { replicas, moved, down, placed, total: performance.now() - t0 };
}

export async function swarmBench(): Promise<void> {
  const one = await oneNode();
  console.log('\n== swarm on one node (the work Docker Swarm 20.10 was measured on, same machine) ==');
  const [first, ...warm] = one.create10;
  const med = median(warm.length ? warm : [first]);
  console.log(`  service create --replicas 10 -> all RUNNING   first ${ms(first)} (Docker Swarm: 1.6 s -> ${(1600 / first).toFixed(1)}x), then median ${ms(med)} of ${warm.length} (${(1600 / med).toFixed(1)}x)`);
  console.log(`  scale 10 -> 50 -> all RUNNING                ${ms(one.scale50)}   (Docker Swarm: 12.1 s -> ${(12100 / one.scale50).toFixed(1)}x)`);
  const lab = await startLab({ managers: 1, workers: 2 });
  const m1 = lab.host('m1').client;
  try {
    let id = '';
    const create = await timed(async () => {
      id = (await m1.post<{ ID: string }>('/services/create', { body: spec('bench', 50) })).ID;
      await until('50 running', async () => (await runningCount(lab, id)) >= 50);
    });
    const nodes = await m1.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
    const nodeId = (name: string) => nodes.find((n) => n.Description.Hostname === name)!.ID;
    // A worker killed while 50 replicas run, then (after it returns) another while 200 run.
    const small = await failover(lab, id, 'w2', nodeId('w2'), 50);
    await lab.start('w2');
    await until('w2 ready', async () => (await m1.get<{ Status: { State: string } }>(`/nodes/${nodeId('w2')}`)).Status.State === 'ready');
    const scale = await timed(async () => {
      const svc = await m1.get<{ Version: { Index: number } }>(`/services/${id}`);
      await m1.post(`/services/${id}/update`, { query: { version: svc.Version.Index }, body: spec('bench', 200) });
      await until('200 running', async () => (await runningCount(lab, id)) >= 200);
    });
    const big = await failover(lab, id, 'w1', nodeId('w1'), 200);
    console.log('\n== swarm on the 3-host lab (1 manager, 2 workers) ==');
    console.log(`  service create --replicas 50 -> all RUNNING   ${ms(create)}`);
    console.log(`  scale 50 -> 200 -> all RUNNING              ${ms(scale)}`);
    for (const f of [small, big]) {
      console.log(`  kill -9 of a worker with ${f.replicas} replicas -> its ${f.moved} tasks RUNNING elsewhere  ${ms(f.total)}   (target <= 3 s; Swarm about 20 s)`);
      console.log(`    of which: seen DOWN after ${ms(f.down)}, tasks placed elsewhere after ${ms(f.placed)}, then ${f.moved} containers started`);
    }
  } finally {
    await lab.down();
  }
}
