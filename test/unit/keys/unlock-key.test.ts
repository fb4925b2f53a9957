import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { formatUnlockKey, newUnlockKey, parseUnlockKey, UNLOCK_KEY_PREFIX } from '../../../shared/keys';
import { autolockUpdate, sealUnlockKey, unlockKeyOf, type AutolockCluster } from '../../../manager/autolock';
import { newDataKey } from '../../../shared/crypto/seal';

const refused = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message);

describe('keys/unlock key format', () => {
  it('prints SWMKEY-1- and 43 base64 characters, and reads back the same key', () => {
    const k = newUnlockKey();
    const text = formatUnlockKey(k);
    assert.match(text, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/);
    const back = parseUnlockKey(`  ${text}\n`);
    assert.equal(back.id, k.id);
    assert.deepEqual(back.key, k.key);
  });

  it("reads the key in the API spec's example", () => {
    assert.equal(parseUnlockKey('SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8').key.length, 32);
  });

  it('refuses an empty key, another prefix, non-base64 and a wrong length, never echoing the key', () => {
    assert.throws(() => parseUnlockKey(''), refused(/the key is empty/));
    assert.throws(() => parseUnlockKey(undefined), refused(/the key is empty/));
    assert.throws(() => parseUnlockKey('SWMTKN-1-abc'), refused(new RegExp(`must start with ${UNLOCK_KEY_PREFIX}`)));
    assert.throws(() => parseUnlockKey('SWMKEY-1-not base64!'), refused(/not base64/));
    assert.throws(() => parseUnlockKey('SWMKEY-1-AAAA'), (e: unknown) => refused(/holds 3 bytes, not 32/)(e) && !(e as Error).message.includes('AAAA'));
  });
});

describe('autolock/cluster: the unlock key in the cluster object', () => {
  const dataKey = newDataKey();
  const cluster = (extra: Partial<AutolockCluster> = {}): AutolockCluster => ({ ID: 'c1', Spec: {}, ...extra });
  const on = { EncryptionConfig: { AutoLockManagers: true } };
  const off = { EncryptionConfig: { AutoLockManagers: false } };

  it('turning autolock on makes a key that only the data key opens', () => {
    const u = autolockUpdate(cluster(), on, false, dataKey);
    assert.equal(u.EncryptionConfig.AutoLockManagers, true);
    assert.ok(u.ManagerUnlockKey);
    assert.equal(u.ManagerUnlockKey.KeyID, dataKey.id);
    const k = unlockKeyOf(cluster({ Spec: on, ManagerUnlockKey: u.ManagerUnlockKey }), dataKey);
    assert.equal(k?.key.length, 32);
    assert.throws(() => unlockKeyOf(cluster({ Spec: on, ManagerUnlockKey: u.ManagerUnlockKey }), newDataKey()));
  });

  it('keeps the key across other updates, replaces it on rotation, drops it when turned off', () => {
    const sealed = sealUnlockKey('c1', newUnlockKey(), dataKey);
    const c = cluster({ Spec: on, ManagerUnlockKey: sealed });
    assert.equal(autolockUpdate(c, on, false, dataKey).ManagerUnlockKey, sealed);
    const rotated = autolockUpdate(c, on, true, dataKey).ManagerUnlockKey!;
    assert.notEqual(unlockKeyOf(cluster({ Spec: on, ManagerUnlockKey: rotated }), dataKey)!.id, unlockKeyOf(c, dataKey)!.id);
    const u = autolockUpdate(c, off, false, dataKey);
    assert.equal(u.ManagerUnlockKey, undefined);
    assert.equal(unlockKeyOf(cluster({ Spec: off, ManagerUnlockKey: sealed }), dataKey), undefined);
  });

  it('refuses to rotate while autolock is off, and to make a key without the data key', () => {
    assert.throws(() => autolockUpdate(cluster(), off, true, dataKey), refused(/autolock is not turned on/));
    assert.throws(() => autolockUpdate(cluster(), on, false, undefined), refused(/data key/));
  });

  it('a key sealed for one cluster does not open as another', () => {
    const sealed = sealUnlockKey('c1', newUnlockKey(), dataKey);
    assert.throws(() => unlockKeyOf({ ID: 'c2', Spec: on, ManagerUnlockKey: sealed }, dataKey));
  });
});
