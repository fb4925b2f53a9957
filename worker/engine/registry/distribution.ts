// Pull and push between the image store and a registry, reported as dockerd's JSON
// progress messages. The store keeps blobs as they came (compressed or not), so a pushed
// image has the layer digests it was pulled with.
import type { Readable } from 'node:stream';
import { ShoalError, invalid, isShoalError, notFound } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import type { Image, ImageStore, PullFn } from '../images';
import { familiarName, familiarString, fullName, parseNormalized, parseNormalizedTagged, type ImageRef } from '../images';
import { type AuthConfig, decodeRegistryAuth } from './auth';
import { AsyncQueue } from '../../../shared/queue';
import { RegistryClient, type FetchedManifest } from './client';
import { DigestMismatchError } from './digest';
import { resolveEndpoint } from './endpoint';
import {
  DOCKER_CONFIG,
  DOCKER_FOREIGN_LAYER,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_MANIFEST,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
  isDockerLayer,
  isIndexType,
  isManifestType,
  layerCompression,
  layerMediaType,
} from './mediatypes';
import { DEFAULT_PLATFORM, selectPlatform } from './platform';
import { type ProgressMessage, Throttle, auxMessage, errorMessageOf, layerProgress, layerStatus, shortDigest, status } from './progress';

const log = logger('distribution');

export interface DistributionOptions {
  store: ImageStore;
  /** Registries (host[:port] or CIDR) reached over plain http besides loopback ones. */
  insecureRegistries?: string[];
  /** Per request, until response headers (default 30 s). */
  timeoutMs?: number;
  /** Longest stall while a blob streams (default 60 s). */
  idleTimeoutMs?: number;
  /** Layers transferred at once (default 3). */
  concurrency?: number;
  /** Upload layers larger than this in PATCH chunks (default: one PUT per blob). */
  chunkSize?: number;
}

export interface TransferOptions {
  /** Decoded credentials, or the raw X-Registry-Auth header. */
  auth?: AuthConfig | string;
  signal?: AbortSignal;
}

/** GET /distribution/{name}/json */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number; urls?: string[] };
  Platforms: Platform[];
}

interface PlatformManifest {
  /** The manifest the reference names (an index, or the image manifest itself). */
  top: FetchedManifest;
  /** The image manifest for our platform. */
  image: FetchedManifest;
  parsed: ImageManifest;
}

/** Limits how many transfers run at once. */
class Semaphore {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export class Distribution {
  private readonly store: ImageStore;

  constructor(private readonly opts: DistributionOptions) {
    this.store = opts.store;
  }

  /** The PullFn the image routes call for /images/create?fromImage=. */
  get pullFn(): PullFn {
    return (ref, o) => this.pull(ref, { auth: o.auth, signal: o.signal }) as AsyncIterable<Record<string, unknown>>;
  }

  private client(ref: ImageRef, actions: Array<'pull' | 'push'>, o: TransferOptions): RegistryClient {
    const auth = typeof o.auth === 'string' ? decodeRegistryAuth(o.auth) : o.auth;
    return new RegistryClient({
      endpoint: resolveEndpoint(ref.domain, { insecureRegistries: this.opts.insecureRegistries }),
      repository: ref.path,
      actions,
      auth,
      signal: o.signal,
      timeoutMs: this.opts.timeoutMs,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      chunkSize: this.opts.chunkSize,
    });
  }

  /**
   * Pull `ref` ("busybox", "127.0.0.1:5000/a/b:1", "x@sha256:..."). An error before the first
   * message is thrown (the route answers it with an HTTP status, as dockerd does); once
   * messages have gone out, it ends the stream as an errorDetail message.
   */
  pull(ref: string, o: TransferOptions = {}): AsyncIterable<ProgressMessage> {
    return reportErrors((signal) => this.pullSteps(ref, { ...o, signal }), o.signal);
  }

