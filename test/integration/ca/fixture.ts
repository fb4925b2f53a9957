// A one-manager control plane for the CA tests, out of real parts: an etcd member and the
// EtcdStore, the cluster object with its CA in the store (sealed with a data key), one grpc-js
// server on loopback serving NodeCA (with the store) and the Dispatcher, and the leader's CA
// rotation reconciler. Nodes join with enroll() and the join token, then run what a node runs
// for its certificate: an AgentSession (its executor records assignments) and
// NodeCertificates, both on one TlsIdentity loaded from the node's state directory. The
// manager's server identity is loaded from its own state directory, so it follows what the
// manager node's certificate loop saves there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silenceLogging } from '../../../shared/log';
import type { Node, SwarmSpec } from '../../../shared/swarm';
import { addDispatcherService, addNodeCAService, loadNodeCredentials, RpcServer, saveNodeCredentials, serverCredentials, TlsIdentity, type NodeCredentials } from '../../../shared/rpc';
import { CARotationReconciler, initialClusterCA, newJoinTokens, newSwarmId, NodeCAService, RootCA, type CACluster } from '../../../manager/ca';
import { Dispatcher } from '../../../manager/dispatcher';
import { EtcdStore } from '../../../manager/store';
import { newDataKey } from '../../../manager/secrets';
import { enroll } from '../../../worker/agent/enroll';
import { AgentSession, type SessionState } from '../../../worker/agent/session';
import { NodeCertificates, type RenewedCertificate } from '../../../worker/agent/certs';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';
import { RecordingExecutor } from '../dispatcher/fixture';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

export interface TestNode {
  name: string;
  nodeId: string;
  dir: string;
  identity: TlsIdentity;
  /** What the node held when it joined (or started). */
  first: NodeCredentials;
  executor: RecordingExecutor;
  session: AgentSession;
  certs: NodeCertificates;
  renewed: RenewedCertificate[];
  /** Every session state the agent went through. */
  states: SessionState[];
  /** Session IDs the agent has had, in order. */
  sessionIds(): string[];
  stop(): Promise<void>;
}

export interface CAPlane {
  etcd: TestEtcd;
  store: EtcdStore;
  clusterId: string;
  root: RootCA;
  addr: string;
  base: string;
  /** The manager's server identity (follows the manager node's state directory). */
  serverIdentity: TlsIdentity;
  manager: TestNode;
  cluster(): Promise<CACluster>;
  node(id: string): Promise<Node | undefined>;
  /** What the swarm update handler does: the spec through applyCAConfig, written with a version check. */
  update(change: (spec: SwarmSpec) => SwarmSpec): Promise<void>;
  join(name: string, role?: 'worker' | 'manager'): Promise<TestNode>;
  stop(): Promise<void>;
}

