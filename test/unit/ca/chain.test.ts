import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { isShoalError } from '../../../shared/errors';
import { createCsrPem, generateKeyPair, verifyNodeCertificate } from '../../../shared/rpc';
import { buildCertificatePath, issuerInfoOf, joinPem, parseCertificates, sameCertificates, x509 } from '../../../shared/rpc/pki';
import { newSwarmId, RootCA } from '../../../manager/ca';

const denied = (re?: RegExp) => (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && (!re || re.test(e.message));
const invalidArg = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message);

// A root made by openssl (its subject is a PrintableString, as in Docker's own roots) and its
// key in SEC1 form ("EC PRIVATE KEY"): what a user hands to docker swarm ca --ca-cert --ca-key.
const OPENSSL_ROOT = `-----BEGIN CERTIFICATE-----
MIIBbzCCARWgAwIBAgIUTUBfigxvlByEsPrD6WVhPsi03YkwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAxMIc3dhcm0tY2EwIBcNMjYxMTIyMTYwNDI4WhgPMjEyNjEwMjkx
NjA0MjhaMBMxETAPBgNVBAMTCHN3YXJtLWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE9fkNEmBOL1XvyM7d/E72ws8QGnVnpyXkiZ+8mVZTkJh25nx7uGdRQgA+
/6fj4cxKUdjH4jslPTFln3VpNK8F1qNFMEMwEgYDVR0TAQH/BAgwBgEB/wIBATAO
BgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFK5yslde7SmbwBadd6Y4B/bvGNq8MAoG
CCqGSM49BAMCA0gAMEUCIAx4zmcK3Qm49lv4ff5jr1J/1YtGwqnCcw5tK0b+xqP5
AiEAgZ4bsHA15d2aq40tMYlqwu2OaEu4Vf6HRuyWGr68234=
-----END CERTIFICATE-----`;
const OPENSSL_KEY = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIEWHK1RPUJxe6lTO7hQSOn/ZWjck1a4RUlRB7y5ef1cwoAoGCCqGSM49
AwEHoUQDQgAE9fkNEmBOL1XvyM7d/E72ws8QGnVnpyXkiZ+8mVZTkJh25nx7uGdR
QgA+/6fj4cxKUdjH4jslPTFln3VpNK8F1g==
-----END EC PRIVATE KEY-----`;

async function leaf(ca: RootCA, role: 'manager' | 'worker' = 'worker') {
  const issued = await ca.issue(await createCsrPem(await generateKeyPair()), { nodeId: newSwarmId(), role, clusterId: 'c1' });
  return issued.chainPem;
}

describe('certificate chains across a root rotation (cross-signing)', function () {
  this.timeout(20_000);
  let r1: RootCA;
  let r2: RootCA;
  let cross: string;
  let signer: RootCA;

  before(async () => {
    [r1, r2] = await Promise.all([RootCA.generate(), RootCA.generate()]);
    cross = await r1.crossSign(r2.certPem);
    signer = r2.withIntermediates(cross);
  });

  it('the cross-signed root has the new root\'s subject bytes and key, the old root as issuer, and is a CA', () => {
    const c = new X509Certificate(cross);
    const n = new X509Certificate(r2.certPem);
    assert.equal(c.ca, true);
    assert.ok(c.checkIssued(new X509Certificate(r1.certPem)) && c.verify(new X509Certificate(r1.certPem).publicKey));
    assert.deepEqual(issuerInfoOf(cross), issuerInfoOf(r2.certPem));
    assert.ok(c.publicKey.equals(n.publicKey));
    assert.ok(new Date(c.validTo) <= new Date(n.validTo) && new Date(c.validTo) <= r1.notAfter);
  });

  it('what the new root signs (with the cross-signed copy attached) verifies for nodes trusting either root, or both', async () => {
    const chain = await leaf(signer);
    assert.equal(parseCertificates(chain).length, 2, 'leaf, then the cross-signed root');
    for (const trust of [r1.certPem, r2.certPem, joinPem(r1.certPem, r2.certPem)]) {
      const v = verifyNodeCertificate(chain, trust);
      assert.deepEqual(v.issuer, r2.issuer, 'the issuer is the new root whichever way the path went');
    }
  });

  it('without the cross-signed copy, a node trusting only the old root refuses it', async () => {
    const chain = await leaf(r2);
    assert.throws(() => verifyNodeCertificate(chain, r1.certPem), denied(/not issued by the cluster root CA/));
    assert.equal(verifyNodeCertificate(chain, r2.certPem).role, 'worker');
  });

  it('once the old root is dropped from trust, its certificates are refused', async () => {
    const old = await leaf(r1);
    assert.deepEqual(verifyNodeCertificate(old, r1.certPem).issuer, r1.issuer);
    assert.throws(() => verifyNodeCertificate(old, r2.certPem), denied(/not issued by the cluster root CA/));
    assert.notDeepEqual(r1.issuer, r2.issuer);
  });

  it('the path builder prefers a root, skips what it does not need, and says why it fails', async () => {
    const chain = parseCertificates(await leaf(signer));
    const [l, c] = chain;
    const now = new Date();
    const viaNew = buildCertificatePath(l, [c], parseCertificates(r2.certPem), now);
    assert.ok(Array.isArray(viaNew) && viaNew.length === 2, 'leaf -> new root: the cross-signed copy is not needed');
    const viaOld = buildCertificatePath(l, [c], parseCertificates(r1.certPem), now);
    assert.ok(Array.isArray(viaOld) && viaOld.length === 3 && viaOld[1] === c);
    assert.equal(buildCertificatePath(l, [], parseCertificates(r1.certPem), now), 'not issued by the cluster root CA');
    const later = new Date(r1.notAfter.getTime() + 1000);
    assert.match(String(buildCertificatePath(l, [c], parseCertificates(r1.certPem), later)), /outside its validity/);
  });

  it('PEM blocks are joined one per line and compared by content', () => {
    const both = joinPem(r1.certPem.trim(), r2.certPem.trim());
    assert.equal(parseCertificates(both).length, 2);
    assert.match(both, /-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----/);
    assert.ok(sameCertificates(both, `${r1.certPem}\n\n${r2.certPem}`));
    assert.ok(!sameCertificates(both, joinPem(r2.certPem, r1.certPem)), 'order matters');
    assert.ok(!sameCertificates(r1.certPem, r2.certPem));
    assert.ok(!sameCertificates('', r1.certPem));
  });
});

describe('a root the user supplies (--ca-cert, --ca-key)', function () {
  this.timeout(20_000);

  it('takes an openssl root with a SEC1 key, and issues certificates naming its exact subject bytes', async () => {
    const ca = await RootCA.fromPem(OPENSSL_ROOT, OPENSSL_KEY);
    assert.equal(ca.issuer.subject, 'MBMxETAPBgNVBAMTCHN3YXJtLWNh', 'CN=swarm-ca as a PrintableString, byte for byte');
    const chain = await leaf(ca);
    const raw = Buffer.from(new x509.X509Certificate(chain).issuerName.toArrayBuffer()).toString('base64');
    assert.equal(raw, ca.issuer.subject);
    assert.deepEqual(verifyNodeCertificate(chain, OPENSSL_ROOT).issuer, ca.issuer);
  });

  it('cross-signs from and to such a root', async () => {
    const ours = await RootCA.generate();
    const theirs = await RootCA.fromPem(OPENSSL_ROOT, OPENSSL_KEY);
    const cross = await ours.crossSign(theirs.certPem);
    assert.deepEqual(issuerInfoOf(cross), theirs.issuer);
    const chain = await leaf(theirs.withIntermediates(cross));
    assert.deepEqual(verifyNodeCertificate(chain, ours.certPem).issuer, theirs.issuer);
  });

  it('refuses a key of another type, a key that is not the certificate\'s, a bundle, a leaf, and an expired root', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await assert.rejects(RootCA.fromPem(OPENSSL_ROOT, rsa), invalidArg(/want ECDSA P-256, got rsa/));
    const other = await RootCA.generate();
    await assert.rejects(RootCA.fromPem(OPENSSL_ROOT, other.keyPem), invalidArg(/does not match/));
    await assert.rejects(RootCA.fromPem(joinPem(OPENSSL_ROOT, other.certPem), OPENSSL_KEY), invalidArg(/want one PEM certificate, got 2/));
    await assert.rejects(RootCA.fromPem(await leaf(other), other.keyPem), invalidArg(/not a CA/));
    const past = new Date(Date.now() - 10 * 86_400_000);
    const expired = await RootCA.generate({ now: past, validityMs: 86_400_000 });
    await assert.rejects(RootCA.fromPem(expired.certPem, expired.keyPem), invalidArg(/not valid now/));
    await assert.rejects(RootCA.fromPem(OPENSSL_ROOT, 'not a key'), invalidArg(/not an unencrypted PEM private key/));
  });
});
