import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { isShoalError } from '../../../shared/errors';
import type { Node, TLSInfo } from '../../../shared/swarm';
import { certificateDigest, parseJoinToken } from '../../../shared/rpc';
import { issuerInfoOf, joinPem, parseCertificates } from '../../../shared/rpc/pki';
import { newDataKey } from '../../../manager/secrets';
import {
  applyCAConfig,
  caFields,
  CASigners,
  clusterTLSInfo,
  decideRotation,
  finishCertificates,
  finishTrust,
  newJoinTokens,
  newStoredRootCA,
  nodeTLSInfo,
  planCARotation,
  publicCluster,
  RootCA,
  type CACluster,
  type StoredRootCA,
} from '../../../manager/ca';

const code = (c: string, re: RegExp) => (e: unknown) => isShoalError(e) && e.code === c && re.test(e.message);

/** A node that reports holding a certificate from `issuerPem` and trusting `trust`. */
const node = (id: string, trust?: string, issuerPem?: string): Node => ({ ID: id, Spec: { Role: 'worker' }, Description: trust && issuerPem ? { TLSInfo: nodeTLSInfo(trust, issuerInfoOf(issuerPem)) } : {} });

describe('CA rotation: deciding from CAConfig', function () {
  this.timeout(20_000);
  let r1: RootCA;
  let r2: RootCA;
  let steady: StoredRootCA;
  let rotating: StoredRootCA;
  const key = newDataKey();

  before(async () => {
    [r1, r2] = await Promise.all([RootCA.generate(), RootCA.generate()]);
    steady = newStoredRootCA(r1, key, 2);
    rotating = { ...steady, RootRotation: { CACert: r2.certPem, CAKey: steady.CAKey, CrossSignedCACert: await r1.crossSign(r2.certPem) } };
  });

  const cases: Array<[string, () => StoredRootCA, () => Parameters<typeof decideRotation>[1], string]> = [
    ['nothing asked', () => steady, () => ({ ForceRotate: 2 }), 'none'],
    ['no CAConfig at all, ForceRotate recorded as 0', () => ({ ...steady, LastForcedRotation: 0 }), () => undefined, 'none'],
    ['ForceRotate moved on', () => steady, () => ({ ForceRotate: 3 }), 'generate'],
    ['ForceRotate moved back (swarmkit compares for inequality)', () => steady, () => ({ ForceRotate: 1 }), 'generate'],
    ['the current root as SigningCACert', () => steady, () => ({ SigningCACert: `\n${r1.certPem}\n`, ForceRotate: 2 }), 'none'],
    ['another root with its key', () => steady, () => ({ SigningCACert: r2.certPem, SigningCAKey: r2.keyPem }), 'use'],
    ['during a rotation, its target as SigningCACert (an update that sends the spec back)', () => rotating, () => ({ SigningCACert: r2.certPem, ForceRotate: 2 }), 'none'],
    ['during a rotation, the current root back', () => rotating, () => ({ SigningCACert: r1.certPem }), 'cancel'],
    ['during a rotation, ForceRotate again', () => rotating, () => ({ ForceRotate: 9 }), 'generate'],
  ];
  for (const [name, ca, cfg, want] of cases) it(`${name}: ${want}`, () => assert.equal(decideRotation(ca(), cfg()).kind, want));

  it('a new SigningCACert without its key is refused (there are no external CAs)', () => {
    assert.throws(() => decideRotation(steady, { SigningCACert: r2.certPem }), code('INVALID_ARGUMENT', /needs its SigningCAKey/));
  });
});

