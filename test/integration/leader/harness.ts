// A swarm control plane without containers: a real etcd, the EtcdStore, the leader loops under
// test, simulated nodes, and a fake worker that plays the agent's part through the store. The
// worker is a driver of the protocol (it reads the tasks assigned to its nodes and reports
// their status through the shared transition function), not a stand-in for a component under
// test.
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderComponents } from '../../../manager/leader';
import { EtcdStore } from '../../../manager/store';
import { newService, updateService, validateServiceSpec } from '../../../manager/spec';
import { newSwarmId } from '../../../manager/ca/ids';
import { isShoalError } from '../../../shared/errors';
import { isDesiredAlive, isTerminal, stateRank, transitionTask, type Cluster, type Node, type Service, type ServiceSpec, type Task, type TaskStatusUpdate } from '../../../shared/swarm';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';

export const CPU = 1e9;
export const GiB = 1024 ** 3;
export const MS = 1e6; // nanoseconds

/** What the fake worker does with a task it is given: keep it running, or let it end. */
export type Outcome = 'run' | 'complete' | 'fail';

export interface NodeOpts {
  cpus?: number;
  memory?: number;
  labels?: Record<string, string>;
  role?: 'worker' | 'manager';
  availability?: 'active' | 'pause' | 'drain';
}

export class FakeWorkers {
  /** Nodes whose worker is connected and acting. */
  private readonly up = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ending = new Set<string>();
  private readonly ctl = new AbortController();
  private done: Promise<void> | undefined;
  /** Decides each task's fate when it starts (default: keeps running). */
  outcome: (t: Task) => Outcome = () => 'run';
  /** How long a task that ends runs first. */
  runMs = 30;

  constructor(private readonly store: EtcdStore) {}

  async start(): Promise<void> {
    const w = await this.store.watch(['tasks'], this.ctl.signal);
    for (const t of (w.snapshot.tasks ?? []) as Task[]) void this.step(t);
    this.done = (async () => {
      for await (const ev of w.events) if (ev.type === 'put') void this.step(ev.object as Task);
    })().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    for (const t of this.timers) clearTimeout(t);
    await this.done;
  }

  /** Connects (or disconnects) a node's worker; a reconnecting worker reviews all its tasks. */
  async setUp(nodeId: string, up: boolean): Promise<void> {
    if (!up) {
      this.up.delete(nodeId);
      return;
    }
    this.up.add(nodeId);
    const { items } = await this.store.list<Task>('tasks');
    for (const t of items) if (t.NodeID === nodeId) void this.step(t);
  }

  private async step(task: Task): Promise<void> {
    if (!task.NodeID || !this.up.has(task.NodeID) || this.ctl.signal.aborted) return;
    const state = task.Status.State;
    if (isTerminal(state) || stateRank(state) < stateRank('assigned')) return;
    if (!isDesiredAlive(task.DesiredState)) {
      await this.report(task, { State: 'shutdown', Message: 'shutdown' });
      return;
    }
    if (state !== 'running') {
      await this.report(task, { State: 'running', Message: 'started' });
      return;
    }
    const outcome = this.outcome(task);
    if (outcome === 'run' || this.ending.has(task.ID)) return;
    this.ending.add(task.ID);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void (async () => {
        const cur = await this.store.get<Task>('tasks', task.ID).catch(() => undefined);
        if (!cur || cur.Status.State !== 'running' || !cur.NodeID || !this.up.has(cur.NodeID)) return;
        const update: TaskStatusUpdate =
          outcome === 'complete'
            ? { State: 'complete', Message: 'finished', ContainerStatus: { ExitCode: 0 } }
            : { State: 'failed', Message: 'started', Err: 'task: non-zero exit (1)', ContainerStatus: { ExitCode: 1 } };
        await this.report(cur, update);
      })();
    }, this.runMs);
    this.timers.add(timer);
  }

  private async report(task: Task, update: TaskStatusUpdate): Promise<void> {
    try {
      const next = transitionTask(task, update);
      if (next !== task) await this.store.update('tasks', next);
    } catch (e) {
      // A newer version is on its way through the watch; the step runs again on it.
      if (isShoalError(e, 'CONFLICT') || isShoalError(e, 'NOT_FOUND') || isShoalError(e, 'FAILED_PRECONDITION')) return;
      throw e;
    }
  }
}

export interface Lab {
  etcd: TestEtcd;
  store: EtcdStore;
  leader: LeaderComponents;
  workers: FakeWorkers;
  addNode(id: string, o?: NodeOpts): Promise<Node>;
  updateNode(id: string, change: (n: Node) => void): Promise<Node>;
  removeNode(id: string): Promise<void>;
  createService(spec: ServiceSpec): Promise<Service>;
  updateService(id: string, change: (spec: ServiceSpec) => ServiceSpec): Promise<Service>;
  /** Stops the leader loops and starts fresh ones, as a leader change would. */
  newLeader(): Promise<void>;
  tasks(serviceId?: string): Promise<Task[]>;
  service(id: string): Promise<Service | undefined>;
  close(): Promise<void>;
}

