// Where secret data leaves the manager: the dispatcher opens a secret just before it goes to a
// node, in the assignment stream of that node's mTLS session, and only for nodes whose tasks
// use it (manager/dispatcher/assignments.ts decides which).
import { errorMessage } from '../../shared/errors';
import { logger } from '../../shared/log';
import type { StoredObject } from '../store';
import type { DataKey } from '../../shared/crypto/seal';
import { openSecret, type StoredPayload } from './objects';

const log = logger('secrets');

/**
 * The secret as a node receives it, or undefined when it cannot be opened here (no key, wrong
 * key, altered data): the node then never gets it, and its task is rejected for the missing
 * secret. A secret stored without a seal (none is) is passed on as it is.
 */
export function secretForNode(o: StoredObject, k: DataKey | undefined): StoredObject | undefined {
  const s = o as StoredPayload;
  if (!s.Sealed) return o;
  if (!k) {
    log.error({ secret: o.ID }, 'cannot send a secret: this manager does not hold the cluster data key');
    return undefined;
  }
  try {
    return openSecret(s, k);
  } catch (e) {
    log.error({ secret: o.ID, err: errorMessage(e) }, 'cannot send a secret: its sealed data does not open');
    return undefined;
  }
}
