export { KINDS, versionOf, type Kind, type StoredObject, type ObjectVersion, type NewObject, type StoreEvent, type StoreWatch, type BatchOp, type BatchOptions, type BatchResult, type ListResult, type ClusterStore } from './types';
export { EtcdStore, type EtcdStoreOptions, type StoreGate } from './etcd-store';
export { MemoryStore } from './memory-store';
export { ROOT, NAMED_KINDS, objectKey, kindPrefix, nameKey, parseKey, noun, isKind } from './keys';
