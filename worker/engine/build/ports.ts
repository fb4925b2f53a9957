// What the builder needs from the image store and the container manager, and nothing more.
// adapters.ts implements these over the real ImageStore and ContainerManager.

import type { ImageRuntimeConfig } from '../contracts';

/** An image as the builder sees it. */
export interface BuildImage {
  id: string; // "sha256:..."
  config: ImageRuntimeConfig;
  /** Unpacked layer directories, lowest first. */
  layerDirs: string[];
}

export interface CommitRequest {
  /** A directory holding only the step's changes (an overlay upper dir). */
  upperDir: string;
  parentImageId?: string; // undefined on scratch
  config: ImageRuntimeConfig;
  createdBy: string;
  author?: string;
  emptyLayer?: boolean;
}

export interface BuildImageStore {
  /** Resolve a local image by name, tag or ID. NOT_FOUND "No such image: REF". */
  resolve(ref: string): Promise<BuildImage>;
  /** Does this image still exist (a cache entry may outlive it)? */
  exists(id: string): Promise<boolean>;
  /** Make a new image from a parent and a directory of changes. Returns its ID. */
  commit(req: CommitRequest): Promise<string>;
  /** Validate a tag and give it in familiar form ("x" -> "x:latest"); INVALID_ARGUMENT if bad. */
  normalizeTag(ref: string): string;
  /** Point `ref` (already normalized) at the image. */
  tag(imageId: string, ref: string): Promise<void>;
  /**
   * Remove an image that only the build cache holds: untagged, no child images, no containers.
   * Returns the bytes reclaimed, or undefined when the image was kept.
   */
  removeUnused(imageId: string): Promise<number | undefined>;
}

/** Container settings of one RUN step. */
export interface StepContainerSpec {
  image: string;
  /** The full command (shell + line, or the JSON form); the image's ENTRYPOINT is not used. */
  cmd: string[];
  env: string[];
  workingDir?: string;
  user?: string;
  networkMode: string;
  /** HostConfig fields passed through from the build request (Memory, CpuShares, ...). */
  hostConfig: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface BuildContainers {
  /** Create (not start) a container. Returns its full ID. */
  create(spec: StepContainerSpec): Promise<string>;
  /**
   * Attach to the container's output before it starts: the iterable yields everything from
   * its start until it exits, and ends early when `signal` aborts.
   */
  attach(id: string, signal: AbortSignal): Promise<AsyncIterable<OutputChunk>>;
  start(id: string): Promise<void>;
  /** Wait for the container to exit; its exit code. */
  wait(id: string, signal: AbortSignal): Promise<number>;
  /** Stop it now (on cancel). */
  kill(id: string): Promise<void>;
  /** The overlay upper dir holding the container's changes (valid until remove). */
  upperDir(id: string): Promise<string>;
  /** Remove the container (forcefully) and its filesystem. */
  remove(id: string): Promise<void>;
}