export async function startLab(opts: { historyLimit?: number } = {}): Promise<Lab> {
  const etcd = await startTestEtcd();
  const store = new EtcdStore(etcd.client());
  const makeLeader = () => new LeaderComponents({ store, windowMs: 5, resyncMs: 2000 });
  const workers = new FakeWorkers(store);
  const lab: Lab = {
    etcd,
    store,
    leader: makeLeader(),
    workers,
    async addNode(id, o = {}) {
      const node: Node = {
        ID: id,
        Spec: { Name: id, Role: o.role ?? 'worker', Availability: o.availability ?? 'active', Labels: o.labels ?? {} },
        Description: { Hostname: id, Platform: { OS: 'linux', Architecture: 'x86_64' }, Resources: { NanoCPUs: (o.cpus ?? 4) * CPU, MemoryBytes: o.memory ?? 8 * GiB } },
        Status: { State: 'ready', Addr: '127.0.0.1' },
      };
      const created = await store.create<Node>('nodes', node);
      await workers.setUp(id, true);
      return created;
    },
    async updateNode(id, change) {
      return retry(async () => {
        const n = (await store.get<Node>('nodes', id))!;
        change(n);
        return store.update('nodes', n);
      });
    },
    async removeNode(id) {
      await workers.setUp(id, false);
      await store.delete('nodes', id);
    },
    async createService(spec) {
      const valid = validateServiceSpec(spec);
      return store.create<Service>('services', newService(valid, newSwarmId(), Date.now()));
    },
    async updateService(id, change) {
      return retry(async () => {
        const cur = (await store.get<Service>('services', id))!;
        const next = updateService(cur, validateServiceSpec(change(structuredClone(cur.Spec))), Date.now());
        return store.update('services', next);
      });
    },
    async newLeader() {
      await lab.leader.stop();
      lab.leader = makeLeader();
      await lab.leader.start();
    },
    async tasks(serviceId) {
      const { items } = await store.list<Task>('tasks');
      return serviceId ? items.filter((t) => t.ServiceID === serviceId) : items;
    },
    service: (id) => store.get<Service>('services', id),
    async close() {
      await lab.leader.stop();
      await workers.stop();
      await store.close();
      await etcd.destroy();
    },
  };
  try {
    const cluster: Cluster = { ID: newSwarmId(), Spec: { Name: 'default', Orchestration: { TaskHistoryRetentionLimit: opts.historyLimit ?? 5 } } };
    await store.create('cluster', cluster);
    await workers.start();
    await lab.leader.start();
  } catch (e) {
    await lab.close().catch(() => undefined);
    throw e;
  }
  return lab;
}

/** Retries a read-modify-write that lost a race with another writer. */
async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isShoalError(e, 'CONFLICT') || i >= 20) throw e;
      await sleep(10);
    }
  }
}

/** Polls until `check` returns a value (not undefined/false); on timeout, fails with what it last saw. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, describe?: () => Promise<unknown>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) {
      const seen = describe ? await describe() : undefined;
      throw new Error(`timed out waiting for ${what}${seen === undefined ? '' : `; last seen: ${JSON.stringify(seen)}`}`);
    }
    await sleep(40);
  }
}

/** Tasks the orchestrator wants alive. */
export const wanted = (ts: Task[]) => ts.filter((t) => isDesiredAlive(t.DesiredState));
export const running = (ts: Task[]) => ts.filter((t) => t.Status.State === 'running');
/** Running tasks per node, keys in node ID order. */
export function perNode(ts: Task[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of running(ts).sort((a, b) => ((a.NodeID ?? '') < (b.NodeID ?? '') ? -1 : 1))) out[t.NodeID ?? '?'] = (out[t.NodeID ?? '?'] ?? 0) + 1;
  return out;
}
/** A compact view of tasks for failure messages. */
export const brief = (ts: Task[]) => ts.map((t) => `${t.Slot ?? '-'}@${t.NodeID ?? '-'}:${t.Status.State}/${t.DesiredState}${t.Status.Err ? `(${t.Status.Err})` : ''}`).sort();
export const image = (t: Task) => t.Spec.ContainerSpec?.Image;

/** A replicated service spec of `replicas` busybox tasks with fast restart and update settings. */
export function replicated(name: string, replicas: number, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    Name: name,
    Mode: { Replicated: { Replicas: replicas } },
    TaskTemplate: { ContainerSpec: { Image: 'busybox:1' }, RestartPolicy: { Condition: 'any', Delay: 20 * MS } },
    UpdateConfig: { Parallelism: 1, Delay: 0, Monitor: 100 * MS },
    RollbackConfig: { Parallelism: 0, Delay: 0, Monitor: 100 * MS },
    ...over,
  };
}
