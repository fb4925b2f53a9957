import assert from 'node:assert/strict';
import os from 'node:os';
import { isShoalError } from '../../../shared/errors';
import { clientCredentials, DispatcherClient, RpcClient, TlsIdentity, type SessionMessage } from '../../../shared/rpc';
import type { Node, Task } from '../../../shared/swarm';
import { newSwarmId, RootCA } from '../../../manager/ca';
import { SHOAL_VERSION } from '../../../worker/api/system';
import { AgentSession } from '../../../worker/agent/session';
import { assignedTask, eventually, RecordingExecutor, startControlPlane, type ControlPlane, type ExecutorEvent, type Worker } from './fixture';

const changesOf = (e: ExecutorEvent | undefined) => (e?.type === 'changes' ? e.changes : undefined);

describe('dispatcher and agent session over mTLS', function () {
  this.timeout(30_000);
  let c: ControlPlane;
  let w: Worker;
  const clients: RpcClient[] = [];
  const rawClient = (identity: TlsIdentity, clusterId?: string) => {
    const rpc = new RpcClient(c.addr, clientCredentials(identity, { clusterId: clusterId ?? c.clusterId }));
    clients.push(rpc);
    return new DispatcherClient(rpc);
  };
  const node = (id: string) => c.store.get<Node>('nodes', id);
  const storedTask = (id: string) => c.store.get<Task>('tasks', id);

  before(async () => {
    c = await startControlPlane();
  });
  after(async () => {
    for (const r of clients) r.close();
    await c?.stop();
  });

  it('a worker session registers its node as ready, with its description and address', async () => {
    await c.store.create<Task>('tasks', assignedTask('t-before', 'placeholder')); // another node's task: not sent
    w = await c.worker({ name: 'w1' });
    await c.store.create<Task>('tasks', assignedTask('t1', w.nodeId));
    const n = await eventually(async () => {
      const got = await node(w.nodeId);
      return got?.Status?.State === 'ready' ? got : undefined;
    }, 'the node to be ready');
    assert.deepEqual(n.Status, { State: 'ready', Addr: '127.0.0.1' });
    assert.equal(n.Description?.Hostname, 'w1');
    assert.deepEqual(n.Description?.Platform, { Architecture: os.arch() === 'x64' ? 'x86_64' : n.Description?.Platform?.Architecture, OS: 'linux' });
    assert.deepEqual(n.Description?.Resources, { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() });
    assert.equal(n.Description?.Engine?.EngineVersion, SHOAL_VERSION);
    assert.deepEqual(n.Description?.Engine?.Labels, { zone: 'a' });
    assert.deepEqual(n.Spec, { Role: 'worker', Availability: 'active' }, 'the user-owned spec is untouched');

    const state = await eventually(() => (w.agent.state.state === 'connected' ? w.agent.state : undefined), 'the agent to be connected');
    assert.equal(state.state === 'connected' && state.heartbeatPeriodMs, 500);
    assert.equal(state.state === 'connected' && state.node?.ID, w.nodeId);
    assert.deepEqual(w.agent.managers.list(), [c.addr], 'the manager list comes from the session message');
    assert.deepEqual(c.dispatcher.sessionNodes().sort(), [w.nodeId]);
  });

  it('the node\'s tasks arrive as a COMPLETE set, then as INCREMENTAL updates and removals', async () => {
    await w.executor.until((ev) => ev.some((e) => e.type === 'complete' && e.tasks.some((t) => t.ID === 't1')) || ev.some((e) => changesOf(e)?.updated.some((t) => t.ID === 't1')));
    const complete = w.executor.events[0];
    assert.equal(complete.type, 'complete');
    assert.ok(complete.type === 'complete' && complete.tasks.every((t) => t.NodeID === w.nodeId), 'only this node\'s tasks');

    const seen = w.executor.events.length;
    await c.store.create<Task>('tasks', assignedTask('t2', w.nodeId, { Spec: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 'sec1' }] } } }));
    await w.executor.until((ev) => ev.slice(seen).some((e) => changesOf(e)?.updated.some((t) => t.ID === 't2')));
    const t2 = (await storedTask('t2'))!;
    await c.store.update<Task>('tasks', { ...t2, DesiredState: 'shutdown' });
    await w.executor.until((ev) => ev.slice(seen).some((e) => changesOf(e)?.updated.some((t) => t.ID === 't2' && t.DesiredState === 'shutdown')));

    // A status-only change is not sent: the next message after it is the removal.
    const mark = w.executor.events.length;
    const t1 = (await storedTask('t1'))!;
    await c.store.update<Task>('tasks', { ...t1, Status: { ...t1.Status, State: 'accepted', Message: 'written by someone else' } });
    await c.store.delete('tasks', 't2');
    await w.executor.until((ev) => ev.slice(mark).some((e) => changesOf(e)?.removed.includes('t2')));
    const after = w.executor.events.slice(mark);
    assert.deepEqual(after.map((e) => (e.type === 'changes' ? [e.changes.updated.map((t) => t.ID), e.changes.removed] : 'complete')), [[[], ['t2']]]);
  });

  it('tasks the scheduler has not assigned yet stay out; they come when they reach ASSIGNED', async () => {
    const pending = assignedTask('t3', w.nodeId, { Status: { State: 'pending', Message: 'pending' } });
    const created = await c.store.create<Task>('tasks', pending);
    const mark = w.executor.events.length;
    await c.store.update<Task>('tasks', { ...created, Status: { State: 'assigned', Message: 'assigned' } });
    await w.executor.until((ev) => ev.slice(mark).some((e) => changesOf(e)?.updated.some((t) => t.ID === 't3')));
    assert.deepEqual(
      w.executor.events.slice(mark).flatMap((e) => changesOf(e)?.updated.map((t) => [t.ID, t.Status.State]) ?? []),
      [['t3', 'assigned']],
      'nothing was sent while it was pending',
    );
  });

  it('status reports reach the store through the state machine; a backwards report is ignored', async () => {
    w.executor.report(['t1', 'preparing'], ['t3', 'accepted']);
    w.executor.report(['t1', 'running', 'started']);
    const t1 = await eventually(async () => {
      const t = await storedTask('t1');
      return t?.Status.State === 'running' ? t : undefined;
    }, 't1 running in the store');
    assert.equal(t1.Status.Message, 'started');

    w.executor.report(['t1', 'starting', 'stale']);
    w.executor.report(['t3', 'preparing']);
    await eventually(async () => (await storedTask('t3'))?.Status.State === 'preparing', 't3 preparing');
    assert.equal((await storedTask('t1'))?.Status.State, 'running', 'the backwards report did not move t1');

    // The same through the raw client: a stale entry does not fail the batch.
    const d = rawClient(new TlsIdentity(w.creds));
    const sessionId = w.agent.state.state === 'connected' ? w.agent.state.sessionId : '';
    await d.updateTaskStatus({ sessionId, updates: [{ taskId: 't1', status: JSON.stringify({ State: 'assigned' }) }, { taskId: 't3', status: JSON.stringify({ State: 'ready' }) }] });
    assert.equal((await storedTask('t1'))?.Status.State, 'running');
    assert.equal((await storedTask('t3'))?.Status.State, 'ready');
  });

  it('a status report for another node\'s task is refused as a whole; a malformed one names its entry', async () => {
    const d = rawClient(new TlsIdentity(w.creds));
    const sessionId = w.agent.state.state === 'connected' ? w.agent.state.sessionId : '';
    await assert.rejects(
      d.updateTaskStatus({ sessionId, updates: [{ taskId: 't3', status: JSON.stringify({ State: 'starting' }) }, { taskId: 't-before', status: JSON.stringify({ State: 'running' }) }] }),
      (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /t-before is not assigned to node/.test(e.message),
    );
    assert.equal((await storedTask('t3'))?.Status.State, 'ready', 'nothing of the refused batch was written');
    assert.equal((await storedTask('t-before'))?.Status.State, 'assigned');
    await assert.rejects(d.updateTaskStatus({ sessionId, updates: [{ taskId: 't3', status: '{"State":"warp"}' }] }), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && /updates\[0\]\.status\.State/.test(e.message));
    await assert.rejects(d.heartbeat({ sessionId: 'not-a-session' }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not the current session/.test(e.message));
  });

  it('a task brings the secrets and configs it uses; they leave with it', async () => {
    await c.store.create('secrets', { ID: 'sec9', Spec: { Name: 'db-password', Data: 'c2VjcmV0' } });
    await c.store.create('configs', { ID: 'cfg9', Spec: { Name: 'app-config', Data: 'eA==' } });
    const mark = w.executor.events.length;
    await c.store.create<Task>('tasks', assignedTask('t4', w.nodeId, { Spec: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 'sec9' }], Configs: [{ ConfigID: 'cfg9' }] } } }));
    await w.executor.until((ev) => ev.slice(mark).some((e) => changesOf(e)?.updated.some((t) => t.ID === 't4')));
    const got = w.executor.events.slice(mark).map(changesOf);
    assert.deepEqual(got.flatMap((ch) => ch?.dependencies.updated.secrets ?? []).map((o) => [o.ID, (o.Spec as { Data?: string }).Data]), [['sec9', 'c2VjcmV0']]);
    assert.deepEqual(got.flatMap((ch) => ch?.dependencies.updated.configs ?? []).map((o) => o.ID), ['cfg9']);

    const mark2 = w.executor.events.length;
    await c.store.delete('tasks', 't4');
    await w.executor.until((ev) => ev.slice(mark2).some((e) => changesOf(e)?.removed.includes('t4')));
    const gone = w.executor.events.slice(mark2).map(changesOf);
    assert.deepEqual(gone.flatMap((ch) => [...(ch?.dependencies.removed.secrets ?? []), ...(ch?.dependencies.removed.configs ?? [])]).sort(), ['cfg9', 'sec9']);
  });

  it('session messages follow the node\'s spec and the manager list', async () => {
    const n = (await node(w.nodeId))!;
    await c.store.update<Node>('nodes', { ...n, Spec: { ...n.Spec, Availability: 'drain' } });
    await eventually(() => w.agent.state.state === 'connected' && w.agent.state.node?.Spec.Availability === 'drain', 'the drained spec to reach the agent');
    await c.store.create<Node>('nodes', { ID: newSwarmId(), Spec: { Role: 'manager' }, Status: { State: 'down' }, ManagerStatus: { Leader: false, Reachability: 'reachable', Addr: '127.0.0.2:2377' } });
    await eventually(() => w.agent.managers.list().length === 2, 'the second manager to be listed');
    assert.deepEqual(w.agent.managers.list(), [c.addr, '127.0.0.2:2377'], 'the leader first');
    assert.equal(w.agent.state.state === 'connected' && w.agent.state.manager, c.addr, 'the agent stays where it is');
  });

  it('a new session of the same node replaces the old one, whose streams end', async () => {
    const nodeId = newSwarmId();
    await c.addNode(nodeId);
    const d = rawClient(new TlsIdentity(await c.ca.issueCredentials({ nodeId, role: 'worker', clusterId: c.clusterId })));
    const first = d.session({ description: '{}' });
    const m1 = (await first.next()).value as SessionMessage;
    const assignments = d.assignments({ sessionId: m1.sessionId });
    assert.equal((await assignments.next()).value?.type, 'COMPLETE');

    const second = d.session({ description: '{}', sessionId: m1.sessionId });
    const m2 = (await second.next()).value as SessionMessage;
    assert.notEqual(m2.sessionId, m1.sessionId);
    await assert.rejects(first.next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /replaced by a newer session/.test(e.message));
    await assert.rejects(assignments.next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /session ended/.test(e.message));
    await assert.rejects(d.heartbeat({ sessionId: m1.sessionId }), (e: unknown) => isShoalError(e, 'NOT_FOUND'));
    assert.deepEqual(await d.heartbeat({ sessionId: m2.sessionId }), { periodMs: 500 });
    await second.return();
  });

  it('refuses a node of another cluster, a node the cluster does not know, and a certificate from another CA', async () => {
    // Signed by this cluster's CA but naming another cluster.
    const foreignId = newSwarmId();
    await c.addNode(foreignId);
    const otherCluster = rawClient(new TlsIdentity(await c.ca.issueCredentials({ nodeId: foreignId, role: 'worker', clusterId: 'othercluster0000000000000' })));
    await assert.rejects(otherCluster.session({ description: '{}' }).next(), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /belongs to cluster othercluster/.test(e.message));
    await assert.rejects(otherCluster.heartbeat({ sessionId: 'x' }), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED'));

    const unknown = rawClient(new TlsIdentity(await c.ca.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: c.clusterId })));
    await assert.rejects(unknown.session({ description: '{}' }).next(), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not registered in this cluster/.test(e.message));

    const other = await RootCA.generate();
    const stranger = await other.issueCredentials({ nodeId: foreignId, role: 'worker', clusterId: c.clusterId });
    const strangerClient = rawClient(new TlsIdentity({ ...stranger, caPem: c.ca.certPem }));
    await assert.rejects(strangerClient.session({ description: '{}' }).next(), (e: unknown) => isShoalError(e, 'UNAVAILABLE'));

    assert.equal((await node(foreignId))?.Status?.State, 'unknown', 'the refused node was never made ready');
    assert.ok(!c.dispatcher.sessionNodes().includes(foreignId));
  });

  it('an agent with another cluster\'s certificate never gets a session and says why', async () => {
    const nodeId = newSwarmId();
    await c.addNode(nodeId);
    const creds = await c.ca.issueCredentials({ nodeId, role: 'worker', clusterId: 'othercluster0000000000000' });
    const agent = new AgentSession({ identity: new TlsIdentity(creds), clusterId: c.clusterId, managers: [c.addr], executor: new RecordingExecutor(), description: () => ({ Hostname: 'x' }) });
    agent.start();
    try {
      const s = await eventually(() => (agent.state.state === 'disconnected' ? agent.state : undefined), 'a refused session');
      assert.match(s.state === 'disconnected' ? s.error : '', /belongs to cluster othercluster/);
      assert.equal((await node(nodeId))?.Status?.State, 'unknown');
    } finally {
      await agent.stop();
    }
  });
});
