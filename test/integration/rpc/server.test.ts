import assert from 'node:assert/strict';
import { connect, type TLSSocket } from 'node:tls';
import { isShoalError } from '../../../shared/errors';
import { silenceLogging } from '../../../shared/log';
import { clientCredentials, DispatcherClient, RpcClient, TlsIdentity } from '../../../shared/rpc';
import { newSwarmId } from '../../../manager/ca';
import { startCluster, type TestCluster } from './cluster';

/** The serial number of the certificate a server presents to a new connection. */
function serverSerial(addr: string): Promise<string> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: 'swarm-manager' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

describe('rpc server lifecycle', function () {
  this.timeout(30_000);
  let c: TestCluster | undefined;
  before(() => silenceLogging());
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  it('a renewed server certificate is used for new connections without a restart', async () => {
    c = await startCluster();
    const before = await serverSerial(c.openAddr);
    assert.equal(before, c.ca.verify(c.identity.current.certPem).serialNumber);
    const renewed = await c.ca.issueCredentials({ nodeId: c.managerId, role: 'manager', clusterId: c.clusterId });
    c.identity.update(renewed);
    const after = await serverSerial(c.openAddr);
    assert.notEqual(after, before);
    assert.equal(after, c.ca.verify(renewed.certPem).serialNumber);
  });

  it('stop() ends open streams: the client sees UNAVAILABLE, not a hang', async () => {
    c = await startCluster();
    const creds = await c.ca.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: c.clusterId });
    const rpc = new RpcClient(c.mtlsAddr, clientCredentials(new TlsIdentity(creds)));
    try {
      const stream = new DispatcherClient(rpc).session({});
      const first = await stream.next();
      assert.equal(first.done, false);
      const rest = stream.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      await c.server.stop(1000);
      const err = await rest;
      assert.ok(isShoalError(err, 'UNAVAILABLE'), String(err));
    } finally {
      rpc.close();
    }
  });
});
