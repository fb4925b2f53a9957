import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import type { Task } from '../../../shared/swarm';
import { clientCredentials, DispatcherClient, NodeCAClient, RpcClient, TlsIdentity, verifyNodeCertificate, type NodeCredentials } from '../../../shared/rpc';
import { enroll } from '../../../worker/agent/enroll';
import { clusterTLSInfo } from '../../../manager/ca';
import { assignedTask } from '../dispatcher/fixture';
import { eventually, startCAPlane, type CAPlane, type TestNode } from './fixture';

describe('CA root rotation and removed nodes (real etcd, gRPC over mTLS, agent sessions)', function () {
  this.timeout(120_000);
  let p: CAPlane;
  let w1: TestNode;
  let w2: TestNode;
  const clients: RpcClient[] = [];
  /** A client with these credentials on a connection of its own (a new TLS handshake). */
  const fresh = (creds: NodeCredentials) => {
    const rpc = new RpcClient(p.addr, clientCredentials(new TlsIdentity(creds)), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(rpc);
    return rpc;
  };
  const tasksOf = (n: TestNode) => new Set(n.executor.events.flatMap((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).map((t) => t.ID)));
  const sessionsUp = (...ns: TestNode[]) => ns.every((n) => n.session.state.state === 'connected');

  before(async () => {
    p = await startCAPlane();
    [w1, w2] = await Promise.all([p.join('w1'), p.join('w2')]);
    await eventually('sessions open', () => sessionsUp(p.manager, w1, w2));
  });
  after(async () => {
    for (const c of clients) c.close();
    await p?.stop();
  });

  it("every node reports what it holds: the cluster's root and issuer", async () => {
    const want = clusterTLSInfo((await p.cluster()).RootCA!);
    for (const n of [p.manager, w1, w2]) await eventually(`${n.name} reported`, async () => JSON.stringify((await p.node(n.nodeId))?.Description?.TLSInfo) === JSON.stringify(want));
  });

  let tokenBefore = '';

  it('docker swarm ca --rotate: every node renews onto the new root, then trusts it alone; sessions stay up and tasks still reach the worker', async () => {
    const before = await p.cluster();
    tokenBefore = before.JoinTokens!.Worker!;
    const oldRoot = before.RootCA!.CACert;
    const sessionsBefore = [p.manager, w1, w2].map((n) => n.sessionIds());
    await p.update((s) => ({ ...s, CAConfig: { ...s.CAConfig, ForceRotate: (s.CAConfig?.ForceRotate ?? 0) + 1 } }));
    const started = await p.cluster();
    assert.equal(started.RootRotationInProgress, true, 'the update itself starts the rotation');
    const newRoot = started.RootCA!.RootRotation!.CACert;

    const done = await eventually('the rotation to finish (certificates, then trust)', async () => {
      const c = await p.cluster();
      return !c.RootRotationInProgress && c.RootCA?.CACert === newRoot && !c.RootCA.CrossSignedCACert ? c : undefined;
    });
    assert.equal(done.TLSInfo?.TrustRoot, newRoot);
    assert.notEqual(done.JoinTokens?.Worker, before.JoinTokens?.Worker, 'the join tokens pin the new root');
    for (const n of [p.manager, w1, w2]) {
      const tls = (await p.node(n.nodeId))?.Description?.TLSInfo;
      assert.deepEqual(tls, done.TLSInfo, `${n.name} reports the new root and issuer`);
      assert.equal(n.identity.current.caPem, newRoot, `${n.name} trusts the new root alone`);
      assert.equal(verifyNodeCertificate(n.identity.current.certPem, newRoot).nodeId, n.nodeId);
      assert.ok(n.renewed.some((r) => r.trustChanged), `${n.name} was told its root changed`);
    }
    assert.equal(p.serverIdentity.current.caPem, newRoot, "the manager's server followed its node's store");
    assert.deepEqual([p.manager, w1, w2].map((n) => n.sessionIds()), sessionsBefore, 'no session was reopened');
    assert.ok(sessionsUp(p.manager, w1, w2));

    // A task assigned now still reaches the worker on the session it had.
    await p.store.create<Task>('tasks', assignedTask('after-rotation', w1.nodeId));
    await w1.executor.until(() => tasksOf(w1).has('after-rotation'));

    // New connections: the renewed credentials work; the old root's are refused both ways.
    // NOT_FOUND (no such session) is an answer: the handshake passed.
    await assert.rejects(new DispatcherClient(fresh(w2.identity.current)).heartbeat({ sessionId: 'none' }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not the current session/.test(e.message));
    // The manager's port takes joiners without certificates, so TLS lets a stranger in; no call then sees a node.
    const noNode = (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /a node certificate issued by the cluster CA is required/.test(e.message);
    await assert.rejects(new DispatcherClient(fresh(w2.first)).heartbeat({ sessionId: 'none' }), noNode, 'a certificate from the old root is no longer a node');
    await assert.rejects(new DispatcherClient(fresh({ ...w2.first, caPem: newRoot })).heartbeat({ sessionId: 'none' }), noNode);
    await assert.rejects(new NodeCAClient(fresh(w2.first)).renewNodeCertificate({ csr: 'x' }), noNode, 'nor can it renew');
    assert.equal(verifyNodeCertificate(w2.first.certPem, oldRoot).nodeId, w2.nodeId, 'that certificate is otherwise valid');
  });

  it('a node joins with the new token; the old token pins a root the managers no longer show', async () => {
    await assert.rejects(
      enroll({ remoteAddr: p.addr, token: tokenBefore, advertiseAddr: '127.0.0.1', stateDir: `${p.base}/old-token` }),
      (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /does not match the join token/.test(e.message),
    );
    const w3 = await p.join('w3');
    await eventually('w3 session', () => sessionsUp(w3));
    assert.equal(w3.identity.current.caPem, (await p.cluster()).RootCA!.CACert);
    await eventually('w3 reported', async () => JSON.stringify((await p.node(w3.nodeId))?.Description?.TLSInfo) === JSON.stringify((await p.cluster()).TLSInfo));
  });

  it('a removed worker: its session ends, and its certificate opens nothing (session, calls, renewal, watch)', async () => {
    const creds = w1.identity.current;
    await w1.stop();
    await p.store.delete('nodes', w1.nodeId);
    const removed = (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not registered in this cluster/.test(e.message);
    const d = new DispatcherClient(fresh(creds));
    await assert.rejects(d.session({ description: '{}' }).next(), removed);
    for (const call of [() => d.heartbeat({ sessionId: 'x' }), () => d.updateTaskStatus({ sessionId: 'x', updates: [] }), () => d.attachNetwork({ sessionId: 'x', network: 'n', containerId: 'c', aliases: [] })]) await assert.rejects(call(), removed);
    await assert.rejects(d.assignments({ sessionId: 'x' }).next(), removed);
    const ca = new NodeCAClient(fresh(creds));
    await assert.rejects(ca.renewNodeCertificate({ csr: 'unused: refused before it is read' }), removed);
    await assert.rejects(ca.watchNodeCertificate({ trustRoot: creds.caPem }).next(), removed);
    assert.equal(await p.node(w1.nodeId), undefined, 'nothing wrote the node back');
  });

  it('a removed node that joins again asking for its old ID gets a new one', async () => {
    const t = (await p.cluster()).JoinTokens!;
    const r = await enroll({ remoteAddr: p.addr, token: t.Worker!, nodeIdHint: w1.nodeId, advertiseAddr: '127.0.0.1', stateDir: `${p.base}/w1-again` });
    assert.notEqual(r.nodeId, w1.nodeId);
  });

  it('a session of a node removed while connected is ended by the manager', async () => {
    await eventually('w2 connected', () => sessionsUp(w2));
    await p.store.delete('nodes', w2.nodeId);
    await eventually('w2 session ended', () => w2.states.some((s) => s.state === 'disconnected' && /removed from the cluster|not registered/.test(s.error)));
  });
});
