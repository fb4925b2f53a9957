import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { isShoalError } from '../../../shared/errors';
import { createCsrPem, generateKeyPair, parseJoinToken, subjectFields, verifyNodeCertificate } from '../../../shared/rpc';
import { addrHost, DEFAULT_NODE_CERT_EXPIRY_MS, newJoinTokens, newSwarmId, RootCA } from '../../../manager/ca';
import { renewalDelayMs, renewalRetryMs } from '../../../worker/agent/enroll';
import { x509 } from '../../../shared/rpc/pki';

const code = (c: string, re?: RegExp) => (e: unknown) => isShoalError(e) && e.code === c && (!re || re.test(e.message));
const DAY = 86_400_000;

describe('root CA', function () {
  this.timeout(20_000);
  let ca: RootCA;
  const clusterId = newSwarmId();
  before(async () => {
    ca = await RootCA.generate();
  });

  it('is a self-signed ECDSA P-256 CA named swarm-ca, valid for 20 years', () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.subject, 'CN=swarm-ca');
    assert.equal(cert.issuer, 'CN=swarm-ca');
    assert.equal(cert.ca, true);
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (new Date(cert.validTo).getTime() - Date.now()) / (365 * DAY);
    assert.ok(years > 19.9 && years <= 20, `valid ${years} years`);
  });

  it('its digest is the SHA-256 of the DER, and tokens pin it', () => {
    assert.equal(ca.digest, createHash('sha256').update(new X509Certificate(ca.certPem).raw).digest('hex'));
    assert.equal(parseJoinToken(newJoinTokens(ca.digest).worker).caDigest, ca.digest);
  });

  it('reloads from its PEMs, and refuses a key that is not its own', async () => {
    const again = await RootCA.fromPem(ca.certPem, ca.keyPem);
    assert.equal(again.digest, ca.digest);
    const other = await RootCA.generate();
    await assert.rejects(RootCA.fromPem(ca.certPem, other.keyPem), code('INVALID_ARGUMENT', /does not match/));
  });

  it('issues node certificates: CN node ID, OU role, O cluster, SANs, 90 days, server+client auth', async () => {
    const keys = await generateKeyPair();
    const nodeId = newSwarmId();
    const now = new Date();
    const issued = await ca.issue(await createCsrPem(keys), { nodeId, role: 'manager', clusterId, addr: '10.1.2.3:2377', now });
    assert.deepEqual(subjectFields(issued.certPem), { CN: nodeId, OU: 'swarm-manager', O: clusterId });
    const cert = new X509Certificate(issued.certPem);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
    assert.equal(cert.subjectAltName, `DNS:${nodeId}, DNS:swarm-manager, IP Address:10.1.2.3`);
    assert.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(new Date(cert.validTo).getTime(), Math.floor((now.getTime() + DEFAULT_NODE_CERT_EXPIRY_MS) / 1000) * 1000);
    assert.ok(new Date(cert.validFrom) < now, 'backdated for clock skew');
    const ku = new x509.X509Certificate(issued.certPem).getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    assert.equal(ku?.critical, true);
  });

  it('gives a worker no address SAN and honours a custom expiry', async () => {
    const keys = await generateKeyPair();
    const now = new Date();
    const issued = await ca.issue(await createCsrPem(keys), { nodeId: 'abc', role: 'worker', clusterId, addr: '10.1.2.3', expiryMs: 2 * DAY, now });
    const cert = new X509Certificate(issued.certPem);
    assert.equal(cert.subjectAltName, 'DNS:abc, DNS:swarm-worker');
    assert.equal(issued.notAfter.getTime(), Math.floor((now.getTime() + 2 * DAY) / 1000) * 1000);
  });

  it('names a DNS advertise address as a DNS SAN and an IPv6 one as an IP SAN', async () => {
    const keys = await generateKeyPair();
    const csr = await createCsrPem(keys);
    const dns = await ca.issue(csr, { nodeId: 'm1', role: 'manager', clusterId, addr: 'node1.lab:2377' });
    assert.match(new X509Certificate(dns.certPem).subjectAltName!, /DNS:node1\.lab$/);
    const v6 = await ca.issue(csr, { nodeId: 'm1', role: 'manager', clusterId, addr: '[fd00::1]:2377' });
    assert.match(new X509Certificate(v6.certPem).subjectAltName!, /IP Address:FD00:0:0:0:0:0:0:1$/i);
  });

  it('refuses a CSR that is not one, or whose signature is wrong', async () => {
    await assert.rejects(ca.issue('nonsense', { nodeId: 'n', role: 'worker', clusterId }), code('INVALID_ARGUMENT', /invalid csr/));
    const pem = await createCsrPem(await generateKeyPair());
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0xff; // inside the signature
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    await assert.rejects(ca.issue(bad, { nodeId: 'n', role: 'worker', clusterId }), code('INVALID_ARGUMENT', /invalid csr/));
  });

  it('refuses bad node IDs and expiries', async () => {
    const csr = await createCsrPem(await generateKeyPair());
    await assert.rejects(ca.issue(csr, { nodeId: 'Bad ID', role: 'worker', clusterId }), code('INVALID_ARGUMENT', /node ID/));
    await assert.rejects(ca.issue(csr, { nodeId: 'n', role: 'worker', clusterId, expiryMs: -1 }), code('INVALID_ARGUMENT', /expiry/));
  });

  describe('verifying node certificates', () => {
    let chain: string;
    let nodeId: string;
    before(async () => {
      nodeId = newSwarmId();
      chain = (await ca.issueCredentials({ nodeId, role: 'worker', clusterId })).certPem;
    });

    it('extracts who it names', () => {
      const v = ca.verify(chain);
      assert.deepEqual({ nodeId: v.nodeId, role: v.role, clusterId: v.clusterId }, { nodeId, role: 'worker', clusterId });
    });

    it('rejects a certificate from another CA', async () => {
      const other = await RootCA.generate();
      const foreign = (await other.issueCredentials({ nodeId, role: 'worker', clusterId })).certPem;
      assert.throws(() => ca.verify(foreign), code('PERMISSION_DENIED', /not issued by the cluster root CA/));
    });

    it('rejects it after it expires and before it starts', () => {
      assert.throws(() => ca.verify(chain, { now: new Date(Date.now() + 91 * DAY) }), code('PERMISSION_DENIED', /validity/));
      assert.throws(() => ca.verify(chain, { now: new Date(Date.now() - 2 * DAY) }), code('PERMISSION_DENIED', /validity/));
    });

    it('rejects another cluster, the root itself, and an empty chain', () => {
      assert.throws(() => ca.verify(chain, { clusterId: 'other' }), code('PERMISSION_DENIED', /cluster/));
      assert.throws(() => verifyNodeCertificate(ca.certPem, ca.certPem), code('PERMISSION_DENIED', /CA certificate/));
      assert.throws(() => ca.verify(''), code('PERMISSION_DENIED', /no certificate/));
    });
  });
});

