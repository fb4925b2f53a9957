// Media types of the distribution API (OCI image spec and Docker's schema2).

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** What a manifest GET/HEAD accepts: both single-image manifests and both kinds of index. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

export const isIndexType = (t: string | undefined): boolean => t === OCI_INDEX || t === DOCKER_MANIFEST_LIST;
export const isManifestType = (t: string | undefined): boolean => t === OCI_MANIFEST || t === DOCKER_MANIFEST;
export const isDockerLayer = (t: string): boolean => t.startsWith('application/vnd.docker.image.rootfs.');

/** The compression a layer media type announces (what the store must undo to unpack it). */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('gzip')) return 'gzip';
  return 'none';
}

/** The layer media type for a blob of the given compression, in the Docker or OCI family. */
export function layerMediaType(family: 'docker' | 'oci', compression: 'none' | 'gzip' | 'zstd'): string {
  if (family === 'docker') {
    if (compression === 'zstd') throw new Error('zstd layers have no Docker schema2 media type');
    return compression === 'gzip' ? DOCKER_LAYER_GZIP : DOCKER_LAYER;
  }
  return compression === 'gzip' ? OCI_LAYER_GZIP : compression === 'zstd' ? OCI_LAYER_ZSTD : OCI_LAYER;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** An image manifest (OCI v1 or Docker schema2: same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}
