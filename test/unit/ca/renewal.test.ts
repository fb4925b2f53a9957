import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import type { NodeCertificateState } from '../../../shared/rpc';
import { CERT_BACKDATE_MS, joinPem } from '../../../shared/rpc/pki';
import { newSwarmId, RootCA } from '../../../manager/ca';
import { backoffMs } from '../../../worker/agent/session';
import { heldCertificate, nextRenewalMs, renewalReason, RENEWAL_RETRY, type HeldCertificate } from '../../../worker/agent/certs';

const S = 1000;
const DAY = 86_400_000;

describe('node certificate renewal: when and why', function () {
  this.timeout(20_000);
  let r1: RootCA;
  let r2: RootCA;
  let held: HeldCertificate;
  const want = (o: Partial<NodeCertificateState> = {}): NodeCertificateState => ({ trustRoot: r1.certPem, issuerSubject: r1.issuer.subject, issuerPublicKey: r1.issuer.publicKey, role: 'worker', rotating: false, ...o });

  before(async () => {
    [r1, r2] = await Promise.all([RootCA.generate(), RootCA.generate()]);
    held = heldCertificate(await r1.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: 'c1', expiryMs: 20 * S }));
  });

  it('a short certificate is due between 50% and 80% of its life, counted from its issue (not from its backdated start)', () => {
    const issued = new Date(held.notBefore.getTime() + CERT_BACKDATE_MS);
    assert.equal(nextRenewalMs(held, issued, () => 0), 10 * S);
    assert.equal(nextRenewalMs(held, issued, () => 1), 16 * S);
    assert.equal(nextRenewalMs(held, new Date(issued.getTime() + 12 * S), () => 0.5), 1 * S);
    assert.equal(nextRenewalMs(held, new Date(issued.getTime() + 19 * S), () => 0), 0, 'past the point: at once');
  });

  it("a 90-day certificate (Docker's default) is due after 45 to 72 days", () => {
    const nb = new Date(Date.UTC(2030, 0, 1));
    const na = new Date(nb.getTime() + CERT_BACKDATE_MS + 90 * DAY);
    const issued = new Date(nb.getTime() + CERT_BACKDATE_MS);
    assert.equal(nextRenewalMs({ notBefore: nb, notAfter: na }, issued, () => 0), 45 * DAY);
    assert.equal(nextRenewalMs({ notBefore: nb, notAfter: na }, issued, () => 1), 72 * DAY);
  });

  it('retries back off from about a second to at most five minutes', () => {
    assert.ok(backoffMs(1, RENEWAL_RETRY, () => 0) >= 500 && backoffMs(1, RENEWAL_RETRY, () => 1) <= 1000);
    assert.equal(backoffMs(30, RENEWAL_RETRY, () => 1), 5 * 60 * S);
  });

  const cases: Array<[string, () => Partial<NodeCertificateState>, RegExp | undefined]> = [
    ['it holds what the managers want', () => ({}), undefined],
    ['the same root, spelled with other spacing', () => ({ trustRoot: `\n${joinPem(r1.certPem)}\n` }), undefined],
    ['a new root to trust', () => ({ trustRoot: r2.certPem, issuerSubject: r2.issuer.subject, issuerPublicKey: r2.issuer.publicKey }), /root CA changed/],
    ['a rotation under way: a new issuer, the same root', () => ({ issuerSubject: r2.issuer.subject, issuerPublicKey: r2.issuer.publicKey, rotating: true }), /being rotated/],
    ['a promotion', () => ({ role: 'manager' }), /role changed to manager/],
  ];
  for (const [name, o, re] of cases) {
    it(`renews now when told? ${name}`, () => {
      const why = renewalReason(held, want(o()));
      if (re) assert.match(why ?? '', re);
      else assert.equal(why, undefined);
    });
  }

  it('what a node holds: its identity, the issuer of its certificate, its root', async () => {
    assert.equal(held.role, 'worker');
    assert.deepEqual(held.issuer, r1.issuer);
    assert.equal(held.trustRoot, r1.certPem);
    const foreign = await r2.issueCredentials({ nodeId: newSwarmId(), role: 'worker', clusterId: 'c1' });
    assert.throws(() => heldCertificate({ ...foreign, caPem: r1.certPem }), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED'));
  });
});
