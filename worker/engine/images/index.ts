// The image store's public surface. Other modules (containers, registry, build, API) use
// only what is exported here.
export { ImageStore, type Image, type ImageRecord, type OciManifest, type InUseCheck, type DeleteItem, type PullFn, type ProgressMessage } from './store';
export { type Descriptor, sha256, hexOf } from './blobs';
export { MT, isManifestType, isIndexType, isLayerType, sniffCompression, layerMediaType } from './mediatypes';
export {
  type ImageRef,
  parseReference,
  parseNormalized,
  parseNormalizedTagged,
  parseRepoTag,
  fullName,
  fullString,
  familiarName,
  familiarString,
  familiarize,
  validateDigest,
  looksLikeDomain,
  isFullId,
  isIdPrefix,
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  INVALID_FORMAT,
} from './reference';
export { type ImageConfigDoc, type HistoryEntry, applyChanges, childConfig, importConfig, decodeConfig, encodeConfig } from './config';
export { loadArchive, saveArchive, type LoadedImage } from './archive';
export { checkFilterKeys, referenceMatches } from './filters';
