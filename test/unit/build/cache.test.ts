import assert from 'node:assert/strict';
import { cacheKey, digestSources, sourceLabel, type SourceGroup } from '../../../worker/engine/build/cache';
import { runCreatedBy, nopCreatedBy, nopCreatedBy1, goDuration, goQuoteList, healthcheckText } from '../../../worker/engine/build/history';

const file = (over: Partial<SourceGroup['entries'][0]> = {}) => ({ path: '', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 3, sha256: 'aa', ...over });

describe('build cache keys', () => {
  it('depend on the parent image and the recorded instruction', () => {
    const a = cacheKey({ parent: 'sha256:1', createdBy: '/bin/sh -c echo hi' });
    assert.equal(a, cacheKey({ parent: 'sha256:1', createdBy: '/bin/sh -c echo hi' }));
    assert.notEqual(a, cacheKey({ parent: 'sha256:2', createdBy: '/bin/sh -c echo hi' }));
    assert.notEqual(a, cacheKey({ parent: 'sha256:1', createdBy: '/bin/sh -c echo ho' }));
    assert.notEqual(a, cacheKey({ createdBy: '/bin/sh -c echo hi' }));
    assert.notEqual(a, cacheKey({ parent: 'sha256:1', createdBy: '/bin/sh -c echo hi', extra: ['author=x'] }));
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
  });

  it('RUN records the build args it sees, sorted, so their values are part of the key', () => {
    const cmd = ['/bin/sh', '-c', 'echo $V'];
    assert.equal(runCreatedBy(cmd, []), '/bin/sh -c echo $V');
    assert.equal(runCreatedBy(cmd, ['V=2', 'A=1']), '|2 A=1 V=2 /bin/sh -c echo $V');
    assert.notEqual(cacheKey({ parent: 'p', createdBy: runCreatedBy(cmd, ['V=1']) }), cacheKey({ parent: 'p', createdBy: runCreatedBy(cmd, ['V=2']) }));
  });

  it('source digests cover contents, modes, owners, names and links, not mtimes', () => {
    const base: SourceGroup[] = [{ name: 'a', entries: [file()] }];
    const d = digestSources(base);
    assert.equal(d, digestSources([{ name: 'a', entries: [file()] }]));
    assert.notEqual(d, digestSources([{ name: 'a', entries: [file({ sha256: 'bb' })] }]));
    assert.notEqual(d, digestSources([{ name: 'a', entries: [file({ mode: 0o755 })] }]));
    assert.notEqual(d, digestSources([{ name: 'a', entries: [file({ uid: 1000 })] }]));
    assert.notEqual(d, digestSources([{ name: 'b', entries: [file()] }]));
    const link = (t: string): SourceGroup[] => [{ name: 'd', entries: [{ path: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }, { path: 'l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, link: t }] }];
    assert.notEqual(digestSources(link('x')), digestSources(link('y')));
  });

  it('source digests do not depend on walk order', () => {
    const e1 = { path: 'x', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 1, sha256: '1' };
    const e2 = { path: 'y', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 1, sha256: '2' };
    const dir = { path: '', type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0 };
    assert.equal(digestSources([{ name: 'd', entries: [dir, e1, e2] }]), digestSources([{ name: 'd', entries: [e2, dir, e1] }]));
  });

  it('labels sources as Docker does: file:, dir:, multi:', () => {
    assert.equal(sourceLabel([{ name: 'a', entries: [file()] }], 'h'), 'file:h');
    assert.equal(sourceLabel([{ name: 'a', entries: [{ ...file(), type: 'dir' }] }], 'h'), 'dir:h');
    assert.equal(sourceLabel([{ name: 'a', entries: [file()] }, { name: 'b', entries: [file()] }], 'h'), 'multi:h');
  });
});

describe('build history text', () => {
  it('metadata steps use Docker\'s #(nop) forms', () => {
    assert.equal(nopCreatedBy(['/bin/sh', '-c'], 'ENV a=b'), '/bin/sh -c #(nop)  ENV a=b');
    assert.equal(nopCreatedBy1(['/bin/sh', '-c'], 'WORKDIR /app'), '/bin/sh -c #(nop) WORKDIR /app');
    assert.equal(goQuoteList(['/bin/sh', '-c', 'echo "hi"']), '["/bin/sh" "-c" "echo \\"hi\\""]');
  });
  it('formats durations like Go', () => {
    assert.equal(goDuration(0), '0s');
    assert.equal(goDuration(30e9), '30s');
    assert.equal(goDuration(90e9), '1m30s');
    assert.equal(goDuration(3600e9), '1h0m0s');
    assert.equal(goDuration(1.5e9), '1.5s');
    assert.equal(goDuration(250e6), '250ms');
  });
  it('formats HEALTHCHECK like the classic builder', () => {
    assert.equal(healthcheckText({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 3 }), 'HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" "0s" \'\\x03\'}');
  });
});
