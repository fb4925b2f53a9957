import assert from 'node:assert/strict';
import { ClusterIndex } from '../../../manager/dispatcher/state';
import { newDataKey, newSecret, registerDataKey, unregisterDataKey, validatePayloadSpec, type StoredPayload } from '../../../manager/secrets';
import type { StoredObject } from '../../../manager/store';

describe('dispatcher: secrets are opened only where they are sent', () => {
  const k = newDataKey();
  const sealed = newSecret(validatePayloadSpec('secret', { Name: 'db', Data: Buffer.from('pw').toString('base64') }), 'sec1', new Date(0), k);
  const stored = { ...sealed, Version: { Index: 3 } } as StoredPayload;
  const index = (cluster = 'clusterA', secret: StoredObject = stored) => {
    const ix = new ClusterIndex();
    ix.load({ cluster: [{ ID: cluster }], secrets: [secret] });
    return ix;
  };
  afterEach(() => unregisterDataKey('clusterA'));

  it('with the cluster\'s key registered, a node gets the data and no seal', () => {
    registerDataKey('clusterA', k);
    const sent = index().secret('sec1') as unknown as { Spec: { Name: string; Data: string }; Sealed?: unknown };
    assert.equal(Buffer.from(sent.Spec.Data, 'base64').toString(), 'pw');
    assert.equal(sent.Spec.Name, 'db');
    assert.equal(sent.Sealed, undefined);
    // The store's object is left sealed.
    assert.equal(stored.Spec.Data, undefined);
  });

  it('without the key, with another cluster\'s key, or with altered data, nothing is sent', () => {
    assert.equal(index().secret('sec1'), undefined);
    registerDataKey('clusterA', newDataKey());
    assert.equal(index().secret('sec1'), undefined);
    registerDataKey('clusterA', k);
    const body = Buffer.from(stored.Sealed!.Ciphertext, 'base64');
    body[body.length - 1] ^= 0xff;
    assert.equal(index('clusterA', { ...stored, Sealed: { ...stored.Sealed!, Ciphertext: body.toString('base64') } } as StoredObject).secret('sec1'), undefined);
  });

  it('an opener can be given explicitly (the seam for wiring the key through the dispatcher)', () => {
    const ix = new ClusterIndex((o, cluster) => ({ ...o, Opened: cluster }) as StoredObject);
    ix.load({ cluster: [{ ID: 'other' }], secrets: [stored] });
    assert.equal((ix.secret('sec1') as unknown as { Opened: string }).Opened, 'other');
    // Opened once per stored version.
    assert.equal(ix.secret('sec1'), ix.secret('sec1'));
  });
});
