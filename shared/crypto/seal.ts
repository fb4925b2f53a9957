// Bytes sealed at rest: AES-256-GCM under a 32-byte key (the cluster's data key for secrets in
// the store; a manager's key-encryption key for its key files under autolock). The context
// (what the bytes belong to, e.g. an object ID) is authenticated with the data (GCM additional
// data), so sealed bytes copied onto something else do not open.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { internal, invalid } from '../errors';

export const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SEAL_ALGORITHM = 'AES-256-GCM';

/** The cluster's data key and a short public fingerprint of it (which key sealed what). */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** Sealed bytes as the store keeps them (base64 fields; the GCM tag ends Ciphertext). */
export interface SealedData {
  Algorithm: typeof SEAL_ALGORITHM;
  KeyID: string;
  Nonce: string;
  Ciphertext: string;
}

export function dataKeyOf(raw: Buffer): DataKey {
  if (raw.length !== DATA_KEY_BYTES) throw invalid(`a cluster data key is ${DATA_KEY_BYTES} bytes, not ${raw.length}`);
  return { id: createHash('sha256').update(raw).digest('hex').slice(0, 16), key: Buffer.from(raw) };
}

export function newDataKey(): DataKey {
  return dataKeyOf(randomBytes(DATA_KEY_BYTES));
}

/** `context` names what the bytes belong to (e.g. "secret/<id>"); open() must be given the same. */
export function seal(k: DataKey, context: string, plaintext: Buffer): SealedData {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', k.key, nonce);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { Algorithm: SEAL_ALGORITHM, KeyID: k.id, Nonce: nonce.toString('base64'), Ciphertext: body.toString('base64') };
}

/** The plaintext; INTERNAL when the key is not the one that sealed it or the bytes were changed. */
export function open(k: DataKey, context: string, s: SealedData): Buffer {
  if (s?.Algorithm !== SEAL_ALGORITHM) throw internal(`${context}: sealed with an unknown algorithm ${JSON.stringify(s?.Algorithm)}`);
  if (s.KeyID !== k.id) throw internal(`${context}: sealed with data key ${s.KeyID}, but this manager has key ${k.id}`);
  const nonce = Buffer.from(s.Nonce, 'base64');
  const body = Buffer.from(s.Ciphertext, 'base64');
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw internal(`${context}: sealed data is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', k.key, nonce);
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  } catch (e) {
    throw internal(`${context}: sealed data failed authentication (altered, or not sealed for this object)`, e);
  }
}
