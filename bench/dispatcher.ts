// Manager memory with 1,000 simulated nodes heartbeating. A real etcd member and root CA; the
// manager (RpcServer + Dispatcher on mTLS, dispatcher started, leader loops) runs in a child
// process (bench/dispatcher-manager) so that its resident memory is measured alone. The nodes
// are AgentSessions, each with its own certificate and gRPC channel, registered in the store
// as a join leaves a node, heartbeating at the cluster's period and running nothing (an
// executor that accepts assignments and never reports). They are spread over a few "node host"
// processes (this module, forked with the argument `nodes`): in one process, a stall of its
// event loop (a GC, a burst of reconnects) made heartbeats late for all of them at once, and the
// late ones' reconnections fed the next stall. Figures only; nothing fails on timing.
import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { newSwarmId, RootCA } from '../manager/ca';
import { swarmSpecWithDefaults } from '../manager/membership';
import { EtcdStore, type BatchOp } from '../manager/store';
import { TlsIdentity, type NodeCredentials } from '../shared/rpc';
import type { Node, NodeDescription } from '../shared/swarm';
import { startTestEtcd, type TestEtcd } from '../test/helpers/etcd';
import { freePort } from '../test/helpers/registry';
import { AgentSession, gatherNodeDescription } from '../worker/agent/session';
import { BenchChild, idleExecutor, serveParent, type ManagerIn, type ManagerOut } from './dispatcher-manager';
import { mb, ms, rssBytes } from './stats';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const STEADY_MS = Number(process.env.BENCH_STEADY_MS ?? 30_000);
/** Node host processes the nodes are spread over. */
const HOSTS = Math.max(1, Number(process.env.BENCH_NODE_HOSTS ?? 4));
/** Sessions opening at once, over all hosts (see startPaced). */
const OPENING = Number(process.env.BENCH_OPENING ?? 48);
/** Give up waiting for every node to be READY after this long (and report how many were). */
const READY_GUARD_MS = Number(process.env.BENCH_READY_GUARD_MS ?? 120_000);
/**
 * The cluster's heartbeat period (SwarmSpec.Dispatcher.HeartbeatPeriod, as `swarm update
 * --dispatcher-heartbeat` sets it); default shoal's own default (500 ms).
 */
const HEARTBEAT_MS = process.env.BENCH_HEARTBEAT_MS ? Number(process.env.BENCH_HEARTBEAT_MS) : undefined;

// ------------------------------------------------------------------ node hosts

interface HostStart {
  type: 'start';
  addr: string;
  clusterId: string;
  /** How many of this host's sessions may be opening at once. */
  opening: number;
  nodes: Array<{ creds: NodeCredentials; description: NodeDescription }>;
}
/** stats with reset: the event-loop delay histogram starts over after this answer. */
type HostIn = HostStart | { type: 'stats'; reset?: boolean } | { type: 'stop' };
interface HostStats {
  type: 'stats';
  connected: number;
  /** Session attempts that failed (the agent then opens a new session). */
  failed: number;
  lagP99Ms: number;
  lagMaxMs: number;
  cpu: NodeJS.CpuUsage;
}
type HostOut = { type: 'started' } | HostStats | { type: 'stopped' };

/** The node host: its share of the simulated nodes, one AgentSession each. */
function hostNodes(): void {
  const life = new AbortController();
  const sessions: AgentSession[] = [];
  let failed = 0;
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  serveParent<HostIn, HostOut>(async (msg, reply) => {
    if (msg.type === 'start') {
      setMaxListeners(msg.nodes.length * 4, life.signal); // every session and its executor wait on it
      for (const n of msg.nodes) {
        const s = new AgentSession({ identity: new TlsIdentity(n.creds), clusterId: msg.clusterId, managers: [msg.addr], executor: idleExecutor(life.signal), description: () => n.description });
        s.onState((st) => st.state === 'disconnected' && failed++);
        sessions.push(s);
      }
      void startPaced(sessions, msg.opening, life.signal);
      reply({ type: 'started' });
    } else if (msg.type === 'stats') {
      const connected = sessions.filter((s) => s.state.state === 'connected').length;
      reply({ type: 'stats', connected, failed, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6, cpu: process.cpuUsage() });
      if (msg.reset) lag.reset();
    } else if (msg.type === 'stop') {
      life.abort();
      await Promise.allSettled(sessions.map((s) => s.stop()));
      reply({ type: 'stopped' }, 0);
    }
  });
}

type Host = BenchChild<HostIn, HostOut>;

