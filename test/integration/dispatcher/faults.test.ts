import assert from 'node:assert/strict';
import type { Node, Task } from '../../../shared/swarm';
import { newSwarmId } from '../../../manager/ca';
import { HEARTBEAT_FAILURE } from '../../../manager/dispatcher';
import { startTcpProxy, type TcpProxy } from '../../helpers/etcd';
import { assignedTask, eventually, startControlPlane, type ControlPlane } from './fixture';

describe('dispatcher and agent session: lost links, lost agents, restarts', function () {
  this.timeout(60_000);
  let c: ControlPlane;
  let proxy: TcpProxy | undefined;
  const nodeState = async (id: string) => (await c.store.get<Node>('nodes', id))?.Status;
  const waitNode = (id: string, state: string) => eventually(async () => ((await nodeState(id))?.State === state ? nodeState(id) : undefined), `node ${id} ${state}`);
  const taskState = async (id: string) => (await c.store.get<Task>('tasks', id))?.Status.State;

  before(async () => {
    // Agents keep the addresses they were given (the proxy), so the session message lists none.
    c = await startControlPlane({ managers: () => [] });
  });
  after(async () => {
    await proxy?.close();
    await c?.stop();
  });

  it('a node whose link is cut goes down with "heartbeat failure"; it is ready again once the link is back', async () => {
    proxy = await startTcpProxy(c.port);
    const w = await c.worker({ managers: [`127.0.0.1:${proxy.port}`] });
    await waitNode(w.nodeId, 'ready');
    proxy.cut();
    const down = await waitNode(w.nodeId, 'down');
    assert.deepEqual(down, { State: 'down', Message: HEARTBEAT_FAILURE, Addr: '127.0.0.1' });
    assert.notEqual(w.agent.state.state, 'connected');
    proxy.restore();
    assert.deepEqual(await waitNode(w.nodeId, 'ready'), { State: 'ready', Addr: '127.0.0.1' });
    await w.agent.stop();
  });

  it('an agent that disappears without a word goes down after the grace', async () => {
    const w = await c.worker();
    await waitNode(w.nodeId, 'ready');
    await w.agent.stop(); // cancels its calls: no goodbye exists in the protocol
    assert.equal((await waitNode(w.nodeId, 'down'))?.Message, HEARTBEAT_FAILURE);
  });

  it('after the dispatcher restarts (leadership moved back), the agent reconnects, resends what it kept and gets a fresh COMPLETE set', async () => {
    const w = await c.worker();
    await c.store.create<Task>('tasks', assignedTask('r1', w.nodeId));
    await c.store.create<Task>('tasks', assignedTask('r2', w.nodeId));
    await w.executor.until((ev) => ev.some((e) => e.type === 'complete') && new Set(ev.flatMap((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).map((t) => t.ID))).size === 2);
    const completes = () => w.executor.events.filter((e) => e.type === 'complete').length;
    const before = completes();

    await c.dispatcher.stop();
    await eventually(() => w.agent.state.state !== 'connected', 'the agent to lose its session');
    w.executor.report(['r1', 'preparing'], ['r2', 'starting']);
    w.executor.report(['r1', 'running']);
    await eventually(() => w.agent.pendingStatuses === 2, 'the reports to wait in the agent');
    assert.equal(await taskState('r1'), 'assigned');
    // The set changes while nobody dispatches: r2 is deleted, r3 is assigned.
    await c.store.delete('tasks', 'r2');
    await c.store.create<Task>('tasks', assignedTask('r3', w.nodeId));

    await c.dispatcher.start();
    await eventually(async () => (await taskState('r1')) === 'running', 'r1 running in the store');
    assert.equal(await taskState('r2'), undefined, 'a report for a deleted task is dropped without failing the rest');
    await w.executor.until(() => completes() > before);
    const last = w.executor.events.filter((e) => e.type === 'complete').at(-1);
    assert.deepEqual(last?.type === 'complete' && last.tasks.map((t) => t.ID).sort(), ['r1', 'r3']);
    assert.equal(w.agent.pendingStatuses, 0);
    await w.agent.stop();
  });

  it('after the manager process restarts on the same address, agents come back without help', async () => {
    const w = await c.worker();
    await waitNode(w.nodeId, 'ready');
    await c.store.create<Task>('tasks', assignedTask('m1', w.nodeId));
    await w.executor.until((ev) => ev.some((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).some((t) => t.ID === 'm1')));
    const mark = w.executor.events.length;
    await c.restartServer();
    await w.executor.until((ev) => ev.slice(mark).some((e) => e.type === 'complete'));
    w.executor.report(['m1', 'running']);
    await eventually(async () => (await taskState('m1')) === 'running', 'm1 running after the restart');
    assert.equal((await nodeState(w.nodeId))?.State, 'ready');
    await w.agent.stop();
  });

  it('a new dispatcher gives every node a fresh grace period: one that never reconnects goes down', async () => {
    const ghost = newSwarmId();
    await c.addNode(ghost, { State: 'ready', Addr: '10.9.9.9' });
    await c.dispatcher.stop();
    await c.dispatcher.start();
    const s = await waitNode(ghost, 'down');
    assert.deepEqual(s, { State: 'down', Message: HEARTBEAT_FAILURE, Addr: '10.9.9.9' });
  });
});