describe('CA rotation: from the swarm update to the end', function () {
  this.timeout(30_000);
  const key = newDataKey();
  let r1: RootCA;
  let r2: RootCA;
  let cluster: CACluster;

  before(async () => {
    [r1, r2] = await Promise.all([RootCA.generate(), RootCA.generate()]);
    const ca = newStoredRootCA(r1, key);
    const tokens = newJoinTokens(r1.digest);
    cluster = { ID: 'c1', Spec: { CAConfig: { NodeCertExpiry: 7776000e9 } }, ...caFields(ca), JoinTokens: { Worker: tokens.worker, Manager: tokens.manager } };
  });

  it('a spec that asks for nothing changes nothing but the spec; the signing key never reaches the stored spec', async () => {
    const out = await applyCAConfig(cluster, { Name: 'x', CAConfig: { NodeCertExpiry: 7200e9 } }, { dataKey: key });
    assert.deepEqual(out.Spec, { Name: 'x', CAConfig: { NodeCertExpiry: 7200e9 } });
    assert.equal(out.RootCA?.CACert, r1.certPem);
    assert.equal(out.RootRotationInProgress, undefined);
  });

  it('bad CAConfig values are refused before anything else', async () => {
    await assert.rejects(applyCAConfig(cluster, { CAConfig: { NodeCertExpiry: 60e9 } }, { dataKey: key }), code('INVALID_ARGUMENT', /NodeCertExpiry: 1m0s is below/));
  });

  it('walks both phases: certificates, then trust; the join tokens pin the new root with the same secrets', async () => {
    // docker swarm ca --rotate: ForceRotate + 1.
    const started = { ...cluster, ...(await applyCAConfig(cluster, { ...cluster.Spec, CAConfig: { ...cluster.Spec.CAConfig, ForceRotate: 1 } }, { dataKey: key, generate: async () => r2 })) };
    const ca = started.RootCA!;
    assert.equal(started.RootRotationInProgress, true, 'the update itself says so, before any reconcile');
    assert.deepEqual(started.TLSInfo, clusterTLSInfo(cluster.RootCA!), "the cluster's TLSInfo stays the old root's until the certificates moved");
    assert.equal(ca.RootRotation?.CACert, r2.certPem);
    assert.equal(ca.LastForcedRotation, 1);
    assert.doesNotMatch(JSON.stringify(started), /PRIVATE KEY/, 'keys are stored sealed');
    const cross = new X509Certificate(ca.RootRotation!.CrossSignedCACert);
    assert.ok(cross.verify(new X509Certificate(r1.certPem).publicKey), 'cross-signed by the old root');

    // The signer now is the new root, with the cross-signed copy attached.
    const signers = new CASigners(() => key);
    const s1 = await signers.signer(ca);
    assert.equal(s1.certPem, r2.certPem);
    assert.equal(parseCertificates(s1.intermediatesPem).length, 1);

    const old = r1.certPem;
    const nodes = [node('b', old, r2.certPem), node('a', old, r1.certPem), node('c')];
    assert.deepEqual(planCARotation(started, nodes), { action: 'wait', phase: 'certificates', pending: ['a', 'c'] });
    const renewed = [node('b', old, r2.certPem), node('a', old, r2.certPem), node('c', old, r2.certPem)];
    assert.deepEqual(planCARotation(started, renewed), { action: 'finish-certificates' });

    const moved = finishCertificates(started, new Date());
    assert.equal(moved.RootRotationInProgress, false);
    assert.equal(moved.RootCA!.CACert, r2.certPem);
    assert.equal(moved.RootCA!.RootRotation, undefined);
    assert.deepEqual(moved.TLSInfo, { TrustRoot: r2.certPem, CertIssuerSubject: r2.issuer.subject, CertIssuerPublicKey: r2.issuer.publicKey } satisfies TLSInfo);
    for (const role of ['Worker', 'Manager'] as const) {
      const before = parseJoinToken(cluster.JoinTokens![role]!);
      const after = parseJoinToken(moved.JoinTokens![role]!);
      assert.equal(after.secret, before.secret);
      assert.equal(after.caDigest, certificateDigest(r2.certPem));
    }
    const s2 = await signers.signer(moved.RootCA!);
    assert.equal(parseCertificates(s2.intermediatesPem).length, 1, 'still attached for nodes that trust the old root');

    // Nodes now learn the new root; one reports it with other PEM spacing.
    assert.deepEqual(planCARotation(moved, renewed), { action: 'wait', phase: 'trust', pending: ['a', 'b', 'c'] });
    const trusting = [node('a', r2.certPem, r2.certPem), node('b', `${r2.certPem.trim()}\n\n`, r2.certPem), node('c', joinPem(r2.certPem), r2.certPem)];
    assert.deepEqual(planCARotation(moved, trusting), { action: 'finish-trust' });
    const done = finishTrust(moved, new Date());
    assert.equal(done.RootCA!.CrossSignedCACert, undefined);
    assert.deepEqual(done.TLSInfo, moved.TLSInfo);
    assert.deepEqual(planCARotation(done, trusting), { action: 'none' });
    assert.equal((await signers.signer(done.RootCA!)).intermediatesPem, '', 'the old root is gone from what is issued');
  });

  it('a root the user gives is rotated to; the spec keeps its certificate, never its key', async () => {
    const out = await applyCAConfig(cluster, { CAConfig: { SigningCACert: r2.certPem, SigningCAKey: r2.keyPem } }, { dataKey: key });
    assert.equal(out.RootCA?.RootRotation?.CACert, r2.certPem);
    assert.deepEqual(out.Spec?.CAConfig, { SigningCACert: r2.certPem });
  });

  it('asking for the current root back during a rotation cancels it', async () => {
    const started = { ...cluster, ...(await applyCAConfig(cluster, { CAConfig: { ForceRotate: 5 } }, { dataKey: key, generate: async () => r2 })) };
    const back = await applyCAConfig(started, { CAConfig: { SigningCACert: r1.certPem, ForceRotate: 5 } }, { dataKey: key });
    assert.equal(back.RootCA?.RootRotation, undefined);
    assert.equal(back.RootRotationInProgress, false);
  });

  it('refuses to rotate without the data key, while the last rotation still moves trust, or with no CA in the store', async () => {
    await assert.rejects(applyCAConfig(cluster, { CAConfig: { ForceRotate: 1 } }, { dataKey: undefined }), code('FAILED_PRECONDITION', /no cluster data key/));
    const trust: CACluster = { ...cluster, RootCA: { ...cluster.RootCA!, CrossSignedCACert: 'x' } };
    await assert.rejects(applyCAConfig(trust, { CAConfig: { ForceRotate: 1 } }, { dataKey: key }), code('FAILED_PRECONDITION', /still moving nodes to the new root/));
    await assert.rejects(applyCAConfig(trust, { CAConfig: { ForceRotate: 1 } }, { dataKey: key, nodes: [node('a', r1.certPem, r1.certPem), node('b')] }), code('FAILED_PRECONDITION', /still moving/));
    // Every node already trusts the root: the old one is dropped here and the new rotation starts.
    const next = await applyCAConfig(trust, { CAConfig: { ForceRotate: 1 } }, { dataKey: key, nodes: [node('a', r1.certPem, r1.certPem)], generate: async () => r2 });
    assert.equal(next.RootCA?.CrossSignedCACert, undefined);
    assert.equal(next.RootCA?.RootRotation?.CACert, r2.certPem);
    const bare: CACluster = { ID: 'c1', Spec: {} };
    await assert.rejects(applyCAConfig(bare, { CAConfig: { ForceRotate: 1 } }, { dataKey: key }), code('FAILED_PRECONDITION', /keeps no CA in its store/));
    assert.deepEqual(await applyCAConfig(bare, { Name: 'n' }, { dataKey: key }), { Spec: { Name: 'n' } });
  });

  it('the key opens only with the data key it was sealed with', async () => {
    await assert.rejects(new CASigners(() => newDataKey()).signer(cluster.RootCA!), (e: unknown) => isShoalError(e, 'INTERNAL'));
    await assert.rejects(new CASigners(() => undefined).signer(cluster.RootCA!), code('UNAVAILABLE', /no cluster data key/));
  });

  it('the API never shows the stored CA', () => {
    const shown = publicCluster(cluster);
    assert.equal('RootCA' in shown, false);
    assert.equal(shown.TLSInfo?.TrustRoot, r1.certPem);
  });

  it('a cluster with no CA in the store, or no rotation, needs nothing', () => {
    assert.deepEqual(planCARotation(undefined, []), { action: 'none' });
    assert.deepEqual(planCARotation({ ID: 'c', Spec: {} }, [node('a')]), { action: 'none' });
    assert.deepEqual(planCARotation(cluster, [node('a')]), { action: 'none' });
  });
});
