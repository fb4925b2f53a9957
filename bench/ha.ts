// Manager failover on a lab of three managers and two workers (real etcd, NATS, crun): kill -9
// of the swarm leader's shoald (its etcd member and NATS server die with it) until the first
// service update succeeds through another manager, and until both workers have a session
// again. Baseline in the same run: kill -9 of the etcd leader's process alone, until a plain
// etcd write through another member succeeds. Figures only.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { startLab, type TestLab } from '../test/helpers/lab';
import { median, ms, until } from './stats';

interface NodeJson {
  ID: string;
  Version: { Index: number };
  Description: { Hostname: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

const MANAGERS = ['m1', 'm2', 'm3'];
const runs = Number(process.env.BENCH_HA_RUNS ?? 5);


const nodes = (lab: TestLab, via: string) => lab.host(via).client.get<NodeJson[]>('/nodes');

async function settled(lab: TestLab): Promise<string> {
  return until('three reachable managers and a leader', async () => {
    const ms = (await nodes(lab, 'm1')).filter((n) => n.ManagerStatus);
    const leader = ms.find((n) => n.ManagerStatus!.Leader);
    return ms.length === 3 && ms.every((n) => n.ManagerStatus!.Reachability === 'reachable') && leader ? leader.Description.Hostname : undefined;
  });
}

/** One service update through `via`, with the version read there; true when it was accepted. */
async function update(lab: TestLab, via: string, service: string, n: number): Promise<boolean> {
  const c = lab.host(via).client;
  const s = await c.get<{ Version: { Index: number }; Spec: Record<string, unknown> & { Labels?: Record<string, string> } }>(`/services/${service}`);
  await c.post(`/services/${service}/update`, { query: { version: s.Version.Index }, body: { ...s.Spec, Labels: { ...(s.Spec.Labels ?? {}), bench: String(n) } } });
  return true;
}

/** When each worker's agent last opened a session, from its daemon log (ms since the epoch). */
async function sessionsOpenedAfter(lab: TestLab, t0: number): Promise<number | undefined> {
  const times: number[] = [];
  for (const w of ['w1', 'w2']) {
    const text = await fs.readFile(lab.lab.host(w).log, 'utf8');
    const opened = text
      .split('\n')
      .filter((l) => l.includes('"session open"'))
      .map((l) => Date.parse(JSON.parse(l).time as string))
      .filter((t) => t >= t0);
    if (!opened.length) return undefined;
    times.push(Math.min(...opened));
  }
  return Math.max(...times);
}

/** etcdctl inside a manager's namespace, with that manager's node certificate (the server's certificate names its advertised address, not the loopback the client port listens on: not checked here). */
function etcdctl(lab: TestLab, host: string, args: string[]) {
  const certs = join(lab.lab.host(host).dataRoot, 'swarm', 'certificates');
  return lab.exec(host, ['etcdctl', '--endpoints', 'https://127.0.0.1:2379', '--cacert', join(certs, 'swarm-root-ca.crt'), '--cert', join(certs, 'swarm-node.crt'), '--key', join(certs, 'swarm-node.key'), '--insecure-skip-tls-verify', '--command-timeout=500ms', '--dial-timeout=500ms', ...args]);
}

async function etcdAlone(lab: TestLab): Promise<number> {
  // Which manager's member leads etcd, and its pid.
  let leaderHost = '';
  for (const m of MANAGERS) {
    const r = await etcdctl(lab, m, ['endpoint', 'status', '-w', 'json']);
    const st = JSON.parse(r.stdout)[0]?.Status;
    if (st && st.leader === st.header.member_id) leaderHost = m;
  }
  if (!leaderHost) throw new Error('no etcd leader found');
  const pid = Number(JSON.parse(await fs.readFile(join(lab.lab.host(leaderHost).dataRoot, 'swarm', 'run', 'etcd.pid'), 'utf8')).pid);
  const via = MANAGERS.find((m) => m !== leaderHost)!;
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  await until('an etcd write through another member', async () => (await etcdctl(lab, via, ['put', '/bench/etcd-alone', String(t0)])).code === 0, 60_000, 0);
  return performance.now() - t0;
}

export async function haBench(): Promise<void> {
  const lab = await startLab({ managers: 3, workers: 2 });
  try {
    const spec = { Name: 'probe', TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'] }, Placement: { Constraints: ['node.role==worker'] } }, Mode: { Replicated: { Replicas: 2 } } };
    const id = (await lab.host('m1').client.post<{ ID: string }>('/services/create', { body: spec })).ID;
    const failover: number[] = [];
    const sessions: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < runs; i++) {
      const leader = await settled(lab);
      const via = MANAGERS.filter((m) => m !== leader);
      const wall0 = Date.now();
      const t0 = performance.now();
      await lab.kill(leader);
      let k = 0;
      await until('a service update after the leader died', () => update(lab, via[k++ % via.length], id, i), 60_000, 0);
      failover.push(performance.now() - t0);
      const at = await until('both workers in session again', () => sessionsOpenedAfter(lab, wall0), 60_000, 100);
      sessions.push(at - wall0);
      await lab.start(leader);
      await settled(lab);
      // The supervisor restarts the killed etcd member; wait until all three answer again.
      baseline.push(await etcdAlone(lab));
    }
    console.log(`  kill -9 of the swarm leader -> first service update accepted   median ${ms(median(failover))} of ${runs} (target <= 2.5 s; runs: ${failover.map(ms).join(', ')})`);
    console.log(`  kill -9 of the etcd leader alone -> first etcd write            median ${ms(median(baseline))} of ${runs} (baseline; runs: ${baseline.map(ms).join(', ')})`);
    console.log(`  both workers' sessions open again after the leader died        median ${ms(median(sessions))} of ${runs} (runs: ${sessions.map(ms).join(', ')})`);
  } finally {
    await lab.down();
  }
}