describe('advertise address host', () => {
  const cases: Array<[string, string]> = [
    ['10.0.0.1', '10.0.0.1'], ['10.0.0.1:2377', '10.0.0.1'], ['node1', 'node1'], ['node1:2377', 'node1'],
    ['[fd00::1]:2377', 'fd00::1'], ['[fd00::1]', 'fd00::1'], ['fd00::1', 'fd00::1'],
  ];
  for (const [input, want] of cases) it(`${input} -> ${want}`, () => assert.equal(addrHost(input), want));
});

describe('renewal timing', () => {
  const nb = new Date('2025-01-01T00:00:00Z');
  const na = new Date(nb.getTime() + 100 * DAY);
  it('renews between 50% and 80% of the lifetime', () => {
    assert.equal(renewalDelayMs(nb, na, nb, () => 0), 50 * DAY);
    assert.equal(renewalDelayMs(nb, na, nb, () => 1), 80 * DAY);
    assert.equal(renewalDelayMs(nb, na, new Date(nb.getTime() + 60 * DAY), () => 0.5), 5 * DAY);
  });
  it('is due at once when that point has passed', () => assert.equal(renewalDelayMs(nb, na, new Date(nb.getTime() + 90 * DAY), () => 0), 0));
  it('retries failures from 5 s, doubling, up to 5 minutes', () => {
    assert.deepEqual([1, 2, 3, 7, 20].map(renewalRetryMs), [5_000, 10_000, 20_000, 300_000, 300_000]);
  });
});
