import assert from 'node:assert/strict';
import { caRefusal, caRequest, hasPemBlock, readPemFlag, rotatedSpec, runCa, trustRootText, type CaRequest } from '../../../../cli/commands/swarm/ca';
import { ExitError } from '../../../../cli/errors';
import { FlagError } from '../../../../cli/opts/errors';
import type { SwarmSpec, TLSInfo } from '../../../../cli/format/swarm-types';
import { rootDigest } from '../../../../cli/commands/swarm/rotation';
import { FakeCli } from './fake-cli';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBdDCCARmgAwIBAgIUF5JQ\njzPdeWxx\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEINeY\n-----END EC PRIVATE KEY-----\n';
const files: Record<string, string> = { '/c.pem': CERT, '/k.pem': KEY, '/plain': 'hello\n' };
const read = (p: string) => {
  if (p === '/dir') throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  if (!(p in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return files[p];
};
const req = (r: Partial<CaRequest>): CaRequest => ({ rotate: false, detach: false, quiet: false, ...r });
const ROOT = '-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n';
const SPEC = { Name: 'default', Labels: {}, CAConfig: { NodeCertExpiry: 7776000e9, ExternalCAs: [{ Protocol: 'cfssl' as const, URL: 'https://ca' }], SigningCACert: 'old', ForceRotate: 2 } };
const swarm = (tls: TLSInfo = { TrustRoot: ROOT }) => ({ ID: 'sw', Version: { Index: 7 }, Spec: SPEC, TLSInfo: tls, RootRotationInProgress: false });

describe('cli swarm ca: flags', () => {
  it('PEM files as Go reads them', () => {
    assert.equal(hasPemBlock(CERT), true);
    assert.equal(hasPemBlock(`junk before\n${KEY}junk after`), true);
    assert.equal(hasPemBlock('-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\nMIIB\n-----END X-----\n'), true);
    assert.equal(hasPemBlock('-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n'), false, 'not base64');
    assert.equal(hasPemBlock('-----BEGIN CERTIFICATE-----\nMIIB\n-----END KEY-----\n'), false, 'END of another type');
    assert.equal(hasPemBlock('hello'), false);
  });
  it("unreadable or non-PEM files are flag errors with docker's texts", () => {
    assert.equal(readPemFlag('/c.pem', '--ca-cert', read), CERT);
    assert.throws(() => readPemFlag('/nope', '--ca-cert', read), (e: unknown) => e instanceof FlagError && e.message === 'invalid argument "/nope" for "--ca-cert" flag: open /nope: no such file or directory');
    assert.throws(() => readPemFlag('/dir', '--ca-key', read), { message: 'invalid argument "/dir" for "--ca-key" flag: read /dir: is a directory' });
    assert.throws(() => readPemFlag('/plain', '--ca-key', read), { message: 'invalid argument "/plain" for "--ca-key" flag: file contents must be in PEM format' });
  });
  it('files and durations are read before the daemon is called; external CAs are refused', () => {
    assert.deepEqual(caRequest({ rotate: true, caCert: '/c.pem', caKey: '/k.pem', certExpiry: '48h', detach: true }, read), { rotate: true, detach: true, quiet: false, cert: CERT, key: KEY, certExpiry: 48 * 3600e9 });
    assert.throws(() => caRequest({ certExpiry: '5' }), /invalid argument "5" for "--cert-expiry" flag: time: missing unit in duration "5"/);
    assert.throws(() => caRequest({ rotate: true, externalCa: 'protocol=cfssl,url=https://ca' }), (e: unknown) => e instanceof ExitError && /external CAs are not supported by shoal/.test(e.message));
  });
  it("docker's refusals: CA flags need --rotate (first one named), a cert needs its key", () => {
    assert.equal(caRefusal(req({})), undefined);
    assert.equal(caRefusal(req({ key: KEY, cert: CERT })), '`--ca-cert` flag requires the `--rotate` flag to update the CA');
    assert.equal(caRefusal(req({ key: KEY, certExpiry: 1 })), '`--ca-key` flag requires the `--rotate` flag to update the CA');
    assert.equal(caRefusal(req({ certExpiry: 1 })), '`--cert-expiry` flag requires the `--rotate` flag to update the CA');
    assert.equal(caRefusal(req({ rotate: true, cert: CERT })), 'the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well');
    assert.equal(caRefusal(req({ rotate: true, key: KEY })), undefined, 'a key alone is for the daemon to refuse');
    assert.equal(caRefusal(req({ rotate: true, cert: CERT, key: KEY })), undefined);
  });
});

describe('cli swarm ca: the spec sent', () => {
  it('--rotate alone: ForceRotate + 1, the old signing cert dropped, the rest kept', () => {
    const out = rotatedSpec(SPEC, req({ rotate: true }));
    assert.deepEqual(out.CAConfig, { NodeCertExpiry: 7776000e9, ExternalCAs: [{ Protocol: 'cfssl', URL: 'https://ca' }], ForceRotate: 3 });
    assert.equal(SPEC.CAConfig.ForceRotate, 2, 'input untouched');
    assert.deepEqual(rotatedSpec<SwarmSpec>({}, req({ rotate: true, certExpiry: 3600e9 })).CAConfig, { NodeCertExpiry: 3600e9, ForceRotate: 1 });
  });
  it('a given root: cert and key sent, ForceRotate unchanged; a key alone goes as is', () => {
    assert.deepEqual(rotatedSpec(SPEC, req({ rotate: true, cert: CERT, key: KEY })).CAConfig, { NodeCertExpiry: 7776000e9, ExternalCAs: [{ Protocol: 'cfssl', URL: 'https://ca' }], SigningCACert: CERT, SigningCAKey: KEY, ForceRotate: 2 });
    assert.deepEqual(rotatedSpec({ CAConfig: null }, req({ rotate: true, key: KEY })).CAConfig, { SigningCAKey: KEY });
  });
  it('the trust root is printed trimmed; none is an error', () => {
    assert.equal(trustRootText(swarm({ TrustRoot: `\n${ROOT}\n` })), ROOT);
    assert.throws(() => trustRootText(swarm({ TrustRoot: '' })), { message: 'No CA information available' });
  });
});

describe('cli swarm ca: calls', () => {
  it('without flags: one GET /swarm and the root', async () => {
    const cli = new FakeCli({ 'GET /swarm': swarm() });
    await runCa(cli, req({}));
    assert.deepEqual(cli.paths, ['GET /swarm']);
    assert.equal(cli.text, ROOT);
  });
  it('refusals come after the swarm is read, and nothing is updated', async () => {
    const cli = new FakeCli({ 'GET /swarm': swarm() });
    await assert.rejects(runCa(cli, req({ certExpiry: 1 })), (e: unknown) => e instanceof ExitError && e.code === 1);
    assert.deepEqual(cli.paths, ['GET /swarm']);
  });
  it('--rotate --detach: the update with the version read, nothing printed', async () => {
    const cli = new FakeCli({ 'GET /swarm': swarm(), 'POST /swarm/update': undefined });
    await runCa(cli, req({ rotate: true, detach: true }));
    assert.deepEqual(cli.paths, ['GET /swarm', 'POST /swarm/update']);
    assert.deepEqual(cli.calls[1].query, { rotateManagerToken: 'false', rotateManagerUnlockKey: 'false', rotateWorkerToken: 'false', version: 7 });
    assert.equal((cli.calls[1].body as typeof SPEC).CAConfig.ForceRotate, 3);
    assert.equal(cli.text, '');
  });
  it('--rotate: follows the rotation, then prints the new root (not with -q)', async () => {
    const NEW = { TrustRoot: ROOT.replace('ROOT', 'NEW'), CertIssuerSubject: 'bmV3', CertIssuerPublicKey: 'a2V5' };
    const routes = { 'GET /swarm': swarm(NEW), 'POST /swarm/update': undefined, 'GET /nodes': [{ ID: 'a', Spec: {}, Description: { TLSInfo: NEW } }] };
    const cli = new FakeCli(routes);
    await runCa(cli, req({ rotate: true }), { interval: 0 });
    assert.deepEqual(cli.paths, ['GET /swarm', 'POST /swarm/update', 'GET /swarm', 'GET /nodes', 'GET /swarm', 'GET /swarm']);
    assert.match(cli.text, /^desired root digest: \n/);
    assert.ok(cli.text.endsWith(`desired root digest: ${rootDigest(NEW.TrustRoot)}\n${NEW.TrustRoot}`));
    const quiet = new FakeCli(routes);
    await runCa(quiet, req({ rotate: true, quiet: true }), { interval: 0 });
    assert.deepEqual(quiet.paths, ['GET /swarm', 'POST /swarm/update', 'GET /swarm', 'GET /nodes', 'GET /swarm']);
    assert.equal(quiet.text, '');
  });
});
