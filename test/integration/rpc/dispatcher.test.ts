import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { silenceLogging } from '../../../shared/log';
import { clientCredentials, DispatcherClient, RpcClient, TlsIdentity, type AssignmentsMessage } from '../../../shared/rpc';
import { newSwarmId } from '../../../manager/ca';
import { startCluster, type TestCluster } from './cluster';

describe('dispatcher contract over mTLS: streams, cancellation, deadlines, errors', function () {
  this.timeout(30_000);
  let c: TestCluster;
  let rpc: RpcClient;
  let d: DispatcherClient;
  let nodeId: string;

  before(async () => {
    silenceLogging();
    c = await startCluster();
    nodeId = newSwarmId();
    const creds = await c.ca.issueCredentials({ nodeId, role: 'worker', clusterId: c.clusterId });
    rpc = new RpcClient(c.mtlsAddr, clientCredentials(new TlsIdentity(creds), { clusterId: c.clusterId }));
    d = new DispatcherClient(rpc);
  });
  after(async () => {
    rpc?.close();
    await c?.stop();
  });

  it('a session stream ends when the worker aborts, and the manager sees the abort', async () => {
    c.dispatcher.resetAborted();
    const ac = new AbortController();
    const got = [];
    for await (const m of d.session({ description: '{}' }, { signal: ac.signal })) {
      got.push(m);
      ac.abort();
    }
    assert.equal(got.length, 1);
    assert.equal(got[0].sessionId, `s-${nodeId}`);
    assert.deepEqual(got[0].managers, [{ nodeId: 'm1', addr: '127.0.0.1:1', weight: 10 }]);
    assert.equal(got[0].heartbeatPeriodMs, 5000);
    assert.deepEqual(JSON.parse(got[0].node), { ID: nodeId });
    assert.equal(await c.dispatcher.aborted, 'Session');
  });

  it('assignments arrive as a COMPLETE set then INCREMENTAL changes, each change naming its kind', async () => {
    const msgs: AssignmentsMessage[] = [];
    for await (const m of d.assignments({ sessionId: 's' })) msgs.push(m);
    assert.deepEqual(
      msgs.map((m) => [m.type, m.appliesTo, m.resultsIn, m.changes.map((ch) => [ch.action, ch.item, JSON.parse((ch[ch.item!] as string) ?? 'null')])]),
      [
        ['COMPLETE', '', 'v1', [['UPDATE', 'task', { ID: 't1' }], ['UPDATE', 'network', { ID: 'n1' }]]],
        ['INCREMENTAL', 'v1', 'v2', [['REMOVE', 'task', { ID: 't1' }]]],
      ],
    );
  });

  it('batched status updates reach the manager with the caller as the node', async () => {
    await d.updateTaskStatus({ sessionId: 's', updates: [{ taskId: 't1', status: JSON.stringify({ State: 'running' }) }, { taskId: 't2', status: JSON.stringify({ State: 'failed' }) }] });
    assert.deepEqual(c.dispatcher.statusUpdates, [
      { node: nodeId, taskId: 't1', status: { State: 'running' } },
      { node: nodeId, taskId: 't2', status: { State: 'failed' } },
    ]);
  });

  it('a ShoalError thrown by a handler arrives with its code and message', async () => {
    await assert.rejects(
      d.updateTaskStatus({ sessionId: 's', updates: [{ taskId: 'x9', status: '{}' }] }),
      (e: unknown) => isShoalError(e, 'NOT_FOUND') && e.message === 'no such task: x9',
    );
  });

  it('a call past its deadline fails UNAVAILABLE and the handler is told', async () => {
    c.dispatcher.resetAborted();
    await assert.rejects(d.heartbeat({ sessionId: 'hang' }, { timeoutMs: 300 }), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /deadline/i.test(e.message));
    assert.equal(await c.dispatcher.aborted, 'Heartbeat');
  });

  it('an aborted unary call is CANCELLED', async () => {
    const ac = new AbortController();
    const p = d.heartbeat({ sessionId: 'hang' }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => isShoalError(e, 'CANCELLED'));
  });

  it('a client expecting another cluster refuses the server', async () => {
    const creds = await c.ca.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: c.clusterId });
    const other = new RpcClient(c.mtlsAddr, clientCredentials(new TlsIdentity(creds), { clusterId: 'someothercluster' }));
    try {
      await assert.rejects(new DispatcherClient(other).heartbeat({ sessionId: 's' }), (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /belongs to cluster/.test(e.message));
    } finally {
      other.close();
    }
  });
});
