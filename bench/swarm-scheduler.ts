// Scheduler commit throughput into a real etcd: N pending tasks over M simulated nodes, placed
// by the scheduler loop (manager/scheduler/loop) and committed as ASSIGNED in store batches.
// Then the whole leader pipeline: a service of N replicas created, its tasks made by the
// orchestrator, moved to PENDING by the allocator and assigned by the scheduler. Prints tasks/s
// and the resident memory of this process, which plays the manager (plus etcd's own). Figures
// only; nothing here fails on timing.
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderComponents } from '../manager/leader';
import { SchedulerLoop } from '../manager/scheduler/loop';
import { newService, validateServiceSpec } from '../manager/spec';
import { EtcdStore, type BatchOp } from '../manager/store';
import type { Node, Task } from '../shared/swarm';
import { startTestEtcd } from '../test/helpers/etcd';
import { mb, rssBytes } from './stats';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 10);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);

function node(i: number): Node {
  return {
    ID: `node${String(i).padStart(5, '0')}`,
    Spec: { Role: 'worker', Availability: 'active', Labels: { zone: `z${i % 3}` } },
    Description: { Hostname: `host-${i}`, Platform: { OS: 'linux', Architecture: 'x86_64' }, Resources: { NanoCPUs: 64e9, MemoryBytes: 256 * 1024 ** 3 } },
    Status: { State: 'ready', Addr: `10.0.${i >> 8}.${i & 255}` },
  };
}

/** A pending task as the allocator leaves it, with a realistic spec. */
function task(i: number): Task {
  const svc = i % SERVICES;
  const at = new Date().toISOString();
  return {
    ID: `task${String(i).padStart(6, '0')}`,
    CreatedAt: at,
    ServiceID: `svc${svc}`,
    Slot: Math.floor(i / SERVICES) + 1,
    Spec: {
      ContainerSpec: { Image: `registry.local/app${svc}:1.0`, Env: ['MODE=prod', `SERVICE=${svc}`], Command: ['/bin/app', '--port', '8080'] },
      Resources: { Reservations: { NanoCPUs: 1e8, MemoryBytes: 64 * 1024 ** 2 }, Limits: { NanoCPUs: 5e8, MemoryBytes: 256 * 1024 ** 2 } },
      RestartPolicy: { Condition: 'any', Delay: 5e9, MaxAttempts: 0, Window: 0 },
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] },
      ForceUpdate: 0,
      Runtime: 'container',
    },
    Status: { State: 'pending', Timestamp: at, Message: 'pending task scheduling' },
    DesiredState: 'running',
  };
}

async function load(store: EtcdStore, ops: BatchOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 1000) await store.batch(ops.slice(i, i + 1000), { atomic: false });
}

export async function swarmSchedulerBench(): Promise<void> {
  console.log(`\n== scheduler loop: ${TASKS} pending tasks over ${NODES} nodes committed to etcd (batches of ${CHUNK}, ${IN_FLIGHT} in flight) ==`);
  const etcd = await startTestEtcd();
  const store = new EtcdStore(etcd.client());
  const ctl = new AbortController();
  const loop = new SchedulerLoop({ store, chunk: CHUNK, inFlight: IN_FLIGHT, resyncMs: 0 });
  try {
    await load(store, Array.from({ length: NODES }, (_, i) => ({ op: 'create', kind: 'nodes', object: node(i) })));
    await load(store, Array.from({ length: TASKS }, (_, i) => ({ op: 'create', kind: 'tasks', object: task(i) })));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;

    const t0 = process.hrtime.bigint();
    await loop.start(ctl.signal);
    const t1 = process.hrtime.bigint();
    while (loop.stats.assigned < TASKS && loop.pendingCount > 0) await sleep(5);
    await loop.idle();
    const t2 = process.hrtime.bigint();
    const rssAfter = process.memoryUsage().rss;

    const { items } = await store.list<Task>('tasks');
    const assigned = items.filter((t) => t.Status.State === 'assigned' && t.NodeID).length;
    const perNode = new Map<string, number>();
    for (const t of items) if (t.NodeID) perNode.set(t.NodeID, (perNode.get(t.NodeID) ?? 0) + 1);
    const counts = [...perNode.values()];

    const snapMs = Number(t1 - t0) / 1e6;
    const commitMs = Number(t2 - t1) / 1e6;
    console.log(`  snapshot of ${NODES} nodes + ${TASKS} tasks into the loop: ${snapMs.toFixed(0)} ms`);
    console.log(`  placed and committed: ${Math.round((loop.stats.assigned / commitMs) * 1000).toLocaleString('en-US')} tasks/s (${loop.stats.assigned} in ${commitMs.toFixed(0)} ms, ${loop.stats.batches} store batches)`);
    console.log(`  end to end from loop start: ${Math.round((loop.stats.assigned / (snapMs + commitMs)) * 1000).toLocaleString('en-US')} tasks/s`);
    console.log(`  stored as assigned: ${assigned}/${TASKS}, on ${perNode.size} nodes (${Math.min(...counts)}-${Math.max(...counts)} per node)`);
    console.log(`  manager process RSS: ${mb(rssAfter)} (${mb(rssBefore)} before the loop started)`);
    const pid = etcd.member.pid;
    if (pid !== undefined) console.log(`  etcd RSS: ${mb(rssBytes(pid))}`);
  } finally {
    ctl.abort();
    await loop.stop();
    await store.close();
    await etcd.destroy();
  }
  await pipeline();
}

function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const f = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** A service of TASKS replicas through orchestrator, allocator and scheduler, until all are assigned. */
async function pipeline(): Promise<void> {
  console.log(`\n== leader loops: a service of ${TASKS} replicas over ${NODES} nodes, from creation to all assigned ==`);
  const etcd = await startTestEtcd();
  const store = new EtcdStore(etcd.client());
  const leader = new LeaderComponents({ store, schedulerChunk: CHUNK });
  try {
    await load(store, Array.from({ length: NODES }, (_, i) => ({ op: 'create', kind: 'nodes', object: node(i) })));
    await store.create('cluster', { ID: 'cluster1', Spec: { Name: 'default' } });
    await leader.start();
    const rssBefore = process.memoryUsage().rss;
    const t0 = process.hrtime.bigint();
    const spec = validateServiceSpec({ Name: 'big', Mode: { Replicated: { Replicas: TASKS } }, TaskTemplate: task(0).Spec });
    await store.create('services', newService(spec, 'svc-big', Date.now()));
    let peak = rssBefore;
    while (leader.scheduler.stats.assigned < TASKS) {
      await sleep(20);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await leader.idle();
    if (process.env.BENCH_CPU) console.log(`  cpu: manager ${(process.cpuUsage().user / 1e3).toFixed(0)} ms user, etcd ${cpuMs(etcd.member.pid)} ms`);
    console.log(`  ${TASKS} tasks created, allocated and assigned in ${ms.toFixed(0)} ms: ${Math.round((TASKS / ms) * 1000).toLocaleString('en-US')} tasks/s`);
    console.log(`  manager process RSS: ${mb(process.memoryUsage().rss)} (peak ${mb(peak)}; ${mb(rssBefore)} before the service)`);
    const pid = etcd.member.pid;
    if (pid !== undefined) console.log(`  etcd RSS: ${mb(rssBytes(pid))}`);
  } finally {
    await leader.stop();
    await store.close();
    await etcd.destroy();
  }
}

if (require.main === module) {
  swarmSchedulerBench().catch((e) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
