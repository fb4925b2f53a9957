import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { isShoalError } from '../../../shared/errors';
import { clientCredentials, DispatcherClient, NodeCAClient, RpcClient, TlsIdentity, type NodeCredentials } from '../../../shared/rpc';
import { MIN_CERT_EXPIRY_ENV } from '../../../manager/ca/config';
import { RootCA } from '../../../manager/ca';
import { startLab, type TestLab } from '../../helpers/lab';
import { eventually, running, tasksOf, taskContainers } from '../../helpers/swarm';
import type { EngineClient } from '../../../shared/client';

interface TLSInfoJson {
  TrustRoot?: string;
  CertIssuerSubject?: string;
  CertIssuerPublicKey?: string;
}
interface SwarmJson {
  Version: { Index: number };
  TLSInfo: TLSInfoJson;
  RootRotationInProgress: boolean;
  JoinTokens: { Worker: string };
  Spec: { CAConfig: { NodeCertExpiry: number } };
}

// Docker refuses certificates shorter than an hour; the lab's daemons get the test-only
// override so that 20-second certificates renew within the test.
const MIN_MS = 5000;

describe('node certificates and the root CA on the lab (real shoald, docker CLI)', function () {
  this.timeout(300_000);
  let lab: TestLab;
  let m1: EngineClient;
  let workerId = '';
  const rpcs: RpcClient[] = [];

  const certsDir = (host: string) => join(lab.lab.host(host).dataRoot, 'swarm', 'certificates');
  const creds = async (host: string): Promise<NodeCredentials> => {
    const d = certsDir(host);
    const [keyPem, certPem, caPem] = await Promise.all(['swarm-node.key', 'swarm-node.crt', 'swarm-root-ca.crt'].map((f) => fs.readFile(join(d, f), 'utf8')));
    return { keyPem, certPem, caPem };
  };
  const serial = async (host: string) => new X509Certificate(await fs.readFile(join(certsDir(host), 'swarm-node.crt'))).serialNumber;
  /** A gRPC client to m1 from here (the root namespace reaches the lab bridge), on a connection of its own. */
  const grpc = (c: NodeCredentials) => {
    const r = new RpcClient(`${lab.host('m1').address}:2377`, clientCredentials(new TlsIdentity(c)), { 'grpc.use_local_subchannel_pool': 1 });
    rpcs.push(r);
    return r;
  };
  const sessionsOpened = async (nodeId: string) => (await fs.readFile(lab.lab.host('m1').log, 'utf8')).split('\n').filter((l) => l.includes('node session opened') && l.includes(nodeId)).length;

  before(async function () {
    const saved = process.env[MIN_CERT_EXPIRY_ENV];
    process.env[MIN_CERT_EXPIRY_ENV] = String(MIN_MS);
    try {
      lab = await startLab({ managers: 1, workers: 1, standalone: true });
    } finally {
      if (saved === undefined) delete process.env[MIN_CERT_EXPIRY_ENV];
      else process.env[MIN_CERT_EXPIRY_ENV] = saved;
    }
    m1 = lab.host('m1').client;
    const a = lab.host('m1').address;
    const init = await lab.docker('m1', ['swarm', 'init', '--advertise-addr', a, '--listen-addr', `${a}:2377`, '--cert-expiry', '20s']);
    assert.equal(init.code, 0, init.stderr);
    const sw = await m1.get<SwarmJson>('/swarm');
    if (!sw.TLSInfo.CertIssuerSubject) {
      // The manager does not keep its CA in the store yet (manager.ts and membership.ts are wired by their owner).
      this.skip();
    }
    const join = await lab.docker('w1', ['swarm', 'join', '--token', sw.JoinTokens.Worker, `${a}:2377`]);
    assert.equal(join.code, 0, join.stderr);
    workerId = (await lab.host('w1').client.get<{ Swarm: { NodeID: string } }>('/info')).Swarm.NodeID;
  });
  after(async () => {
    for (const r of rpcs) r.close();
    await lab?.down();
  });

  it('refuses a certificate expiry under the minimum, in one line', async () => {
    const r = await lab.docker('m1', ['swarm', 'update', '--cert-expiry', '1s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim(), /^Error response from daemon: invalid CAConfig\.NodeCertExpiry: 1s is below the minimum certificate expiry time, 5s$/);
    assert.equal((await m1.get<SwarmJson>('/swarm')).Spec.CAConfig.NodeCertExpiry, 20e9);
  });

  let tasksBefore: string[] = [];

  it('20-second certificates renew, again and again, on the manager and the worker, while tasks keep running', async () => {
    const svc = await lab.docker('m1', ['service', 'create', '--name', 'web', '--replicas', '2', '--stop-grace-period', '1s', 'busybox', 'sleep', '3600']);
    assert.equal(svc.code, 0, svc.stderr);
    const ts = await running(m1, 'web', 2);
    tasksBefore = ts.map((t) => t.ID).sort();
    assert.equal(new Set(ts.map((t) => t.NodeID)).size, 2, 'one task on each node');
    const containers = async () => (await Promise.all(lab.hosts.map((h) => taskContainers(h.client, 'web')))).flat().filter((c) => c.State === 'running').map((c) => c.Id).sort();
    const containersBefore = await containers();
    const sessions = await sessionsOpened(workerId);
    const seen = new Map<string, Set<string>>([['m1', new Set()], ['w1', new Set()]]);
    await eventually(
      'two renewals on each host',
      async () => {
        for (const [h, s] of seen) s.add(await serial(h));
        return [...seen.values()].every((s) => s.size >= 3);
      },
      120_000,
    );
    assert.deepEqual((await tasksOf(m1, 'web')).filter((t) => t.Status.State === 'running').map((t) => t.ID).sort(), tasksBefore, 'the same tasks run');
    assert.deepEqual(await containers(), containersBefore, 'in the same containers');
    assert.equal(await sessionsOpened(workerId), sessions, "the worker's session was never reopened");
    const nodes = await m1.get<Array<{ Status: { State: string } }>>('/nodes');
    assert.deepEqual(nodes.map((n) => n.Status.State), ['ready', 'ready']);
  });

  it('docker swarm ca --rotate completes: every node on the new root, the worker still gets tasks, old-root certificates refused', async () => {
    const before = await m1.get<SwarmJson>('/swarm');
    const oldCreds = await creds('w1');
    const r = await lab.docker('m1', ['swarm', 'ca', '--rotate'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const after = await m1.get<SwarmJson>('/swarm');
    assert.equal(after.RootRotationInProgress, false);
    assert.notEqual(after.TLSInfo.TrustRoot, before.TLSInfo.TrustRoot);
    assert.equal(r.stdout.trim().split('\n').slice(-1)[0], '-----END CERTIFICATE-----');
    assert.ok(r.stdout.includes(after.TLSInfo.TrustRoot!.trim()), 'it prints the new root');
    // Without a terminal the CLI prints its progress as lines: the last digest it showed is the new root's.
    const digests = [...r.stdout.matchAll(/desired root digest: (sha256:[0-9a-f]{64})/g)].map((m) => m[1]);
    assert.equal(digests.at(-1), `sha256:${createHash('sha256').update(after.TLSInfo.TrustRoot!).digest('hex')}`);
    assert.notEqual(after.JoinTokens.Worker, before.JoinTokens.Worker);
    for (const n of await m1.get<Array<{ ID: string; Description: { TLSInfo: TLSInfoJson } }>>('/nodes')) assert.deepEqual(n.Description.TLSInfo, after.TLSInfo, `node ${n.ID}`);

    // The worker still gets tasks: two more replicas, at least one of them on it.
    const scale = await lab.docker('m1', ['service', 'scale', 'web=4']);
    assert.equal(scale.code, 0, scale.stderr);
    const ts = await running(m1, 'web', 4);
    assert.ok(ts.some((t) => t.NodeID === workerId && !tasksBefore.includes(t.ID)), 'a new task runs on the worker');

    // Its certificate from the old root is no node any more; the one it holds now is.
    const noNode = (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /a node certificate issued by the cluster CA is required/.test(e.message);
    await assert.rejects(new DispatcherClient(grpc(oldCreds)).heartbeat({ sessionId: 'x' }), noNode);
    await assert.rejects(new NodeCAClient(grpc(oldCreds)).renewNodeCertificate({ csr: 'x' }), noNode);
    await assert.rejects(new DispatcherClient(grpc(await creds('w1'))).heartbeat({ sessionId: 'x' }), (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not the current session/.test(e.message));
  });

  it('docker swarm ca --rotate --ca-cert --ca-key moves the cluster to the root given', async () => {
    const root = await RootCA.generate();
    const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-ca-root-'));
    try {
      await fs.writeFile(join(dir, 'ca.crt'), root.certPem);
      await fs.writeFile(join(dir, 'ca.key'), root.keyPem, { mode: 0o600 });
      const r = await lab.docker('m1', ['swarm', 'ca', '--rotate', '--ca-cert', join(dir, 'ca.crt'), '--ca-key', join(dir, 'ca.key')], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    const sw = await m1.get<SwarmJson & { Spec: { CAConfig: { SigningCACert?: string; SigningCAKey?: string } } }>('/swarm');
    assert.equal(sw.TLSInfo.TrustRoot?.trim(), root.certPem.trim());
    assert.equal(sw.Spec.CAConfig.SigningCAKey, undefined, 'the key is never stored in the spec');
    assert.equal((await creds('w1')).caPem.trim(), root.certPem.trim(), 'the worker trusts it');
    const ca = await lab.docker('m1', ['swarm', 'ca']);
    assert.equal(ca.stdout.trim(), root.certPem.trim());
  });

  it('a removed worker: its certificate, still valid, opens no session and renews nothing', async () => {
    const held = await creds('w1');
    const rm = await lab.docker('m1', ['node', 'rm', '--force', workerId]);
    assert.equal(rm.code, 0, rm.stderr);
    const removed = (e: unknown) => isShoalError(e, 'NOT_FOUND') && /not registered in this cluster/.test(e.message);
    const d = new DispatcherClient(grpc(held));
    await assert.rejects(d.session({ description: '{}' }).next(), removed);
    await assert.rejects(d.heartbeat({ sessionId: 'x' }), removed);
    await assert.rejects(new NodeCAClient(grpc(held)).renewNodeCertificate({ csr: 'x' }), removed);
    await assert.rejects(new NodeCAClient(grpc(held)).watchNodeCertificate({ trustRoot: held.caPem }).next(), removed);
    assert.deepEqual((await m1.get<Array<{ ID: string }>>('/nodes')).map((n) => n.ID).includes(workerId), false);
  });
});
