import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DigestMismatchError, DigestVerifier, digestOf, isDigest, parseDigest, sha256Digest, verifyBuffer } from '../../../worker/engine/registry';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe('registry digests', () => {
  it('parses sha256 and sha512 digests and rejects malformed ones', () => {
    assert.deepEqual(parseDigest(`sha256:${hex('a')}`), { algorithm: 'sha256', hex: hex('a') });
    assert.equal(parseDigest(`sha512:${'ab'.repeat(64)}`).algorithm, 'sha512');
    for (const bad of ['', 'sha256', `sha256:${hex('a').slice(1)}`, `sha256:${hex('a').toUpperCase()}`, `md5:${'a'.repeat(32)}`, `sha512:${hex('a')}`]) {
      assert.throws(() => parseDigest(bad), { code: 'INVALID_ARGUMENT' }, bad);
      assert.equal(isDigest(bad), false);
    }
  });

  it('verifies streamed content chunk by chunk', () => {
    const v = new DigestVerifier(`sha256:${hex('hello world')}`, 11);
    v.update(Buffer.from('hello '));
    v.update(Buffer.from('world'));
    assert.equal(v.verify(), `sha256:${hex('hello world')}`);
    assert.equal(v.bytes, 11);
  });

  it('fails on a digest mismatch, naming both digests', () => {
    const v = new DigestVerifier(sha256Digest('expected'));
    v.update(Buffer.from('something else'));
    assert.throws(
      () => v.verify('blob'),
      (e: unknown) => e instanceof DigestMismatchError && e.message === `blob digest mismatch: expected ${sha256Digest('expected')}, got ${sha256Digest('something else')}`,
    );
  });

  it('fails on a size mismatch even before comparing hashes', () => {
    const v = new DigestVerifier(sha256Digest('abc'), 4);
    v.update(Buffer.from('abc'));
    assert.throws(() => v.verify(), /size mismatch.*expected 4 bytes, got 3/);
  });

  it('verifies whole buffers and hashes with the algorithm given', () => {
    verifyBuffer(Buffer.from('x'), sha256Digest('x'));
    assert.throws(() => verifyBuffer(Buffer.from('y'), sha256Digest('x'), 'manifest'), /manifest digest mismatch/);
    assert.match(digestOf(Buffer.from('x'), 'sha512:'), /^sha512:[a-f0-9]{128}$/);
  });
});
