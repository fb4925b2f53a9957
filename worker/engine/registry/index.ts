// The distribution (registry v2) client and pull/push on top of it.
export { type AuthConfig, type Challenge, decodeRegistryAuth, encodeRegistryAuth, parseWwwAuthenticate, basicHeader, repositoryScope } from './auth';
export { RegistryClient, type RegistryClientOptions, type FetchedManifest, type ManifestInfo } from './client';
export { DigestVerifier, DigestMismatchError, parseDigest, isDigest, sha256Digest, digestOf, verifyBuffer } from './digest';
export { resolveEndpoint, isLoopbackDomain, type RegistryEndpoint, type EndpointOptions, DEFAULT_DOMAIN, DOCKER_HUB_API_HOST } from './endpoint';
export { RegistryError } from './errors';
export { selectPlatform, parsePlatform, formatPlatform, DEFAULT_PLATFORM } from './platform';
export { type ProgressMessage, type ProgressDetail, humanSize, progressBar, shortDigest, errorMessageOf } from './progress';
export * as mediaTypes from './mediatypes';
export { Distribution, type DistributionOptions, type TransferOptions, type DistributionInspect, pushManifest, parseImageManifest } from './distribution';
