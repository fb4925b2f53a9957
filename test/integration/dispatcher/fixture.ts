// A manager for the dispatcher tests: a real root CA, a grpc-js server on loopback requiring
// mTLS, the MemoryStore (it passes the store conformance suite) and a real Dispatcher; plus
// workers (real AgentSessions) whose executor records what it is told and reports what the
// test says, standing in for the task manager.
import { RpcServer, serverCredentials, TlsIdentity, addDispatcherService, type NodeCredentials, type WeightedPeer } from '../../../shared/rpc';
import { silenceLogging } from '../../../shared/log';
import type { Node, Task, TaskState, TaskStatus } from '../../../shared/swarm';
import { newSwarmId, RootCA } from '../../../manager/ca';
import { Dispatcher } from '../../../manager/dispatcher';
import { MemoryStore, type ClusterStore } from '../../../manager/store';
import { AgentSession, gatherNodeDescription, type AgentSessionOptions, type AssignedDependencies, type AssignmentChanges, type StatusReport, type TaskExecutor } from '../../../worker/agent/session';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

export type ExecutorEvent = { type: 'complete'; tasks: Task[]; dependencies: AssignedDependencies } | { type: 'changes'; changes: AssignmentChanges };

/** Records the assignments it gets; report() plays a task moving on the node. */
export class RecordingExecutor implements TaskExecutor {
  readonly events: ExecutorEvent[] = [];
  private queue: StatusReport[][] = [];
  private wake: (() => void) | undefined;
  private readonly watchers = new Set<() => void>();

  setAssignments(tasks: Task[], dependencies: AssignedDependencies): void {
    this.events.push({ type: 'complete', tasks, dependencies });
    this.changed();
  }

  applyChanges(changes: AssignmentChanges): void {
    this.events.push({ type: 'changes', changes });
    this.changed();
  }

  report(...reports: Array<[taskId: string, state: TaskState, message?: string]>): void {
    this.queue.push(reports.map(([taskId, State, Message]) => ({ taskId, status: { State, Message: Message ?? State, Timestamp: new Date().toISOString() } as TaskStatus })));
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *statusUpdates(): AsyncIterable<StatusReport[]> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift() as StatusReport[];
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Resolves once `pred` holds for the events so far. */
  until(pred: (events: ExecutorEvent[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!pred(this.events)) return;
        this.watchers.delete(check);
        resolve();
      };
      this.watchers.add(check);
      check();
    });
  }

  private changed(): void {
    for (const w of [...this.watchers]) w();
  }
}

export interface Worker {
  nodeId: string;
  creds: NodeCredentials;
  executor: RecordingExecutor;
  agent: AgentSession;
}

export interface ControlPlane {
  ca: RootCA;
  clusterId: string;
  store: ClusterStore;
  dispatcher: Dispatcher;
  server: RpcServer;
  port: number;
  addr: string;
  managerId: string;
  identity: TlsIdentity;
  /** A Node object as the CA's registerNode would write it. */
  addNode(nodeId: string, status?: Node['Status']): Promise<Node>;
  /** A registered worker node with a started agent session. */
  worker(opts?: { name?: string; managers?: string[]; agent?: Partial<AgentSessionOptions> }): Promise<Worker>;
  /** Stop the gRPC server and start a new one (and a new Dispatcher) on the same port: a manager restart. */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** What session messages tell agents (default: from the store's manager nodes). */
  managers?: () => WeightedPeer[];
  heartbeatPeriodMs?: number;
  /** Default a MemoryStore; closed by stop(). */
  store?: ClusterStore;
}

export async function startControlPlane(o: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const ca = await RootCA.generate();
  const clusterId = newSwarmId();
  const managerId = newSwarmId();
  const identity = new TlsIdentity(await ca.issueCredentials({ nodeId: managerId, role: 'manager', clusterId, addr: '127.0.0.1' }));
  const store = o.store ?? new MemoryStore();
  const agents: AgentSession[] = [];
  const newDispatcher = () => new Dispatcher({ store, clusterId, managers: o.managers, defaultHeartbeatPeriodMs: o.heartbeatPeriodMs });

  const serve = async (port: number) => {
    const server = new RpcServer();
    const dispatcher = newDispatcher();
    addDispatcherService(server, dispatcher);
    const bound = await server.listen(`127.0.0.1:${port}`, serverCredentials(identity, 'require'));
    await dispatcher.start();
    return { server, dispatcher, port: bound };
  };

  const first = await serve(0);
  const c: ControlPlane = {
    ca,
    clusterId,
    store,
    managerId,
    identity,
    ...first,
    addr: `127.0.0.1:${first.port}`,
    async addNode(nodeId, status = { State: 'unknown' }) {
      return store.create<Node>('nodes', { ID: nodeId, Spec: { Role: 'worker', Availability: 'active' }, Status: status });
    },
    async worker(w = {}) {
      const nodeId = newSwarmId();
      await c.addNode(nodeId);
      const creds = await ca.issueCredentials({ nodeId, role: 'worker', clusterId });
      const executor = new RecordingExecutor();
      const agent = new AgentSession({
        identity: new TlsIdentity(creds),
        managers: w.managers ?? [c.addr],
        executor,
        description: () => gatherNodeDescription({ hostname: w.name ?? 'worker', labels: { zone: 'a' } }),
        ...w.agent,
      });
      agents.push(agent);
      agent.start();
      return { nodeId, creds, executor, agent };
    },
    async restartServer() {
      await c.dispatcher.stop();
      await c.server.stop(500);
      const next = await serve(c.port);
      c.server = next.server;
      c.dispatcher = next.dispatcher;
    },
    async stop() {
      await Promise.allSettled(agents.map((a) => a.stop()));
      await c.dispatcher.stop();
      await c.server.stop(500);
      await store.close();
    },
  };
  // The manager's own node: session messages list it.
  await store.create<Node>('nodes', { ID: managerId, Spec: { Role: 'manager', Availability: 'active' }, Status: { State: 'ready' }, ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: c.addr } });
  return c;
}

/** Poll until `fn` returns something truthy: a guard against a hung test, not a timing assertion. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, guardMs = 20_000): Promise<T> {
  const until = Date.now() + guardMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function assignedTask(id: string, nodeId: string, over: Partial<Task> = {}): Task {
  return {
    ID: id,
    ServiceID: 'svc1',
    Slot: 1,
    NodeID: nodeId,
    Spec: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '1000'] } },
    Status: { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: new Date().toISOString() },
    DesiredState: 'running',
    ...over,
  };
}
