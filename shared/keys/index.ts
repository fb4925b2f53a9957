// Keys at rest on a node: sealed with the swarm's unlock key (autolock) or in the clear.
export { UNLOCK_KEY_PREFIX, newUnlockKey, formatUnlockKey, parseUnlockKey } from './unlock-key';
export { setKek, kekFor } from './kek';
export { SWARM_LOCKED, swarmLocked, WrongKeyError } from './errors';
export { SEALED_SUFFIX, writeKeyFile, readKeyFile, sealedKeyId, opensWith, removeKeyFile } from './files';
export { LIVE_ROOT, liveDir, ensureLiveDir, removeLiveDir } from './live';
