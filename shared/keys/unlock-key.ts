// The swarm's unlock key as users see it: "SWMKEY-1-" and the key's 32 bytes in unpadded
// base64, the form docker prints and `swarm unlock` takes. The bytes are the key-encryption
// key (KEK) that seals each manager's key files while autolock is on.
import { DATA_KEY_BYTES, dataKeyOf, newDataKey, type DataKey } from '../crypto/seal';
import { invalid } from '../errors';

export const UNLOCK_KEY_PREFIX = 'SWMKEY-1-';

/** A new random key-encryption key. */
export function newUnlockKey(): DataKey {
  return newDataKey();
}

export function formatUnlockKey(k: DataKey): string {
  return UNLOCK_KEY_PREFIX + k.key.toString('base64').replace(/=+$/, '');
}

/** The key a user typed, or INVALID_ARGUMENT saying what is wrong with it (never echoing it). */
export function parseUnlockKey(text: unknown): DataKey {
  if (typeof text !== 'string' || text.trim() === '') throw invalid('invalid unlock key: the key is empty');
  const t = text.trim();
  if (!t.startsWith(UNLOCK_KEY_PREFIX)) throw invalid(`invalid unlock key: it must start with ${UNLOCK_KEY_PREFIX}`);
  const body = t.slice(UNLOCK_KEY_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+$/.test(body)) throw invalid('invalid unlock key: it is not base64 after the prefix');
  const raw = Buffer.from(body, 'base64');
  if (raw.length !== DATA_KEY_BYTES) throw invalid(`invalid unlock key: it holds ${raw.length} bytes, not ${DATA_KEY_BYTES}`);
  return dataKeyOf(raw);
}
