import assert from 'node:assert/strict';
import {
  parseReference,
  parseNormalized,
  parseNormalizedTagged,
  parseRepoTag,
  fullString,
  familiarString,
  familiarName,
  familiarize,
  isIdPrefix,
  isFullId,
} from '../../../worker/engine/images/reference';

const HEX = 'a'.repeat(64);

describe('images/reference', () => {
  it('splits domain, path, tag and digest', () => {
    assert.deepEqual(parseReference('localhost:5000/a/b:v1'), { domain: 'localhost:5000', path: 'a/b', tag: 'v1', digest: undefined });
    assert.deepEqual(parseReference(`reg.example.com/x@sha256:${HEX}`), { domain: 'reg.example.com', path: 'x', tag: undefined, digest: `sha256:${HEX}` });
    assert.deepEqual(parseReference('busybox'), { domain: '', path: 'busybox', tag: undefined, digest: undefined });
    // A first component without '.', ':' or "localhost" is a path, not a registry.
    assert.deepEqual(parseReference('foo/bar:1.0'), { domain: '', path: 'foo/bar', tag: '1.0', digest: undefined });
    assert.equal(parseReference('localhost/x').domain, 'localhost');
    assert.deepEqual(parseReference(`a:b@sha256:${HEX}`), { domain: '', path: 'a', tag: 'b', digest: `sha256:${HEX}` });
  });

  it('rejects malformed references with docker messages', () => {
    for (const bad of ['', 'a::b', 'UP/x', 'a/', '/a', 'a//b', 'a:b:c', 'a@sha256:123', '-a', 'a:-tag', 'a b']) {
      assert.throws(() => parseReference(bad), (e: Error) => /invalid reference format/.test(e.message), bad);
    }
    assert.throws(() => parseReference('Busybox'), /repository name \(Busybox\) must be lowercase/);
    assert.throws(() => parseReference('a'.repeat(256)), /must not be more than 255 characters/);
    assert.throws(() => parseNormalized(HEX), /cannot specify 64-byte hexadecimal strings/);
  });

  it('normalises docker.io names and keeps familiar forms', () => {
    const r = parseNormalizedTagged('busybox');
    assert.equal(fullString(r), 'docker.io/library/busybox:latest');
    assert.equal(familiarString(r), 'busybox:latest');
    assert.equal(fullString(parseNormalized('index.docker.io/foo/bar:2')), 'docker.io/foo/bar:2');
    assert.equal(familiarName(parseNormalized('docker.io/foo/bar')), 'foo/bar');
    assert.equal(familiarName(parseNormalized('docker.io/library/a/b')), 'library/a/b');
    assert.equal(familiarString(parseNormalized('localhost:5000/a:1')), 'localhost:5000/a:1');
    assert.equal(familiarize('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(familiarize(`docker.io/library/busybox@sha256:${HEX}`), `busybox@sha256:${HEX}`);
  });

  it('combines repo and tag as docker tag/import do', () => {
    assert.equal(fullString(parseRepoTag('busybox', 'v2')), 'docker.io/library/busybox:v2');
    assert.equal(fullString(parseRepoTag('busybox:v3')), 'docker.io/library/busybox:v3');
    assert.equal(fullString(parseRepoTag('localhost:5000/a')), 'localhost:5000/a:latest');
    assert.throws(() => parseRepoTag('busybox', 'bad tag'), /invalid tag format/);
    assert.throws(() => parseRepoTag(`busybox@sha256:${HEX}`), /digest/);
  });

  it('recognises IDs and ID prefixes', () => {
    assert.ok(isFullId(HEX) && isFullId(`sha256:${HEX}`));
    assert.ok(!isFullId('abc'));
    assert.ok(isIdPrefix('abc') && isIdPrefix('sha256:abcd'));
    assert.ok(!isIdPrefix('ab') && !isIdPrefix('xyz1'));
  });
});