async function hostStats(hosts: Host[], reset = false): Promise<{ connected: number; failed: number; lagP99Ms: number; lagMaxMs: number; cpuUs: number }> {
  const all = await Promise.all(hosts.map((h) => h.ask({ type: 'stats', reset }, 'stats')));
  return {
    connected: all.reduce((n, s) => n + s.connected, 0),
    failed: all.reduce((n, s) => n + s.failed, 0),
    lagP99Ms: Math.max(...all.map((s) => s.lagP99Ms)),
    lagMaxMs: Math.max(...all.map((s) => s.lagMaxMs)),
    cpuUs: all.reduce((n, s) => n + s.cpu.user + s.cpu.system, 0),
  };
}

// ------------------------------------------------------------------ the benchmark

/** Worker node states as the store says, from one watch; resolves allReady when every worker is READY. */
class NodeStates {
  readonly state = new Map<string, string>();
  /** Times a worker went from something else to DOWN, before and after every worker was READY. */
  downsBeforeReady = 0;
  downsAfterReady = 0;
  readyAt: number | undefined;
  private resolveReady!: () => void;
  readonly allReady = new Promise<void>((r) => (this.resolveReady = r));

  constructor(private readonly workers: Set<string>) {}

  async follow(store: EtcdStore, signal: AbortSignal): Promise<void> {
    const w = await store.watch(['nodes'], signal);
    for (const n of (w.snapshot.nodes ?? []) as unknown as Node[]) this.set(n.ID, n.Status?.State ?? 'unknown');
    void (async () => {
      for await (const ev of w.events) if (ev.type === 'put') this.set(ev.id, (ev.object as unknown as Node).Status?.State ?? 'unknown');
    })().catch(() => undefined);
  }

  get ready(): number {
    let n = 0;
    for (const s of this.state.values()) if (s === 'ready') n++;
    return n;
  }

  private set(id: string, s: string): void {
    if (!this.workers.has(id)) return;
    const before = this.state.get(id);
    this.state.set(id, s);
    if (s === 'down' && before !== 'down') {
      if (this.readyAt === undefined) this.downsBeforeReady++;
      else this.downsAfterReady++;
    }
    if (this.readyAt === undefined && s === 'ready' && this.ready === this.workers.size) {
      this.readyAt = performance.now();
      this.resolveReady();
    }
  }
}

/**
 * Start the sessions, at most `limit` of them opening at a time. Opening a channel costs its
 * process a few ms of CPU (grpc-js builds TLS contexts for it, and compares the new channel with
 * every other in its subchannel pool); a thousand opened at once keep one event loop busy past
 * the agents' 3 s connect timeout, and then every one of them fails and starts over, for ever.
 * Real nodes do not share an event loop.
 */
function startPaced(sessions: AgentSession[], limit: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let next = 0;
    let opening = 0;
    const pump = () => {
      while (!signal.aborted && opening < limit && next < sessions.length) {
        const s = sessions[next++];
        opening++;
        const off = s.onState((st) => {
          if (st.state === 'connecting') return;
          off();
          opening--;
          pump();
        });
        s.start(signal);
      }
      if (signal.aborted || next >= sessions.length) resolve();
    };
    pump();
  });
}

/** What registerNode (manager/manager.ts) writes for a worker that joined. */
function joinedNode(id: string, description: NodeDescription, now: string): Node {
  return { ID: id, CreatedAt: now, UpdatedAt: now, Spec: { Role: 'worker', Availability: 'active', Labels: {} }, Description: description, Status: { State: 'unknown', Addr: '127.0.0.1' } };
}

async function issueAll(ca: RootCA, clusterId: string, n: number): Promise<Array<{ nodeId: string; creds: NodeCredentials }>> {
  const out: Array<{ nodeId: string; creds: NodeCredentials }> = [];
  for (let i = 0; i < n; i += 50) {
    const ids = Array.from({ length: Math.min(50, n - i) }, () => newSwarmId());
    out.push(...(await Promise.all(ids.map(async (nodeId) => ({ nodeId, creds: await ca.issueCredentials({ nodeId, role: 'worker', clusterId }) })))));
  }
  return out;
}

async function writeAll(store: EtcdStore, ops: BatchOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 500) {
    const results = await store.batch(ops.slice(i, i + 500), { atomic: false });
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) throw failed.error;
  }
}

/** The nodes, with a few tries: etcd may be slow to answer on a loaded machine. */
async function listNodes(store: EtcdStore): Promise<Node[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await store.list<Node>('nodes')).items;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(1000);
    }
  }
}

