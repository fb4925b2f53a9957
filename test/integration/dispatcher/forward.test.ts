// A worker served by a manager that does not lead: its dispatcher passes every call on to the
// leader's over mTLS (real gRPC on loopback, certificates from a real RootCA). The follower
// listens on IPv6 loopback and the leader on IPv4, so the address a node is recorded at tells
// whether the leader heard the worker's own address or the follower's.
import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import {
  addDispatcherService,
  clientCredentials,
  DispatcherClient,
  RpcClient,
  RpcServer,
  serverCredentials,
  TlsIdentity,
  type SessionMessage,
} from '../../../shared/rpc';
import type { Node, Task } from '../../../shared/swarm';
import { newSwarmId } from '../../../manager/ca';
import { Dispatcher, FORWARDED_NODE, type LeaderEndpoint } from '../../../manager/dispatcher';
import { assignedTask, eventually, startControlPlane, type ControlPlane, type Worker } from './fixture';

interface Manager {
  nodeId: string;
  identity: TlsIdentity;
  dispatcher: Dispatcher;
  server: RpcServer;
  addr: string;
}

describe('dispatcher forwarding: a worker on a follower works through the leader', function () {
  this.timeout(60_000);
  let c: ControlPlane;
  let follower: Manager;
  let leader2: Manager | undefined;
  let leader: LeaderEndpoint | undefined;
  let w: Worker;
  const life = new AbortController();
  const clients: RpcClient[] = [];
  const streams: AbortController[] = [];

  const managerIdentity = async (nodeId: string) => new TlsIdentity(await c.ca.issueCredentials({ nodeId, role: 'manager', clusterId: c.clusterId, addr: '127.0.0.1' }));
  /** A manager with its own gRPC server: dispatcher started or not, forwarding to `leader`. */
  const startManager = async (host: string): Promise<Manager> => {
    const nodeId = newSwarmId();
    const identity = await managerIdentity(nodeId);
    const dispatcher = new Dispatcher({
      store: c.store,
      clusterId: c.clusterId,
      managers: () => sessionManagers(),
      forward: { leader: () => leader, self: nodeId, credentials: clientCredentials(identity, { clusterId: c.clusterId }), signal: life.signal },
    });
    const server = new RpcServer();
    addDispatcherService(server, dispatcher);
    const port = await server.listen(`${host}:0`, serverCredentials(identity, 'require'));
    return { nodeId, identity, dispatcher, server, addr: `${host}:${port}` };
  };
  // Agents are told only of the follower, so they stay with it across reconnections.
  const sessionManagers = () => (follower ? [{ nodeId: follower.nodeId, addr: follower.addr, weight: 1 }] : []);
  const client = (identity: TlsIdentity, addr: string) => {
    const rpc = new RpcClient(addr, clientCredentials(identity, { clusterId: c.clusterId }));
    clients.push(rpc);
    return new DispatcherClient(rpc);
  };
  /** A registered worker node that the test drives by hand. */
  const rawWorker = async () => {
    const nodeId = newSwarmId();
    await c.addNode(nodeId);
    return { nodeId, identity: new TlsIdentity(await c.ca.issueCredentials({ nodeId, role: 'worker', clusterId: c.clusterId })) };
  };
  const openSession = async (d: DispatcherClient) => {
    const ac = new AbortController();
    streams.push(ac);
    const stream = d.session({ description: JSON.stringify({ Hostname: 'raw' }) }, { signal: ac.signal });
    const first = (await stream.next()).value as SessionMessage;
    return { stream, first, ac };
  };
  const node = (id: string) => c.store.get<Node>('nodes', id);
  const storedTask = (id: string) => c.store.get<Task>('tasks', id);
  const hasTask = (id: string) => (ev: Worker['executor']['events']) => ev.some((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).some((t) => t.ID === id));

  before(async () => {
    c = await startControlPlane({ managers: () => sessionManagers() });
    leader = { nodeId: c.managerId, addr: c.addr };
    follower = await startManager('[::1]');
  });
  after(async () => {
    for (const ac of streams) ac.abort();
    for (const r of clients) r.close();
    await c?.stop(); // stops the agents first
    for (const m of [follower, leader2]) {
      if (!m) continue;
      await m.dispatcher.stop();
      await m.server.stop(500);
    }
    life.abort();
  });

  it('a worker session through the follower is the leader\'s: its node is ready at the worker\'s own address', async () => {
    w = await c.worker({ name: 'w1', managers: [follower.addr] });
    await c.store.create<Task>('tasks', assignedTask('t1', w.nodeId));
    await eventually(() => c.dispatcher.sessionNodes().includes(w.nodeId), 'the leader to hold the worker\'s session');
    const n = await eventually(async () => {
      const got = await node(w.nodeId);
      return got?.Status?.State === 'ready' ? got : undefined;
    }, 'the node to be ready');
    assert.deepEqual(n.Status, { State: 'ready', Addr: '::1' }, 'the address the follower saw the worker at, not the follower\'s');
    assert.equal(n.Description?.Hostname, 'w1');
    const state = await eventually(() => (w.agent.state.state === 'connected' ? w.agent.state : undefined), 'the agent to be connected');
    assert.equal(state.manager, follower.addr);
    assert.equal(state.state === 'connected' && state.heartbeatPeriodMs, 500, 'the session message comes from the leader');
    assert.deepEqual(follower.dispatcher.sessionNodes(), [], 'the follower dispatches nothing itself');
  });

  it('assignments arrive through the follower and task status updates reach the leader\'s store', async () => {
    await w.executor.until(hasTask('t1'));
    await c.store.create<Task>('tasks', assignedTask('t2', w.nodeId));
    await w.executor.until(hasTask('t2'));
    w.executor.report(['t1', 'accepted'], ['t2', 'accepted']);
    w.executor.report(['t1', 'preparing']);
    await eventually(async () => (await storedTask('t1'))?.Status.State === 'preparing' && (await storedTask('t2'))?.Status.State === 'accepted', 'the reports to be stored');
    assert.equal(w.agent.state.state, 'connected');
    assert.equal(w.agent.state.state === 'connected' && w.agent.state.manager, follower.addr);
  });

  it('heartbeats go through and the leader\'s answers and errors come back unchanged', async () => {
    const raw = await rawWorker();
    const d = client(raw.identity, follower.addr);
    const { first } = await openSession(d);
    assert.ok(c.dispatcher.sessionNodes().includes(raw.nodeId));
    assert.deepEqual(await d.heartbeat({ sessionId: first.sessionId }), { periodMs: 500 });
    await assert.rejects(d.heartbeat({ sessionId: 'not-a-session' }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not the current session of node/.test(e.message));
    await assert.rejects(d.updateTaskStatus({ sessionId: first.sessionId, updates: [{ taskId: 't1', status: '{"State":"running"}' }] }), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /t1 is not assigned to node/.test(e.message));
    // A node the cluster does not know is refused by the leader's own membership check.
    const stranger = client(new TlsIdentity(await c.ca.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: c.clusterId })), follower.addr);
    await assert.rejects(stranger.session({ description: '{}' }).next(), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not registered in this cluster/.test(e.message));
  });

  it('a worker certificate naming another node is refused; a manager\'s is believed and checked like a direct caller', async () => {
    const raw = await rawWorker();
    const md = { metadata: { [FORWARDED_NODE]: w.nodeId } };
    for (const addr of [c.addr, follower.addr]) {
      await assert.rejects(client(raw.identity, addr).heartbeat({ sessionId: 'x' }, md), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /only a manager may pass on calls/.test(e.message));
      await assert.rejects(client(raw.identity, addr).session({ description: '{}' }, md).next(), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED'));
    }
    const asManager = client(follower.identity, c.addr);
    await assert.rejects(asManager.heartbeat({ sessionId: 'x' }, { metadata: { [FORWARDED_NODE]: newSwarmId() } }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not registered in this cluster/.test(e.message));
    await assert.rejects(asManager.heartbeat({ sessionId: 'x' }, md), (e: unknown) => isShoalError(e, 'NOT_FOUND') && new RegExp(`not the current session of node ${w.nodeId}`).test(e.message));
    // A forwarded call that reaches a manager that does not lead either goes no further.
    const other = await managerIdentity(newSwarmId());
    await assert.rejects(client(other, follower.addr).heartbeat({ sessionId: 'x' }, md), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /is not dispatching/.test(e.message));
  });

  it('when the leader moves, forwarded streams end UNAVAILABLE and the worker carries on through the follower to the new leader', async () => {
    const raw = await rawWorker();
    const d = client(raw.identity, follower.addr);
    const { stream, first, ac } = await openSession(d);
    const assignments = d.assignments({ sessionId: first.sessionId }, { signal: ac.signal });
    assert.equal((await assignments.next()).value?.type, 'COMPLETE');

    leader2 = await startManager('127.0.0.1');
    await leader2.dispatcher.start();
    leader = { nodeId: leader2.nodeId, addr: leader2.addr };
    // The old leader still runs: what ends these streams is the follower seeing the change.
    await assert.rejects(stream.next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /the leader changed/.test(e.message));
    await assert.rejects(assignments.next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /the leader changed/.test(e.message));
    await c.dispatcher.stop();

    await eventually(() => leader2!.dispatcher.sessionNodes().includes(w.nodeId), 'the new leader to hold the worker\'s session');
    await c.store.create<Task>('tasks', assignedTask('t3', w.nodeId));
    await w.executor.until(hasTask('t3'));
    w.executor.report(['t3', 'accepted']);
    await eventually(async () => (await storedTask('t3'))?.Status.State === 'accepted', 'the report to reach the new leader');
    assert.equal(w.agent.state.state === 'connected' && w.agent.state.manager, follower.addr);
  });

  it('while the leader is unknown, the follower answers UNAVAILABLE', async () => {
    const raw = await rawWorker();
    const d = client(raw.identity, follower.addr);
    const saved = leader;
    leader = undefined;
    try {
      await assert.rejects(d.session({ description: '{}' }).next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /leader is not known/.test(e.message));
      await assert.rejects(d.heartbeat({ sessionId: 'x' }), (e: unknown) => isShoalError(e, 'UNAVAILABLE'));
    } finally {
      leader = saved;
    }
  });

  it('when the follower itself becomes the leader, it ends what it forwarded and serves the worker itself', async () => {
    const was = leader2!.dispatcher;
    leader = { nodeId: follower.nodeId, addr: follower.addr };
    await follower.dispatcher.start();
    await was.stop();
    await eventually(() => follower.dispatcher.sessionNodes().includes(w.nodeId), 'the follower, now leading, to hold the worker\'s session');
    await c.store.create<Task>('tasks', assignedTask('t4', w.nodeId));
    await w.executor.until(hasTask('t4'));
    w.executor.report(['t4', 'accepted']);
    await eventually(async () => (await storedTask('t4'))?.Status.State === 'accepted', 'the report to be stored');
  });
});