  /**
   * Push `name` (all its local tags when `tag` is empty, as docker does). Errors are
   * reported like pull's.
   */
  push(name: string, tag: string | undefined, o: TransferOptions = {}): AsyncIterable<ProgressMessage> {
    return reportErrors((signal) => this.pushSteps(name, tag, { ...o, signal }), o.signal);
  }

  /** The descriptor a reference resolves to in its registry, and the platforms it offers. */
  async inspect(name: string, o: TransferOptions = {}): Promise<DistributionInspect> {
    const ref = parseNormalizedTagged(name);
    const c = this.client(ref, ['pull'], o);
    const m = await c.getManifest(ref.digest ?? ref.tag!, `manifest for ${familiarString(ref)}`);
    const Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.raw.length };
    if (isIndexType(m.mediaType)) {
      const idx = JSON.parse(m.raw.toString()) as ImageIndex;
      const Platforms = (idx.manifests ?? []).filter((d) => d.platform).map((d) => d.platform!);
      return { Descriptor, Platforms };
    }
    const parsed = parseImageManifest(m, familiarString(ref));
    const config = JSON.parse((await c.getBlobBuffer(parsed.config.digest, parsed.config.size)).toString()) as Partial<Platform>;
    const p: Platform = { architecture: config.architecture ?? '', os: config.os ?? '' };
    if (config.variant) p.variant = config.variant;
    if (config['os.version']) p['os.version'] = config['os.version'];
    return { Descriptor, Platforms: [p] };
  }

  // ----------------------------------------------------------------------- pull

  private async resolvePlatformManifest(c: RegistryClient, ref: ImageRef, familiar: string, platform: Platform): Promise<PlatformManifest> {
    const what = `manifest for ${familiar}`;
    const top = await c.getManifest(ref.digest ?? ref.tag!, what);
    let image = top;
    if (isIndexType(top.mediaType)) {
      const idx = JSON.parse(top.raw.toString()) as ImageIndex;
      if (!Array.isArray(idx.manifests)) throw new ShoalError('FAILED_PRECONDITION', `${what}: invalid index: no manifests`);
      const d = selectPlatform(idx, platform);
      image = await c.getManifest(d.digest, what);
      if (isIndexType(image.mediaType)) throw new ShoalError('FAILED_PRECONDITION', `${what}: nested indexes are not supported`);
    }
    return { top, image, parsed: parseImageManifest(image, familiar) };
  }

  private async *pullSteps(refStr: string, o: TransferOptions & { signal: AbortSignal }): AsyncGenerator<ProgressMessage> {
    const ref = parseNormalizedTagged(refStr);
    const familiar = familiarString(ref);
    const c = this.client(ref, ['pull'], o);
    const { top, image, parsed } = await this.resolvePlatformManifest(c, ref, familiar, DEFAULT_PLATFORM);
    const tagKey = ref.tag !== undefined ? `${fullName(ref)}:${ref.tag}` : undefined;
    const repoDigest = `${fullName(ref)}@${top.digest}`;
    const imageId = parsed.config.digest;
    const before = this.lookup(tagKey ?? repoDigest);

    yield status(`Pulling from ${ref.path}`, ref.digest ?? ref.tag);

    const layers = parsed.layers.filter((l) => l.mediaType !== DOCKER_FOREIGN_LAYER);
    const added: string[] = [];
    const heldLayers: string[] = [];
    try {
      if (this.store.get(imageId)) {
        for (const l of layers) yield layerStatus('Already exists', shortDigest(l.digest));
      } else {
        yield* this.fetchImage(c, parsed, layers, added, heldLayers, o.signal);
      }
      const id = await this.store.registerImage({
        manifest: image.raw,
        mediaType: image.mediaType,
        tags: tagKey ? [tagKey] : [],
        repoDigests: [repoDigest],
        signal: o.signal,
      });
      if (id !== imageId) throw new ShoalError('INTERNAL', `image ID ${id} does not match the manifest's config ${imageId}`);
      this.store.events.publish('image', 'pull', familiar, { name: familiarName(ref) });
      log.info({ ref: familiar, id, digest: top.digest }, 'pulled');
    } finally {
      if (added.length) await this.store.releaseBlobs(added).catch((e) => log.warn({ err: e }, 'releasing blobs'));
      if (heldLayers.length) await this.store.releaseLayers(heldLayers).catch((e) => log.warn({ err: e }, 'releasing layers'));
    }
    yield status(`Digest: ${top.digest}`);
    yield status(before === imageId ? `Status: Image is up to date for ${familiar}` : `Status: Downloaded newer image for ${familiar}`);
  }