export async function startCAPlane(opts: { certExpiryMs?: number } = {}): Promise<CAPlane> {
  const base = await mkdtemp(join(tmpdir(), 'shoal-ca-'));
  const etcd = await startTestEtcd();
  const store = EtcdStore.connect(etcd.endpoints);
  const clusterId = newSwarmId();
  const managerId = newSwarmId();
  const root = await RootCA.generate();
  const dataKey = newDataKey();
  const tokens = newJoinTokens(root.digest);
  const expiryMs = opts.certExpiryMs ?? 90 * 86_400_000;
  const now = new Date().toISOString();
  await store.create<CACluster & { ID: string }>('cluster', {
    ID: clusterId,
    CreatedAt: now,
    UpdatedAt: now,
    Spec: { CAConfig: { NodeCertExpiry: expiryMs * 1e6 } },
    ...initialClusterCA(root, dataKey),
    JoinTokens: { Worker: tokens.worker, Manager: tokens.manager },
  });
  const managerDir = join(base, 'manager');
  await saveNodeCredentials(managerDir, await root.issueCredentials({ nodeId: managerId, role: 'manager', clusterId, addr: '127.0.0.1', expiryMs }));
  const serverIdentity = new TlsIdentity((await loadNodeCredentials(managerDir))!);

  const server = new RpcServer();
  const cluster = async () => (await store.get<CACluster & { ID: string }>('cluster', clusterId))!;
  addNodeCAService(
    server,
    new NodeCAService({
      rootCA: root,
      clusterId,
      store,
      dataKey: () => dataKey,
      joinTokens: async () => {
        const t = (await cluster()).JoinTokens!;
        return { worker: t.Worker!, manager: t.Manager! };
      },
      registerNode: async (id, role, info) => {
        await store.create<Node>('nodes', { ID: id, Spec: { Role: role, Availability: 'active', Labels: {} }, Description: info.description as Node['Description'], Status: { State: 'unknown', Addr: '127.0.0.1' } });
      },
    }),
  );
  const dispatcher = new Dispatcher({ store, clusterId });
  addDispatcherService(server, dispatcher);
  const port = await server.listen('127.0.0.1:0', serverCredentials(serverIdentity, 'optional'));
  const addr = `127.0.0.1:${port}`;
  await store.create<Node>('nodes', { ID: managerId, Spec: { Role: 'manager', Availability: 'active' }, Status: { State: 'unknown' }, ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: addr } });
  await dispatcher.start();
  const reconciler = new CARotationReconciler({ store, resyncMs: 1000 });
  await reconciler.start();

  const nodes: TestNode[] = [];
  const runNode = async (name: string, nodeId: string, dir: string): Promise<TestNode> => {
    const first = (await loadNodeCredentials(dir))!;
    const identity = new TlsIdentity(first);
    const executor = new RecordingExecutor();
    const session = new AgentSession({ identity, managers: [addr], executor, description: () => ({ Hostname: name }) });
    const states: SessionState[] = [];
    session.onState((s) => states.push(s));
    const certs = new NodeCertificates({ identity, stateDir: dir, managers: () => session.managers.list(), addr: '127.0.0.1' });
    const renewed: RenewedCertificate[] = [];
    certs.onRenewed((r) => {
      renewed.push(r);
    });
    session.start();
    certs.start();
    const n: TestNode = {
      name,
      nodeId,
      dir,
      identity,
      first,
      executor,
      session,
      certs,
      renewed,
      states,
      sessionIds: () => [...new Set(states.flatMap((s) => (s.state === 'connected' ? [s.sessionId] : [])))],
      async stop() {
        await certs.stop();
        await session.stop();
      },
    };
    nodes.push(n);
    return n;
  };

  const plane: CAPlane = {
    etcd,
    store,
    clusterId,
    root,
    addr,
    base,
    serverIdentity,
    manager: await runNode('manager', managerId, managerDir),
    cluster,
    node: (id) => store.get<Node & { ID: string }>('nodes', id),
    async update(change) {
      const { applyCAConfig } = await import('../../../manager/ca');
      const c = await cluster();
      const spec = change(structuredClone(c.Spec));
      await store.update('cluster', { ...c, ...(await applyCAConfig(c, spec, { dataKey })) });
    },
    async join(name, role = 'worker') {
      const t = (await cluster()).JoinTokens!;
      const dir = join(base, name);
      const r = await enroll({ remoteAddr: addr, token: role === 'worker' ? t.Worker! : t.Manager!, advertiseAddr: '127.0.0.1', stateDir: dir, description: { Hostname: name } });
      return runNode(name, r.nodeId, dir);
    },
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await reconciler.stop();
      await dispatcher.stop();
      await server.stop(500);
      await store.close();
      await etcd.destroy();
      await rm(base, { recursive: true, force: true });
    },
  };
  return plane;
}

/** Poll until `fn` returns something truthy: a guard against a hung test, not a timing assertion. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, guardMs = 60_000): Promise<T> {
  const until = Date.now() + guardMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
