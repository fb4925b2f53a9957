import assert from 'node:assert/strict';
import { followRotation, INITIAL_LINES, progressText, ProgressDisplay, rootDigest, rotationProgress } from '../../../../cli/commands/swarm/rotation';
import type { Node, TLSInfo } from '../../../../cli/format/swarm-types';
import { FakeCli } from './fake-cli';

const OLD: TLSInfo = { TrustRoot: 'OLDROOT\n', CertIssuerSubject: 'b2xk', CertIssuerPublicKey: 'b2xka2V5' };
const NEW: TLSInfo = { TrustRoot: 'NEWROOT\n', CertIssuerSubject: 'bmV3', CertIssuerPublicKey: 'bmV3a2V5' };
const node = (id: string, tls: TLSInfo): Node => ({ ID: id, Spec: {}, Description: { TLSInfo: tls } });
/** A node that has its new certificate but still trusts the old root as well. */
const renewed: TLSInfo = { ...NEW, TrustRoot: OLD.TrustRoot };

class Sink {
  text = '';
  write(s: string) {
    this.text += s;
  }
}

describe('cli swarm ca: rotation progress', () => {
  it("the digest line is the root's sha256", () => {
    assert.equal(rootDigest('NEWROOT\n'), 'sha256:aeea9b39e8639570af1295913423072a89a9d45e73377494ae7b1b3a3637e058');
  });
  it('certificates count by issuer; roots show 0 until every certificate is renewed and the swarm says done', () => {
    const nodes = [node('a', renewed), node('b', OLD), node('c', OLD)];
    let r = rotationProgress(NEW, nodes, true);
    assert.deepEqual(
      r.lines.map((l) => [l.id, l.action, l.current, l.total]),
      [
        ['desired root digest', rootDigest(NEW.TrustRoot!), undefined, undefined],
        ['  rotated TLS certificates', '', 1, 3],
        ['  rotated CA certificates', ' ', 0, 3],
      ],
    );
    assert.equal(r.done, false);
    r = rotationProgress(NEW, [node('a', NEW), node('b', renewed), node('c', renewed)], true);
    assert.equal(r.lines[2].current, 0, 'still in progress: roots not counted yet');
    r = rotationProgress(NEW, [node('a', NEW), node('b', renewed), node('c', renewed)], false);
    assert.deepEqual([r.lines[1].current, r.lines[2].current, r.done], [3, 1, false]);
    r = rotationProgress(NEW, [node('a', NEW), node('b', NEW), node('c', NEW)], false);
    assert.deepEqual([r.lines[2].current, r.done], [3, true]);
  });
  it("docker's progress text: a bar only wider than 110 columns, then N/M units", () => {
    const l = { id: 'x', action: '', current: 1, total: 3, units: 'nodes' };
    assert.equal(progressText(l, 150), `[${'='.repeat(16)}>${' '.repeat(34)}] 1/3 nodes`);
    assert.equal(progressText(l, 100), '1/3 nodes');
    assert.equal(progressText({ ...l, current: 3 }, 150), `[${'='.repeat(50)}>] 3/3 nodes`);
    assert.equal(progressText({ ...l, current: 0, total: 0 }, 150), '');
    assert.equal(progressText({ ...l, current: 4 }, 100), '4 nodes');
    assert.equal(progressText({ ...l, total: 0 }, 150), '1 nodes');
  });
  it('on a pipe only the lines without counts are printed', () => {
    const out = new Sink();
    const d = new ProgressDisplay(out, false);
    for (const l of INITIAL_LINES) d.write(l);
    for (const l of rotationProgress(NEW, [node('a', OLD)], true).lines) d.write(l);
    d.write({ id: '', action: '', message: 'Operation continuing in background.' });
    assert.equal(
      out.text,
      'desired root digest: \n  rotated TLS certificates: \n  rotated CA certificates:  \n' +
        `desired root digest: ${rootDigest(NEW.TrustRoot!)}\nOperation continuing in background.\n`,
    );
  });
  it('on a terminal each line is redrawn in place', () => {
    const out = new Sink();
    const d = new ProgressDisplay(out, true, 100);
    for (const l of INITIAL_LINES) d.write(l);
    d.write({ id: '  rotated TLS certificates', action: '', current: 2, total: 3, units: 'nodes' });
    assert.equal(
      out.text,
      '\n\x1b[1A\x1b[2K\rdesired root digest:  \r\x1b[1B' +
        '\n\x1b[1A\x1b[2K\r  rotated TLS certificates:  \r\x1b[1B' +
        '\n\x1b[1A\x1b[2K\r  rotated CA certificates:   \r\x1b[1B' +
        '\x1b[2A\x1b[2K\r  rotated TLS certificates:  2/3 nodes\r\x1b[2B',
    );
  });
  it('polls /swarm and /nodes until converged, then reads /swarm once more', async () => {
    const states: Array<[boolean, TLSInfo[]]> = [
      [true, [OLD, OLD]],
      [true, [renewed, renewed]],
      [false, [NEW, NEW]],
    ];
    const cli = new FakeCli({
      'GET /swarm': (_c, n) => ({ ID: 'sw', Spec: {}, TLSInfo: NEW, RootRotationInProgress: states[Math.min(n, 2)][0] }),
      'GET /nodes': (_c, n) => states[n][1].map((t, i) => node(`n${i}`, t)),
    });
    assert.equal(await followRotation(cli, { interval: 0 }), true);
    assert.deepEqual(cli.paths, ['GET /swarm', 'GET /nodes', 'GET /swarm', 'GET /nodes', 'GET /swarm', 'GET /nodes', 'GET /swarm']);
    const digest = `desired root digest: ${rootDigest(NEW.TrustRoot!)}\n`;
    assert.equal(cli.text, `desired root digest: \n  rotated TLS certificates: \n  rotated CA certificates:  \n${digest}${digest}${digest}`);
  });
  it('interrupted: stops polling and says the rotation goes on', async () => {
    const ac = new AbortController();
    const cli = new FakeCli({
      'GET /swarm': { ID: 'sw', Spec: {}, TLSInfo: NEW, RootRotationInProgress: true },
      'GET /nodes': () => {
        ac.abort();
        return [node('a', OLD)];
      },
    });
    assert.equal(await followRotation(cli, { interval: 60_000, interrupt: ac.signal }), false);
    assert.deepEqual(cli.paths, ['GET /swarm', 'GET /nodes']);
    assert.match(cli.text, /Operation continuing in background\.\nUse `shoal node inspect` to check progress\.\n$/);
  });
  it('quiet: the same polling, nothing shown', async () => {
    const cli = new FakeCli({ 'GET /swarm': { ID: 'sw', Spec: {}, TLSInfo: NEW }, 'GET /nodes': [node('a', NEW)] });
    assert.equal(await followRotation(cli, { interval: 0, quiet: true }), true);
    assert.deepEqual(cli.paths, ['GET /swarm', 'GET /nodes', 'GET /swarm']);
    assert.equal(cli.text, '');
  });
});