  /** The image ID a full reference points at now, if any. */
  private lookup(fullRef: string): string | undefined {
    try {
      return this.store.resolve(fullRef).id;
    } catch {
      return undefined;
    }
  }

  /**
   * Download the config and the missing layers (a few at a time) into the store, verified,
   * unpacking each in order as soon as it and those below it are in. Everything added is
   * listed in `added`/`heldLayers` for the caller to release.
   */
  private async *fetchImage(c: RegistryClient, m: ImageManifest, layers: Descriptor[], added: string[], heldLayers: string[], signal: AbortSignal): AsyncGenerator<ProgressMessage> {
    const ch = new AsyncQueue<ProgressMessage>();
    const ctl = new AbortController();
    const inner = AbortSignal.any([signal, ctl.signal]);
    const present = await Promise.all(layers.map((l) => this.store.hasBlob(l.digest)));
    for (const [i, l] of layers.entries()) yield layerStatus(present[i] ? 'Already exists' : 'Pulling fs layer', shortDigest(l.digest));

    const sem = new Semaphore(this.opts.concurrency ?? 3);
    let firstError: { e: unknown } | undefined;
    const work = (async () => {
      const configRaw = await c.getBlobBuffer(m.config.digest, m.config.size);
      added.push((await this.store.addBlobBytes(configRaw)).digest);
      const downloads = layers.map((l, i) => (present[i] ? Promise.resolve() : sem.run(() => this.downloadLayer(c, l, ch, added, inner))));
      // A failed download stops the others; its error (not their aborts) is the one reported.
      downloads.forEach((p) =>
        p.catch((e) => {
          firstError ??= { e };
          ctl.abort();
        }),
      );
      for (const [i, l] of layers.entries()) {
        await downloads[i];
        if (present[i]) continue;
        const id = shortDigest(l.digest);
        ch.push(layerProgress('Extracting', id, 0, l.size));
        const info = await this.store.ensureLayer(l.digest, inner);
        heldLayers.push(info.diffId);
        ch.push(layerProgress('Extracting', id, l.size, l.size));
        ch.push(layerStatus('Pull complete', id));
      }
    })();
    work.then(
      () => ch.end(),
      (e) => {
        ctl.abort();
        ch.end((firstError ?? { e }).e);
      },
    );
    try {
      yield* ch;
    } finally {
      ctl.abort(); // the consumer went away: stop transfers
      await work.catch(() => undefined);
    }
  }

  private async downloadLayer(c: RegistryClient, l: Descriptor, ch: AsyncQueue<ProgressMessage>, added: string[], signal: AbortSignal): Promise<void> {
    const id = shortDigest(l.digest);
    const throttle = new Throttle();
    const stream = await c.openBlob(l.digest, l.size, {
      onProgress: (n) => {
        if (throttle.ready(n === l.size)) ch.push(layerProgress('Downloading', id, n, l.size));
      },
      onVerify: () => ch.push(layerStatus('Verifying Checksum', id)),
    });
    try {
      const res = await this.store.addBlob(stream as AsyncIterable<Buffer> as Readable | AsyncIterable<Buffer>, { digest: l.digest, size: l.size }, signal);
      added.push(res.digest);
    } catch (e) {
      if (e instanceof DigestMismatchError || (isShoalError(e) && /digest mismatch|size mismatch/.test(e.message))) {
        throw new ShoalError('FAILED_PRECONDITION', `filesystem layer verification failed for digest ${l.digest}: ${e.message}`);
      }
      throw e;
    }
    ch.push(layerStatus('Download complete', id));
  }

