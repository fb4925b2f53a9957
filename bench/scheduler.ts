// Scheduler throughput, pure placement in memory: 10,000 tasks over 1,000 nodes in several
// shapes (one big service, many services with placement rules, one group per task, onto a busy
// cluster). Store commits are not part of it. Figures only; nothing here fails on timing.
import { NodeInfoSet, scheduleBatch, type NodeView, type TaskView } from '../manager/scheduler';
import { median } from './stats';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function clusterNodes(n: number): NodeView[] {
  return Array.from({ length: n }, (_, i) => ({
    ID: `node${String(i).padStart(5, '0')}`,
    Spec: { Role: i % 10 === 0 ? 'manager' : 'worker', Availability: 'active', Labels: { zone: `z${i % 3}`, rack: `r${i % 20}` } },
    Description: {
      Hostname: `host-${i}`,
      Platform: { OS: 'linux', Architecture: 'x86_64' },
      Resources: { NanoCPUs: 64e9, MemoryBytes: 256 * 1024 ** 3 },
      Engine: { Labels: {} },
    },
    Status: { State: 'ready', Addr: `10.0.${i >> 8}.${i & 255}` },
  }));
}

type Spec = NonNullable<TaskView['Spec']>;

/** `services` services of `replicas` tasks each, every service sharing one spec object like a real service's tasks. */
function serviceTasks(services: number, replicas: number, spec: Spec, prefix = 't'): TaskView[] {
  const out: TaskView[] = [];
  for (let s = 0; s < services; s++) {
    for (let r = 0; r < replicas; r++) {
      out.push({ ID: `${prefix}${s}.${r}`, ServiceID: `svc${s}`, Slot: r + 1, DesiredState: 'running', Status: { State: 'pending' }, Spec: spec });
    }
  }
  return out;
}

const ruled: Spec = {
  Placement: { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }, { Spread: { SpreadDescriptor: 'node.labels.rack' } }], MaxReplicas: 5 },
  Resources: { Reservations: { NanoCPUs: 1e8, MemoryBytes: 64 * 1024 ** 2 } },
};

interface Scenario {
  name: string;
  pending: () => TaskView[];
  /** Tasks already running before the batch. */
  held?: () => TaskView[];
}

const scenarios: Scenario[] = [
  { name: `1 service x ${TASKS} replicas, no rules`, pending: () => serviceTasks(1, TASKS, {}) },
  { name: `100 services x ${TASKS / 100}, constraint + 2-level spread + max 5/node + reservations`, pending: () => serviceTasks(100, TASKS / 100, ruled) },
  { name: `${TASKS} services x 1 (a group per task)`, pending: () => serviceTasks(TASKS, 1, { Resources: { Reservations: { NanoCPUs: 1e8 } } }) },
  {
    name: `1 service x ${TASKS} onto nodes already running ${TASKS} tasks`,
    pending: () => serviceTasks(1, TASKS, {}, 'new'),
    held: () => serviceTasks(10, TASKS / 10, {}, 'old').map((t, i) => ({ ...t, NodeID: `node${String(i % NODES).padStart(5, '0')}`, Status: { State: 'running' } })),
  },
  {
    name: `1000 services x ${TASKS / 1000} more, each already running ${TASKS / 1000} tasks (rescheduling after failures)`,
    pending: () => serviceTasks(1000, TASKS / 1000, {}, 'new'),
    held: () => serviceTasks(1000, TASKS / 1000, {}, 'old').map((t, i) => ({ ...t, NodeID: `node${String((i * 7) % NODES).padStart(5, '0')}`, Status: { State: 'running' } })),
  },
];

export async function schedulerBench(): Promise<void> {
  const nodes = clusterNodes(NODES);
  console.log(`\n== scheduler: pure placement, ${TASKS} tasks over ${NODES} nodes (median of ${RUNS} runs) ==`);
  for (const s of scenarios) {
    const pending = s.pending();
    const held = s.held?.() ?? [];
    const times: number[] = [];
    let placed = 0;
    for (let i = 0; i < RUNS; i++) {
      const set = new NodeInfoSet(nodes, held);
      const t0 = process.hrtime.bigint();
      const r = scheduleBatch(pending, set);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      placed = r.assigned.length;
    }
    const ms = median(times);
    console.log(`  ${s.name}: ${Math.round((pending.length / ms) * 1000).toLocaleString('en-US')} tasks/s (${ms.toFixed(1)} ms, ${placed} placed)`);
  }
  const t0 = process.hrtime.bigint();
  const built = new NodeInfoSet(nodes, scenarios[3].held!());
  console.log(`  building the node set (${built.size} nodes, ${TASKS} running tasks): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
}

if (require.main === module) {
  schedulerBench().catch((e) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