/** Warnings and errors in a pino log, counted by message: "1000 (980 'node missed...', ...)". */
function warningSummary(log: string): string {
  const byMsg = new Map<string, number>();
  for (const line of log.split('\n')) {
    try {
      const e = JSON.parse(line) as { level?: number; msg?: string };
      if ((e.level ?? 0) >= 40) byMsg.set(e.msg ?? '?', (byMsg.get(e.msg ?? '?') ?? 0) + 1);
    } catch {
      if (line.trim()) byMsg.set('(not JSON)', (byMsg.get('(not JSON)') ?? 0) + 1);
    }
  }
  const total = [...byMsg.values()].reduce((a, b) => a + b, 0);
  const top = [...byMsg].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${n} '${m}'`);
  return total ? `${total} (${top.join(', ')})` : '0';
}

const secs = (msv: number) => `${(msv / 1000).toFixed(1)} s`;
const cpuUs = (u: { cpu: NodeJS.CpuUsage }) => u.cpu.user + u.cpu.system;

export async function dispatcherBench(): Promise<void> {
  const spec = swarmSpecWithDefaults(HEARTBEAT_MS ? { Dispatcher: { HeartbeatPeriod: HEARTBEAT_MS * 1e6 } } : {});
  const periodMs = (spec.Dispatcher?.HeartbeatPeriod as number) / 1e6;
  console.log(`\n== dispatcher: ${NODES} simulated nodes heartbeating every ${periodMs} ms${HEARTBEAT_MS ? '' : ' (the default)'}: mTLS gRPC, a certificate and channel per node, real etcd ==`);
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-bench-dispatcher-'));
  const life = new AbortController();
  const hosts: Host[] = [];
  let etcd: TestEtcd | undefined;
  let store: EtcdStore | undefined;
  let manager: BenchChild<ManagerIn, ManagerOut> | undefined;
  try {
    etcd = await startTestEtcd();
    store = new EtcdStore(etcd.client());
    const ca = await RootCA.generate();
    const clusterId = newSwarmId();
    const managerId = newSwarmId();
    const addr = `127.0.0.1:${await freePort()}`;
    const base = gatherNodeDescription();
    const describe = (hostname: string): NodeDescription => ({ ...base, Hostname: hostname });

    let t = performance.now();
    const managerCreds = await ca.issueCredentials({ nodeId: managerId, role: 'manager', clusterId, addr: '127.0.0.1' });
    const workers = await issueAll(ca, clusterId, NODES);
    console.log(`  ${NODES} worker certificates issued by the root CA in ${ms(performance.now() - t)}`);

    // What swarm init and NODES joins leave in the store: the cluster, the manager's node, the workers' nodes.
    const now = new Date().toISOString();
    await store.create('cluster', { ID: clusterId, CreatedAt: now, UpdatedAt: now, Spec: spec, TLSInfo: { TrustRoot: ca.certPem } } as never);
    await store.create('nodes', {
      ID: managerId,
      CreatedAt: now,
      UpdatedAt: now,
      Spec: { Role: 'manager', Availability: 'active', Labels: {} },
      Description: describe('bench-manager'),
      Status: { State: 'ready', Addr: '127.0.0.1' },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: addr },
    } as never);
    await writeAll(store, workers.map((w, i) => ({ op: 'create', kind: 'nodes', object: joinedNode(w.nodeId, describe(`sim-${i}`), now) as never })));

    const states = new NodeStates(new Set(workers.map((w) => w.nodeId)));
    await states.follow(store, life.signal);

    // Warnings and errors only (nodes marked down, failed writes), into a file; counted at the end.
    manager = BenchChild.fork<ManagerIn, ManagerOut>('manager process', join(__dirname, 'dispatcher-manager.js'), { logFile: join(dir, 'manager.log'), logLevel: 'warn', execArgv: ['--expose-gc'] });
    await manager.ask({ type: 'start', etcdEndpoints: etcd.endpoints, clusterId, creds: managerCreds, addr, description: describe('bench-manager') }, 'ready');
    for (let h = 0; h < HOSTS; h++) hosts.push(BenchChild.fork<HostIn, HostOut>(`node host ${h + 1}`, __filename, { args: ['nodes'], logFile: join(dir, `nodes-${h + 1}.log`), logLevel: 'silent' }));
    await sleep(1000); // let the loops settle on their first snapshot
    const rssStarted = rssBytes(manager.pid);
    console.log(`  manager process RSS, dispatcher and leader loops started, no sessions yet: ${mb(rssStarted)}`);

    t = performance.now();
    await Promise.all(
      hosts.map((h, k) => {
        const nodes = workers.flatMap((w, i) => (i % HOSTS === k ? [{ creds: w.creds, description: describe(`sim-${i}`) }] : []));
        return h.ask({ type: 'start', addr, clusterId, opening: Math.max(1, Math.round(OPENING / HOSTS)), nodes }, 'started');
      }),
    );
    const progress = setInterval(() => {
      void hostStats(hosts)
        .then((st) => console.log(`    ... ${secs(performance.now() - t)}: ${states.ready} READY, ${st.connected} sessions connected, ${st.failed} failed`))
        .catch(() => undefined);
    }, 15_000);
    const guard = new AbortController();
    const timedOut = sleep(READY_GUARD_MS, 'timeout' as const, { signal: guard.signal }).catch(() => 'timeout' as const);
    const allReady = (await Promise.race([states.allReady.then(() => 'ready' as const), timedOut])) === 'ready';
    guard.abort();
    clearInterval(progress);
    const readyMs = (states.readyAt ?? performance.now()) - t;
    const rssReady = rssBytes(manager.pid);
    const u0 = await manager.ask({ type: 'usage' }, 'usage');
    const h0 = await hostStats(hosts, true);
    console.log(`  all ${NODES} nodes READY in the store ${allReady ? `${secs(readyMs)} after their sessions started (${HOSTS} node processes, at most ${OPENING} sessions opening at a time)` : `NOT within ${secs(READY_GUARD_MS)} (${states.ready} were)`}`);
    console.log(`    (nodes the new dispatcher marked DOWN before they got through: ${states.downsBeforeReady}; session attempts that failed and were redone: ${h0.failed})`);
    console.log(`  manager process RSS, ${allReady ? `all ${NODES} nodes READY` : 'when giving up on that'}: ${mb(rssReady)}   (heap used ${mb(u0.memory.heapUsed)}, external ${mb(u0.memory.external)})`);

    const downsBefore = states.downsBeforeReady + states.downsAfterReady;
    await sleep(STEADY_MS);
    const rssSteady = rssBytes(manager.pid);
    const u1 = await manager.ask({ type: 'usage' }, 'usage');
    const h1 = await hostStats(hosts);
    const managerCpuMs = (cpuUs(u1) - cpuUs(u0)) / 1000;
    const beatsDue = (NODES * STEADY_MS) / periodMs;
    const pct = (cpuMs: number) => `${((cpuMs / STEADY_MS) * 100).toFixed(0)}%`;
    console.log(`  manager process RSS, after ${secs(STEADY_MS)} of heartbeats: ${mb(rssSteady)}   (heap used ${mb(u1.memory.heapUsed)}, external ${mb(u1.memory.external)}; ${((rssSteady - rssStarted) / NODES / 1024).toFixed(0)} KB per node over no sessions)`);
    console.log(`    in those ${secs(STEADY_MS)} (${Math.round((NODES * 1000) / periodMs)} heartbeats/s due): ${states.downsBeforeReady + states.downsAfterReady - downsBefore} nodes marked DOWN, ${h1.failed - h0.failed} sessions lost`);
    console.log(`    CPU, of one core: manager ${pct(managerCpuMs)} (${(managerCpuMs / beatsDue).toFixed(2)} ms per heartbeat due), the ${HOSTS} node processes ${pct((h1.cpuUs - h0.cpuUs) / 1000)} together (their event-loop delay p99 ${ms(h1.lagP99Ms)}, max ${ms(h1.lagMaxMs)})`);

    const items = await listNodes(store);
    const readyWorkers = items.filter((n) => n.Spec.Role === 'worker' && n.Status?.State === 'ready').length;
    const log = await fs.readFile(join(dir, 'manager.log'), 'utf8').catch(() => '');
    console.log(`  READY worker nodes in the store at the end: ${readyWorkers}/${NODES} (sessions connected: ${h1.connected}); manager warnings logged: ${warningSummary(log)}`);
    const g = await manager.ask({ type: 'usage', gc: true }, 'usage');
    console.log(`  manager after a forced full GC (after the figures above): heap used ${mb(g.memory.heapUsed)}, RSS ${mb(rssBytes(manager.pid))}`);
    const etcdPid = etcd.member.pid;
    if (etcdPid !== undefined) console.log(`  etcd RSS: ${mb(rssBytes(etcdPid))}`);
  } finally {
    life.abort();
    await Promise.allSettled(hosts.map((h) => h.stop({ type: 'stop' })));
    await manager?.stop({ type: 'stop' });
    await store?.close();
    await etcd?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  if (process.argv[2] === 'nodes') hostNodes();
  else
    dispatcherBench().catch((e) => {
      console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    });
}