  // ----------------------------------------------------------------------- push

  private async *pushSteps(name: string, tag: string | undefined, o: TransferOptions & { signal: AbortSignal }): AsyncGenerator<ProgressMessage> {
    const ref = parseNormalized(name);
    if (ref.digest) throw invalid(`cannot push a digest reference: ${name}`);
    if (tag && ref.tag && tag !== ref.tag) throw invalid(`invalid reference format: tag given both in name (${name}) and tag (${tag})`);
    const wanted = tag || ref.tag;
    const repo = fullName(ref);
    const tags = wanted ? [wanted] : this.localTags(repo);
    if (!tags.length) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    const images = tags.map((t) => {
      try {
        return { tag: t, image: this.store.resolve(`${repo}:${t}`) };
      } catch (e) {
        if (isShoalError(e, 'NOT_FOUND')) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}${wanted ? `:${t}` : ''}`);
        throw e;
      }
    });
    const c = this.client(ref, ['pull', 'push'], o);
    yield status(`The push refers to repository [${repo}]`);
    for (const { tag: t, image } of images) yield* this.pushOne(c, ref, t, image, o.signal);
  }

  private localTags(repo: string): string[] {
    const out = new Set<string>();
    for (const img of this.store.list()) {
      for (const r of this.store.refsOf(img.id)) if (!r.includes('@') && r.startsWith(`${repo}:`)) out.add(r.slice(repo.length + 1));
    }
    return [...out].sort();
  }

  private async *pushOne(c: RegistryClient, ref: ImageRef, tag: string, image: Image, signal: AbortSignal): AsyncGenerator<ProgressMessage> {
    const stored = await this.store.manifestOf(image.id);
    const { raw, mediaType, manifest } = pushManifest(stored.manifest, stored.parsed as ImageManifest, stored.descriptor.mediaType);
    const diffIds = new Map(image.record.layers.map((l) => [l.digest, l.diffId]));
    const layers = manifest.layers.filter((l) => l.mediaType !== DOCKER_FOREIGN_LAYER);
    // docker names pushed layers by their diffID; layers shared by digest are pushed once.
    const unique = [...new Map(layers.map((l) => [l.digest, l])).values()];
    const idOf = (l: Descriptor) => shortDigest(diffIds.get(l.digest) ?? l.digest);
    for (const l of unique) yield layerStatus('Preparing', idOf(l));

    const ch = new AsyncQueue<ProgressMessage>();
    const ctl = new AbortController();
    const inner = AbortSignal.any([signal, ctl.signal]);
    const sem = new Semaphore(this.opts.concurrency ?? 3);
    let firstError: { e: unknown } | undefined;
    const work = (async () => {
      const all = unique.map((l) =>
        sem.run(async () => {
          inner.throwIfAborted();
          const id = idOf(l);
          if (await c.blobExists(l.digest)) {
            ch.push(layerStatus('Layer already exists', id));
            return;
          }
          const throttle = new Throttle();
          await c.uploadBlob(l.digest, l.size, () => this.store.openBlob(l.digest) as AsyncIterable<Uint8Array>, (n) => {
            if (throttle.ready(n === l.size)) ch.push(layerProgress('Pushing', id, n, l.size));
          });
          ch.push(layerStatus('Pushed', id));
        }),
      );
      all.forEach((p) =>
        p.catch((e) => {
          firstError ??= { e };
          ctl.abort();
        }),
      );
      await Promise.all(all);
      if (!(await c.blobExists(manifest.config.digest))) {
        const config = await this.store.readBlob(manifest.config.digest);
        await c.uploadBlob(manifest.config.digest, config.length, async function* () {
          yield config;
        });
      }
    })();
    work.then(
      () => ch.end(),
      (e) => {
        ctl.abort();
        ch.end((firstError ?? { e }).e);
      },
    );
    try {
      yield* ch;
    } finally {
      ctl.abort();
      await work.catch(() => undefined);
    }
    const digest = await c.putManifest(tag, mediaType, raw);
    await this.store.addRepoDigest(image.id, `${fullName(ref)}@${digest}`);
    this.store.events.publish('image', 'push', `${familiarName(ref)}:${tag}`, { name: familiarName(ref) });
    log.info({ ref: `${fullName(ref)}:${tag}`, digest }, 'pushed');
    yield status(`${tag}: digest: ${digest} size: ${raw.length}`);
    yield auxMessage({ Tag: tag, Digest: digest, Size: raw.length });
  }
}

/** Check a fetched manifest is a schema-2 image manifest; return it parsed. */
export function parseImageManifest(m: FetchedManifest, familiar: string): ImageManifest {
  const what = `manifest for ${familiar}`;
  if (!isManifestType(m.mediaType)) throw new ShoalError('FAILED_PRECONDITION', `${what}: unsupported manifest media type '${m.mediaType || 'none'}'`);
  const parsed = JSON.parse(m.raw.toString()) as ImageManifest;
  if (parsed.schemaVersion !== 2 || !parsed.config?.digest || !Array.isArray(parsed.layers)) throw new ShoalError('FAILED_PRECONDITION', `${what}: not a schema 2 image manifest`);
  for (const d of [parsed.config, ...parsed.layers]) {
    if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest) || typeof d.size !== 'number' || d.size < 0) {
      throw new ShoalError('FAILED_PRECONDITION', `${what}: invalid descriptor ${JSON.stringify(d.digest)}`);
    }
  }
  return parsed;
}

/**
 * The manifest to push for a stored image: Docker schema2 when every layer has a Docker media
 * type, OCI otherwise. The stored bytes go out unchanged when they already are that (so a
 * pulled image keeps its digest); otherwise the manifest is rewritten with matching media types.
 */
export function pushManifest(storedRaw: Buffer, stored: ImageManifest, storedMediaType?: string): { raw: Buffer; mediaType: string; manifest: ImageManifest } {
  const docker = stored.layers.length > 0 && stored.layers.every((l) => isDockerLayer(l.mediaType));
  const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const configType = docker ? DOCKER_CONFIG : OCI_CONFIG;
  const current = stored.mediaType ?? storedMediaType;
  const layersOk = stored.layers.every((l) => isDockerLayer(l.mediaType) === docker);
  if (current === mediaType && stored.config.mediaType === configType && layersOk) return { raw: storedRaw, mediaType, manifest: stored };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configType, digest: stored.config.digest, size: stored.config.size },
    layers: stored.layers.map((l) => ({ ...l, mediaType: l.mediaType === DOCKER_FOREIGN_LAYER ? l.mediaType : layerMediaType(docker ? 'docker' : 'oci', layerCompression(l.mediaType)) })),
    ...(stored.annotations ? { annotations: stored.annotations } : {}),
  };
  const raw = Buffer.from(JSON.stringify(manifest));
  return { raw, mediaType, manifest };
}

/**
 * Run a progress generator: errors before its first message are thrown to the caller, later
 * ones become the final errorDetail message. The generator gets a signal that also fires when
 * the consumer stops reading.
 */
async function* reportErrors(gen: (signal: AbortSignal) => AsyncGenerator<ProgressMessage>, outer?: AbortSignal): AsyncGenerator<ProgressMessage> {
  const ctl = new AbortController();
  const signal = outer ? AbortSignal.any([outer, ctl.signal]) : ctl.signal;
  let started = false;
  try {
    for await (const m of gen(signal)) {
      started = true;
      yield m;
    }
  } catch (e) {
    // However deep the abort surfaced (fetch, a stream pipeline), say it as dockerd does.
    const err = outer?.aborted ? new ShoalError('CANCELLED', 'context canceled', { cause: e }) : e;
    if (!started) throw err;
    log.warn({ err: (err as Error).message }, 'transfer failed');
    yield errorMessageOf(err);
  } finally {
    ctl.abort();
  }
}
