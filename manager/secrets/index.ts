// Secrets and configs on the manager: validation, the cluster data key and how secret data is
// sealed at rest and opened for the nodes that need it.
export { DATA_KEY_BYTES, SEAL_ALGORITHM, dataKeyOf, newDataKey, seal, open, type DataKey, type SealedData } from '../../shared/crypto/seal';
export { DATA_KEY_FILE, dataKeyPath, saveDataKey, loadDataKey, createDataKey, requireDataKey } from './keyfile';
export { MAX_SECRET_BYTES, MAX_CONFIG_BYTES, validatePayloadSpec, checkPayloadName, decodeBase64, maxBytes, type PayloadSpec, type PayloadNoun, type Driver } from './spec';
export { newSecret, newConfig, payloadJson, secretData, openSecret, sameData, secretContext, type StoredPayload, type PayloadObjectSpec } from './objects';
export { secretForNode } from './dispatch';
