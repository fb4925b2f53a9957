import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isShoalError, ShoalError } from '../../../shared/errors';
import { silenceLogging } from '../../../shared/log';
import {
  certPaths,
  clientCredentials,
  DispatcherClient,
  formatJoinToken,
  loadNodeCredentials,
  NodeCAClient,
  parseJoinToken,
  pinnedCredentials,
  RpcClient,
  RpcServer,
  serverCredentials,
  TlsIdentity,
  verifyNodeCertificate,
  addNodeCAService,
  type NodeCredentials,
} from '../../../shared/rpc';
import { newSwarmId, NodeCAService, RootCA } from '../../../manager/ca';
import { enroll, renewCertificate, renewLoop } from '../../../worker/agent/enroll';
import { startCluster, type TestCluster } from './cluster';

const code = (c: string, re?: RegExp) => (e: unknown) => isShoalError(e) && e.code === c && (!re || re.test(e.message));

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

describe('cluster CA over gRPC: join, mTLS, renewal', function () {
  this.timeout(30_000);
  let c: TestCluster;
  const clients: RpcClient[] = [];
  const client = (addr: string, creds: Parameters<typeof clientCredentials>[0] | ReturnType<typeof pinnedCredentials>) => {
    const rpc = new RpcClient(addr, creds instanceof TlsIdentity ? clientCredentials(creds) : creds);
    clients.push(rpc);
    return rpc;
  };
  const stateDir = (name: string) => join(c.base, name);

  before(async () => {
    silenceLogging();
    c = await startCluster();
  });
  after(async () => {
    for (const r of clients) r.close();
    await c?.stop();
  });

  let worker: { nodeId: string; creds: NodeCredentials; dir: string };

  it('enrolls a worker: certificate for its node ID, the worker role and the cluster, saved with a 0600 key', async () => {
    const dir = stateDir('w1');
    const res = await enroll({ remoteAddr: c.openAddr, token: c.tokens.worker, advertiseAddr: '127.0.0.1', stateDir: dir, description: { Hostname: 'w1' } });
    assert.equal(res.role, 'worker');
    assert.equal(res.clusterId, c.clusterId);
    assert.match(res.nodeId, /^[0-9a-z]{25}$/);
    assert.equal(c.registered.length, 1);
    const { remote, ...info } = c.registered[0].info;
    assert.deepEqual({ ...c.registered[0], info }, { nodeId: res.nodeId, role: 'worker', info: { addr: '127.0.0.1', description: { Hostname: 'w1' }, requestedNodeId: false } });
    assert.match(remote, /^127\.0\.0\.1:\d+$/);

    const saved = await loadNodeCredentials(dir);
    assert.deepEqual(saved, res.credentials);
    assert.equal((await fs.stat(res.certPaths.key)).mode & 0o777, 0o600);
    assert.equal(saved!.caPem, c.ca.certPem);
    const cert = verifyNodeCertificate(saved!.certPem, c.ca.certPem);
    assert.deepEqual({ nodeId: cert.nodeId, role: cert.role, clusterId: cert.clusterId }, { nodeId: res.nodeId, role: 'worker', clusterId: c.clusterId });
    assert.doesNotMatch(cert.subjectAltName, /IP Address/, 'a worker certificate carries no address');
    worker = { nodeId: res.nodeId, creds: res.credentials, dir };
  });

  it('enrolls a manager with the manager token; its certificate names its advertise address', async () => {
    const res = await enroll({ remoteAddr: c.openAddr, token: c.tokens.manager, advertiseAddr: '127.0.0.1:2377', stateDir: stateDir('m2') });
    assert.equal(res.role, 'manager');
    const cert = verifyNodeCertificate(res.credentials.certPem, c.ca.certPem);
    assert.equal(cert.role, 'manager');
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectAltName, new RegExp(`DNS:${res.nodeId}`));
  });

  it('an mTLS call with the issued certificate succeeds and the server sees who called', async () => {
    c.dispatcher.peers.length = 0;
    const d = new DispatcherClient(client(c.mtlsAddr, new TlsIdentity(worker.creds)));
    assert.deepEqual(await d.heartbeat({ sessionId: 's' }), { periodMs: 5000 });
    assert.deepEqual(c.dispatcher.peers, [{ nodeId: worker.nodeId, role: 'worker', clusterId: c.clusterId }]);
  });

  it('the mTLS port refuses a client without a certificate, and one with a certificate from another CA', async () => {
    c.dispatcher.peers.length = 0;
    const none = new DispatcherClient(client(c.mtlsAddr, pinnedCredentials(c.ca.certPem)));
    await assert.rejects(none.heartbeat({ sessionId: 's' }), code('UNAVAILABLE', /certificate required/));

    const other = await RootCA.generate();
    const foreign = await other.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: c.clusterId });
    // It trusts our root (so only its own certificate is wrong).
    const stranger = new DispatcherClient(client(c.mtlsAddr, new TlsIdentity({ ...foreign, caPem: c.ca.certPem })));
    await assert.rejects(stranger.heartbeat({ sessionId: 's' }), code('UNAVAILABLE'));
    assert.deepEqual(c.dispatcher.peers, [], 'no handler ran');
  });

  it('the open port lets them connect but methods that need a node refuse them', async () => {
    const none = new DispatcherClient(client(c.openAddr, pinnedCredentials(c.ca.certPem)));
    await assert.rejects(none.heartbeat({ sessionId: 's' }), code('PERMISSION_DENIED', /certificate/));
    const other = await RootCA.generate();
    const foreign = await other.issueCredentials({ nodeId: newSwarmId(), role: 'manager', clusterId: c.clusterId });
    const stranger = new NodeCAClient(client(c.openAddr, new TlsIdentity({ ...foreign, caPem: c.ca.certPem })));
    await assert.rejects(stranger.renewNodeCertificate({ csr: 'x' }), code('PERMISSION_DENIED'));
  });

  it('a wrong token is refused by the manager and nothing is persisted on either side', async () => {
    const registered = c.registered.length;
    const { caDigest } = parseJoinToken(c.tokens.worker);
    const wrong = formatJoinToken(caDigest, '0123456789abcdefghijklmno');
    const dir = stateDir('wrong');
    await assert.rejects(enroll({ remoteAddr: c.openAddr, token: wrong, advertiseAddr: '127.0.0.1', stateDir: dir }), code('PERMISSION_DENIED', /^invalid join token$/));
    assert.equal(c.registered.length, registered);
    assert.deepEqual(await listDir(dir), []);
  });

  it('a malformed token is INVALID_ARGUMENT before anything is sent', async () => {
    const calls = c.issueCalls;
    await assert.rejects(enroll({ remoteAddr: c.openAddr, token: 'SWMTKN-1-nope', advertiseAddr: '127.0.0.1', stateDir: stateDir('bad') }), code('INVALID_ARGUMENT', /^invalid join token$/));
    assert.equal(c.issueCalls, calls);
  });

  it('a token pinning another CA makes the joiner refuse the manager before sending the token', async () => {
    const other = await RootCA.generate();
    const tampered = formatJoinToken(other.digest, parseJoinToken(c.tokens.worker).secret);
    const calls = c.issueCalls;
    const registered = c.registered.length;
    const dir = stateDir('tampered');
    await assert.rejects(
      enroll({ remoteAddr: c.openAddr, token: tampered, advertiseAddr: '127.0.0.1', stateDir: dir }),
      code('PERMISSION_DENIED', /the CA certificate does not match the join token/),
    );
    assert.equal(c.issueCalls, calls, 'the token never reached IssueNodeCertificate');
    assert.equal(c.registered.length, registered);
    assert.deepEqual(await listDir(dir), []);
  });

  it('a joiner only sends its token to a manager: a worker certificate on the server is refused', async () => {
    // A server presenting a worker's certificate from the right CA (a compromised worker posing as a manager).
    const fake = new RpcServer();
    addNodeCAService(fake, new NodeCAService({ rootCA: c.ca, clusterId: c.clusterId, joinTokens: () => c.tokens, registerNode: async () => {} }));
    const port = await fake.listen('127.0.0.1:0', serverCredentials(new TlsIdentity(worker.creds), 'optional'));
    try {
      const ca = new NodeCAClient(client(`127.0.0.1:${port}`, pinnedCredentials(c.ca.certPem)));
      await assert.rejects(ca.getRootCACertificate(), code('UNAVAILABLE', /not a swarm-manager certificate/));
    } finally {
      await fake.stop(500);
    }
  });

  it('a requested node ID is honoured, and a refusal from registerNode reaches the joiner with nothing saved', async () => {
    const id = newSwarmId();
    const res = await enroll({ remoteAddr: c.openAddr, token: c.tokens.worker, nodeIdHint: id, advertiseAddr: '127.0.0.1', stateDir: stateDir('rejoin') });
    assert.equal(res.nodeId, id);
    assert.equal(c.registered.at(-1)!.info.requestedNodeId, true);

    const refusing = await startCluster({
      registerNode: async (nodeId) => {
        throw new ShoalError('ALREADY_EXISTS', `node ${nodeId} already exists`);
      },
    });
    try {
      const dir = join(refusing.base, 'dup');
      await assert.rejects(enroll({ remoteAddr: refusing.openAddr, token: refusing.tokens.worker, nodeIdHint: id, advertiseAddr: '127.0.0.1', stateDir: dir }), code('ALREADY_EXISTS', /already exists/));
      assert.deepEqual(await listDir(dir), []);
    } finally {
      await refusing.stop();
    }
  });

  it('renews over mTLS: same node, new key and certificate, saved and used for new connections', async () => {
    const identity = new TlsIdentity(worker.creds);
    const before = verifyNodeCertificate(worker.creds.certPem, c.ca.certPem);
    const res = await renewCertificate({ rpc: client(c.mtlsAddr, identity), identity, stateDir: worker.dir });
    assert.equal(res.nodeId, worker.nodeId);
    assert.equal(res.role, 'worker');
    const after = verifyNodeCertificate(identity.current.certPem, c.ca.certPem);
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.notEqual(identity.current.keyPem, worker.creds.keyPem);
    assert.deepEqual(await loadNodeCredentials(worker.dir), identity.current);
    assert.deepEqual(await fs.readdir(worker.dir), ['certificates', (await fs.readlink(certPaths(worker.dir).dir))].sort());

    c.dispatcher.peers.length = 0;
    const d = new DispatcherClient(client(c.mtlsAddr, new TlsIdentity(identity.current)));
    await d.heartbeat({ sessionId: 's' });
    assert.equal(c.dispatcher.peers[0]?.nodeId, worker.nodeId);
  });

  it('the renewal loop renews a certificate past half its life and stops on abort', async () => {
    // Ten-minute certificates start an hour back, so they are past 80% of their life when issued.
    const short = await startCluster({ nodeCertExpiryMs: () => 10 * 60_000 });
    try {
      const dir = join(short.base, 'w');
      const joined = await enroll({ remoteAddr: short.openAddr, token: short.tokens.worker, advertiseAddr: '127.0.0.1', stateDir: dir });
      const identity = new TlsIdentity(joined.credentials);
      const rpc = client(short.mtlsAddr, identity);
      const ac = new AbortController();
      const renewed: string[] = [];
      await renewLoop({
        rpc: () => rpc,
        identity,
        stateDir: dir,
        signal: ac.signal,
        onRenewed: (r) => {
          renewed.push(r.nodeId);
          ac.abort();
        },
      });
      assert.deepEqual(renewed, [joined.nodeId]);
      assert.notEqual(identity.current.certPem, joined.credentials.certPem);
      assert.deepEqual(await loadNodeCredentials(dir), identity.current);
    } finally {
      await short.stop();
    }
  });

  it('renewal gives the role the managers want (promotion)', async () => {
    const promoting = await startCluster({ renewalRole: async () => 'manager' as const });
    try {
      const dir = join(promoting.base, 'w');
      const joined = await enroll({ remoteAddr: promoting.openAddr, token: promoting.tokens.worker, advertiseAddr: '127.0.0.1', stateDir: dir });
      const identity = new TlsIdentity(joined.credentials);
      const res = await renewCertificate({ rpc: client(promoting.openAddr, identity), identity, stateDir: dir, addr: '127.0.0.1:2377' });
      assert.equal(res.role, 'manager');
      assert.match(verifyNodeCertificate(identity.current.certPem, promoting.ca.certPem).subjectAltName, /IP Address:127\.0\.0\.1/);
    } finally {
      await promoting.stop();
    }
  });
});
