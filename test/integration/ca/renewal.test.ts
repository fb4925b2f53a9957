import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { isShoalError } from '../../../shared/errors';
import type { Task } from '../../../shared/swarm';
import { clientCredentials, DispatcherClient, loadNodeCredentials, RpcClient, TlsIdentity, verifyNodeCertificate } from '../../../shared/rpc';
import { CERT_BACKDATE_MS } from '../../../shared/rpc/pki';
import { assignedTask } from '../dispatcher/fixture';
import { eventually, startCAPlane, type CAPlane, type TestNode } from './fixture';

// Certificates that live 8 s (the API refuses less than an hour; the store is written directly
// here, as the env override SHOAL_TEST_MIN_CERT_EXPIRY_MS lets a daemon test do through the API).
const EXPIRY_MS = 8000;

describe('node certificates renew themselves before they expire (real etcd, gRPC over mTLS, agent sessions)', function () {
  this.timeout(120_000);
  let p: CAPlane;
  let w: TestNode;
  const clients: RpcClient[] = [];

  before(async () => {
    p = await startCAPlane({ certExpiryMs: EXPIRY_MS });
    w = await p.join('w1');
  });
  after(async () => {
    for (const c of clients) c.close();
    await p?.stop();
  });

  it('certificates are issued for the configured expiry', () => {
    for (const n of [p.manager, w]) {
      const c = verifyNodeCertificate(n.first.certPem, n.first.caPem);
      assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), CERT_BACKDATE_MS + EXPIRY_MS);
    }
  });

  it('each node renews again and again, saving each certificate and using it, while its session stays up and its tasks flow', async () => {
    await eventually('sessions open', () => [p.manager, w].every((n) => n.session.state.state === 'connected'));
    const sessionsBefore = [p.manager, w].map((n) => n.sessionIds());
    await eventually('three renewals on each node', () => p.manager.renewed.length >= 3 && w.renewed.length >= 3);
    for (const n of [p.manager, w]) {
      assert.ok(n.renewed.every((r) => r.reason === 'due' && !r.trustChanged));
      const serials = n.renewed.map((r) => new X509Certificate(r.credentials.certPem).serialNumber);
      assert.equal(new Set(serials).size, serials.length, 'a new certificate each time');
      const saved = (await loadNodeCredentials(n.dir))!;
      assert.ok(n.renewed.some((r) => r.credentials.certPem === saved.certPem), 'what is saved is a renewed certificate');
      assert.equal(verifyNodeCertificate(n.identity.current.certPem, n.identity.current.caPem).nodeId, n.nodeId, 'the node uses a valid one');
    }
    // The first certificates have expired by now; the sessions opened with them carry on.
    assert.ok(Date.now() > new Date(new X509Certificate(w.first.certPem).validTo).getTime());
    assert.deepEqual([p.manager, w].map((n) => n.sessionIds()), sessionsBefore, 'no session was reopened');
    assert.ok(!w.states.some((s) => s.state === 'disconnected'), 'the worker never lost its session');
    await p.store.create<Task>('tasks', assignedTask('during-renewals', w.nodeId));
    await w.executor.until((evs) => evs.some((e) => (e.type === 'complete' ? e.tasks : e.changes.updated).some((t) => t.ID === 'during-renewals')));
    // The manager's server presents its renewed certificates too: a new handshake with the worker's current one passes.
    const rpc = new RpcClient(p.addr, clientCredentials(new TlsIdentity(w.identity.current)), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(rpc);
    await assert.rejects(new DispatcherClient(rpc).heartbeat({ sessionId: 'none' }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not the current session/.test(e.message));
  });

  it('a longer expiry set later is used for the next certificates', async () => {
    await p.update((s) => ({ ...s, CAConfig: { ...s.CAConfig, NodeCertExpiry: 2 * 3600e9 } }));
    const life = (pem: string) => {
      const c = new X509Certificate(pem);
      return new Date(c.validTo).getTime() - new Date(c.validFrom).getTime();
    };
    // A renewal already under way may still bring an 8-second one; the one after it cannot.
    await eventually('a two-hour certificate', () => w.renewed.some((r) => life(r.credentials.certPem) === CERT_BACKDATE_MS + 2 * 3600_000));
    assert.equal(life(w.identity.current.certPem), CERT_BACKDATE_MS + 2 * 3600_000);
  });
});
