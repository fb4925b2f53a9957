import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { dataKeyOf, newDataKey, open, openSecret, newSecret, payloadJson, sameData, seal, secretData, newConfig, validatePayloadSpec } from '../../../manager/secrets';

const internalError = (re: RegExp) => (e: unknown) => isShoalError(e, 'INTERNAL') && re.test((e as Error).message);

describe('secrets: sealing with the cluster data key (AES-256-GCM)', () => {
  const k = newDataKey();

  it('opens what it sealed; the sealed form holds no plaintext and differs each time', () => {
    const plain = Buffer.from('hunter2 is the password');
    const a = seal(k, 'secret/s1', plain);
    const b = seal(k, 'secret/s1', plain);
    assert.deepEqual(open(k, 'secret/s1', a), plain);
    assert.notEqual(a.Nonce, b.Nonce);
    assert.notEqual(a.Ciphertext, b.Ciphertext);
    assert.ok(!JSON.stringify(a).includes('hunter2'));
    assert.ok(!Buffer.from(a.Ciphertext, 'base64').includes(plain));
    assert.equal(a.KeyID, k.id);
  });

  it('refuses altered bytes, another object\'s context, and another key', () => {
    const s = seal(k, 'secret/s1', Buffer.from('data'));
    const body = Buffer.from(s.Ciphertext, 'base64');
    body[0] ^= 1;
    assert.throws(() => open(k, 'secret/s1', { ...s, Ciphertext: body.toString('base64') }), internalError(/failed authentication/));
    assert.throws(() => open(k, 'secret/s2', s), internalError(/failed authentication/));
    const other = newDataKey();
    assert.throws(() => open(other, 'secret/s1', s), internalError(new RegExp(`sealed with data key ${k.id}`)));
    // Same key bytes under a forged ID still fail authentication.
    assert.throws(() => open({ id: k.id, key: other.key }, 'secret/s1', s), internalError(/failed authentication/));
    assert.throws(() => open(k, 'secret/s1', { ...s, Ciphertext: 'AA==' }), internalError(/truncated/));
  });

  it('a key is 32 bytes with a stable fingerprint', () => {
    assert.throws(() => dataKeyOf(Buffer.alloc(16)), /32 bytes, not 16/);
    assert.equal(dataKeyOf(k.key).id, k.id);
    assert.match(k.id, /^[0-9a-f]{16}$/);
  });

  it('a stored secret keeps only the seal; the API shape has no data; a node gets the data', () => {
    const spec = validatePayloadSpec('secret', { Name: 'db', Labels: { a: 'b' }, Data: Buffer.from('pw').toString('base64') });
    const o = newSecret(spec, 'sid1', new Date(0), k);
    assert.equal(o.Spec.Data, undefined);
    assert.deepEqual(secretData(o, k), Buffer.from('pw'));
    const shown = payloadJson(o) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(shown).sort(), ['CreatedAt', 'ID', 'Spec', 'UpdatedAt']);
    assert.deepEqual(shown.Spec, { Name: 'db', Labels: { a: 'b' } });
    const sent = openSecret(o, k) as unknown as { Spec: { Data: string }; Sealed?: unknown };
    assert.equal(Buffer.from(sent.Spec.Data, 'base64').toString(), 'pw');
    assert.equal(sent.Sealed, undefined);
    assert.ok(sameData(o, Buffer.from('pw'), k));
    assert.ok(!sameData(o, Buffer.from('other'), k));
  });

  it('a config keeps and shows its data in clear', () => {
    const o = newConfig(validatePayloadSpec('config', { Name: 'c', Data: 'aGk=' }), 'cid', new Date(0));
    assert.deepEqual((payloadJson(o) as unknown as { Spec: unknown }).Spec, { Name: 'c', Labels: {}, Data: 'aGk=' });
    assert.ok(sameData(o, Buffer.from('hi')));
  });
});
