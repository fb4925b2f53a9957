import assert from 'node:assert/strict';
import { ClusterIndex } from '../../../manager/dispatcher/state';
import { newDataKey, newSecret, validatePayloadSpec, type DataKey, type StoredPayload } from '../../../manager/secrets';
import { secretForNode } from '../../../manager/secrets/dispatch';
import type { StoredObject } from '../../../manager/store';

describe('dispatcher: secrets are opened only where they are sent', () => {
  const k = newDataKey();
  const sealed = newSecret(validatePayloadSpec('secret', { Name: 'db', Data: Buffer.from('pw').toString('base64') }), 'sec1', new Date(0), k);
  const stored = { ...sealed, Version: { Index: 3 } } as StoredPayload;
  /** The dispatcher's index as a manager holding `key` (or none) builds it. */
  const index = (key: DataKey | undefined, secret: StoredObject = stored) => {
    const ix = new ClusterIndex((o) => secretForNode(o, key));
    ix.load({ cluster: [{ ID: 'clusterA' }], secrets: [secret] });
    return ix;
  };

  it('with the cluster\'s key, a node gets the data and no seal', () => {
    const sent = index(k).secret('sec1') as unknown as { Spec: { Name: string; Data: string }; Sealed?: unknown };
    assert.equal(Buffer.from(sent.Spec.Data, 'base64').toString(), 'pw');
    assert.equal(sent.Spec.Name, 'db');
    assert.equal(sent.Sealed, undefined);
    // The store's object is left sealed.
    assert.equal(stored.Spec.Data, undefined);
  });

  it('without the key, with another cluster\'s key, or with altered data, nothing is sent', () => {
    assert.equal(index(undefined).secret('sec1'), undefined);
    assert.equal(new ClusterIndex().secret('sec1'), undefined, 'by default nothing sealed is sent');
    assert.equal(index(newDataKey()).secret('sec1'), undefined);
    const body = Buffer.from(stored.Sealed!.Ciphertext, 'base64');
    body[body.length - 1] ^= 0xff;
    assert.equal(index(k, { ...stored, Sealed: { ...stored.Sealed!, Ciphertext: body.toString('base64') } } as StoredObject).secret('sec1'), undefined);
  });

  it('the opener is the index\'s own: each stored version is opened once', () => {
    let calls = 0;
    const ix = new ClusterIndex((o) => (calls++, { ...o, Opened: true }) as StoredObject);
    ix.load({ cluster: [{ ID: 'other' }], secrets: [stored] });
    assert.equal((ix.secret('sec1') as unknown as { Opened: boolean }).Opened, true);
    // Opened once per stored version.
    assert.equal(ix.secret('sec1'), ix.secret('sec1'));
    assert.equal(calls, 1);
  });
});
