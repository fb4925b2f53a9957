// The image store: blobs (configs, manifests, layer tars) in OCI layout, unpacked layer
// dirs for overlayfs, image records and a reference index. Every change is written to a
// temp file or dir and renamed into place, and metadata changes plus garbage collection
// run under one mutex, so a crash or a concurrent request never exposes half an image.
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EventBus } from '../../../shared/events';
import { conflict, invalid, notFound, errorMessage, isShoalError } from '../../../shared/errors';
import { readJson, writeJsonAtomic, writeFileAtomic } from '../../../shared/fsutil';
import { logger, type Logger } from '../../../shared/log';
import { shortId } from '../../../shared/ids';
import type { ImageResolver, LayerCommitter, ResolvedImage } from '../contracts';
import { BlobStore, sha256, hexOf, type Descriptor } from './blobs';
import { decodeConfig, encodeConfig, childConfig, importConfig, applyChanges, historyWithLayers, type ImageConfigDoc } from './config';
import { fileCompression, packUpperDir, unpackLayer } from './layers';
import { MT, isManifestType, isIndexType, layerMediaType } from './mediatypes';
import { Mutex } from '../../../shared/mutex';
import { parseNormalized, parseRepoTag, fullName, fullString, familiarize, isFullId, isIdPrefix } from './reference';
import { checkFilterKeys, danglingFilter, listFilter, pruneFilter } from './filters';

/** What the store keeps per image besides its blobs. */
export interface ImageRecord {
  id: string; // "sha256:<config digest hex>"
  manifest: Descriptor;
  /** One per rootfs.diff_ids entry: the blob it came from. */
  layers: Array<Descriptor & { diffId: string }>;
  /** Local parent (docker commit / build), not part of the image itself. */
  parent?: string;
  added: string; // ISO time the image entered this store
  lastTagTime?: string;
}

interface RefIndex {
  /** "docker.io/library/busybox:latest" -> image id */
  tags: Record<string, string>;
  /** "docker.io/library/busybox@sha256:..." -> image id */
  digests: Record<string, string>;
}

interface LayerInfo {
  diffId: string;
  size: number;
}

export interface Image {
  id: string;
  record: ImageRecord;
  config: ImageConfigDoc;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The containers module says which containers use an image (their IDs); those images are kept. */
export type InUseCheck = (imageId: string) => Promise<string[]>;

/** Docker's image delete reply item. */
export type DeleteItem = { Untagged: string } | { Deleted: string };

/** A docker progress message (JSON lines of pull/import/load). */
export type ProgressMessage = Record<string, unknown>;

/** Pulling is implemented by the registry module; the API hands /images/create?fromImage to it. */
export type PullFn = (ref: string, opts: { auth?: string /* X-Registry-Auth header */; signal: AbortSignal }) => AsyncIterable<Record<string, unknown>>;

const ZERO_TIME = '0001-01-01T00:00:00Z';

export class ImageStore implements ImageResolver, LayerCommitter {
  readonly blobs: BlobStore;
  private readonly log: Logger;
  private readonly lock = new Mutex();
  private readonly images = new Map<string, Image>();
  private refs: RefIndex = { tags: {}, digests: {} };
  private readonly layerInfo = new Map<string, LayerInfo>();
  private readonly blobToDiff = new Map<string, string>();
  private readonly pendingBlobs = new Map<string, number>();
  private readonly pendingLayers = new Map<string, number>();
  private readonly unpacking = new Map<string, Promise<LayerInfo>>();
  private inUse: InUseCheck = async () => [];

  private constructor(
    readonly root: string,
    readonly events: EventBus,
  ) {
    this.blobs = new BlobStore(root, this.tmpDir);
    this.log = logger('images');
  }

  get tmpDir(): string {
    return join(this.root, 'tmp');
  }
  private get layersDir(): string {
    return join(this.root, 'layers');
  }
  private get imagedbDir(): string {
    return join(this.root, 'imagedb');
  }
  private get refsFile(): string {
    return join(this.root, 'refs.json');
  }

  /** Open (creating if needed) the store at `root`; leftovers of a crash are removed. */
  static async open(opts: { root: string; events: EventBus }): Promise<ImageStore> {
    const s = new ImageStore(opts.root, opts.events);
    await fs.mkdir(opts.root, { recursive: true, mode: 0o700 });
    await fs.rm(s.tmpDir, { recursive: true, force: true });
    await s.blobs.init();
    await fs.mkdir(s.layersDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(s.imagedbDir, { recursive: true });
    await writeFileAtomic(join(opts.root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await s.loadState();
    await s.lock.run(() => s.gc());
    return s;
  }

  private async loadState(): Promise<void> {
    for (const name of await fs.readdir(this.layersDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const info = await readJson<LayerInfo>(join(this.layersDir, name, 'layer.json')).catch(() => undefined);
      if (info) this.layerInfo.set(info.diffId, info);
    }
    for (const name of await fs.readdir(this.imagedbDir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      try {
        const record = (await readJson<ImageRecord>(join(this.imagedbDir, name)))!;
        const config = decodeConfig(await this.blobs.read(record.id));
        // An image whose layers are gone (a crash mid-delete) is not usable: drop the record.
        if (!config.rootfs.diff_ids.every((d) => this.layerInfo.has(d))) throw new Error('missing layers');
        this.images.set(record.id, { id: record.id, record, config });
        for (const l of record.layers) this.blobToDiff.set(l.digest, l.diffId);
      } catch (e) {
        this.log.warn({ file: name, err: errorMessage(e) }, 'dropping unreadable image record');
        await fs.rm(join(this.imagedbDir, name), { force: true });
      }
    }
    const refs = await readJson<RefIndex>(this.refsFile).catch(() => undefined);
    if (refs) {
      for (const [k, v] of Object.entries(refs.tags ?? {})) if (this.images.has(v)) this.refs.tags[k] = v;
      for (const [k, v] of Object.entries(refs.digests ?? {})) if (this.images.has(v)) this.refs.digests[k] = v;
    }
  }

  /** The containers module tells the store which containers use an image. */
  setInUseCheck(fn: InUseCheck): void {
    this.inUse = fn;
  }

  // ------------------------------------------------------------------ lookup

  /** Image IDs, newest first. */
  list(): Image[] {
    return [...this.images.values()].sort((a, b) => createdMs(b) - createdMs(a));
  }

  get(id: string): Image | undefined {
    return this.images.get(id);
  }

  /**
   * Resolve name, name:tag, name@digest, full ID (with or without "sha256:") or a unique ID
   * prefix. NOT_FOUND "No such image: REF"; an invalid name is INVALID_ARGUMENT.
   */
  resolve(ref: string): Image {
    const id = this.resolveId(ref);
    return this.images.get(id)!;
  }

  private resolveId(ref: string): string {
    if (isFullId(ref)) {
      const id = `sha256:${ref.replace(/^sha256:/, '')}`;
      if (this.images.has(id)) return id;
      throw notFound(`No such image: ${ref}`);
    }
    let parseErr: unknown;
    if (!ref.startsWith('sha256:')) {
      try {
        const r = parseNormalized(ref);
        if (r.digest) {
          const id = this.refs.digests[`${fullName(r)}@${r.digest}`];
          if (id) return id;
          // name@digest also finds an image whose manifest (or ID) has that digest under the same name
          for (const img of this.images.values()) {
            if (img.record.manifest.digest === r.digest && this.refsOf(img.id).some((x) => x.startsWith(fullName(r) + ':') || x.startsWith(fullName(r) + '@'))) return img.id;
          }
        } else {
          const id = this.refs.tags[`${fullName(r)}:${r.tag ?? 'latest'}`];
          if (id) return id;
        }
      } catch (e) {
        parseErr = e;
      }
    }
    if (isIdPrefix(ref)) {
      const h = ref.replace(/^sha256:/, '');
      const hits = [...this.images.keys()].filter((id) => id.slice(7).startsWith(h));
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) throw invalid(`ambiguous image ID prefix '${ref}': matches ${hits.length} images`);
    }
    if (parseErr && isShoalError(parseErr, 'INVALID_ARGUMENT')) throw parseErr;
    throw notFound(`No such image: ${ref}`);
  }

  /** Full references pointing at an image (tags first, then digests). */
  refsOf(id: string): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(this.refs.tags)) if (v === id) out.push(k);
    for (const [k, v] of Object.entries(this.refs.digests)) if (v === id) out.push(k);
    return out;
  }

  repoTags(id: string): string[] {
    return Object.entries(this.refs.tags).filter(([, v]) => v === id).map(([k]) => familiarize(k)).sort();
  }

  repoDigests(id: string): string[] {
    return Object.entries(this.refs.digests).filter(([, v]) => v === id).map(([k]) => familiarize(k)).sort();
  }

  /** Unpacked layer dirs of an image, lowest first (overlay lowerdir wants them reversed). */
  layerDirs(image: Image | string): string[] {
    const img = typeof image === 'string' ? this.resolve(image) : image;
    return img.config.rootfs.diff_ids.map((d) => this.layerDir(d));
  }

  layerDir(diffId: string): string {
    return join(this.layersDir, hexOf(diffId), 'diff');
  }

  async resolveForRun(ref: string): Promise<ResolvedImage> {
    const img = this.resolve(ref);
    return { id: img.id, config: img.config.config ?? {}, layerDirs: this.layerDirs(img) };
  }

  /** Sum of the image's unpacked layer contents. */
  size(img: Image): number {
    return img.config.rootfs.diff_ids.reduce((s, d) => s + (this.layerInfo.get(d)?.size ?? 0), 0);
  }

  children(id: string): string[] {
    return [...this.images.values()].filter((i) => i.record.parent === id).map((i) => i.id);
  }

  // --------------------------------------------------- blobs (registry module)

  /** (a) Does the store hold this blob? */
  hasBlob(digest: string): Promise<boolean> {
    return this.blobs.has(digest);
  }

  /** Size of a stored blob, or undefined. */
  blobSize(digest: string): Promise<number | undefined> {
    return this.blobs.size(digest);
  }

  /**
   * (b) Add a blob from a stream, verified against `expect.digest` (and size when given):
   * a mismatch is INVALID_ARGUMENT and nothing is kept. The blob is protected from garbage
   * collection until `releaseBlobs` (call it once registerImage is done, or on failure).
   */
  async addBlob(src: Readable | AsyncIterable<Buffer>, expect: { digest?: string; size?: number } = {}, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    const res = await this.blobs.putStream(src, expect, signal, (d) => this.hold(d));
    return { digest: res.digest, size: res.size };
  }

  /** Add a small blob (manifest, config) from memory; protected like addBlob. */
  async addBlobBytes(data: Buffer): Promise<Descriptor> {
    const res = await this.blobs.putBytes(data, (d) => this.hold(d));
    return { mediaType: '', digest: res.digest, size: res.size };
  }

  /** Drop the protection of blobs added with addBlob; those no image references are deleted. */
  async releaseBlobs(digests: Iterable<string>): Promise<void> {
    for (const d of digests) this.unhold(this.pendingBlobs, d);
    await this.lock.run(() => this.gc());
  }

  /** (d) A blob's bytes (configs, manifests). */
  readBlob(digest: string): Promise<Buffer> {
    return this.blobs.read(digest);
  }

  /** (d) A blob as a stream (layers). */
  openBlob(digest: string): Readable {
    return this.blobs.open(digest);
  }

  /**
   * (d) What a push needs: the manifest bytes and descriptor, the config descriptor and
   * the layer descriptors (media type, digest, size), all present in the blob store.
   */
  async manifestOf(ref: string): Promise<{ id: string; manifest: Buffer; descriptor: Descriptor; parsed: OciManifest; config: Descriptor; layers: Descriptor[] }> {
    const img = this.resolve(ref);
    const manifest = await this.blobs.read(img.record.manifest.digest);
    const parsed = JSON.parse(manifest.toString()) as OciManifest;
    return { id: img.id, manifest, descriptor: img.record.manifest, parsed, config: parsed.config, layers: parsed.layers };
  }

  private hold(digest: string, map = this.pendingBlobs): void {
    map.set(digest, (map.get(digest) ?? 0) + 1);
  }

  private unhold(map: Map<string, number>, key: string): void {
    const n = (map.get(key) ?? 0) - 1;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  }

  // ------------------------------------------------------------------ layers

  /**
   * Make sure the layer in blob `digest` is unpacked; returns its diffID and size. The layer
   * is held from garbage collection until the caller's registerImage (or releaseLayers).
   */
  async ensureLayer(digest: string, signal?: AbortSignal): Promise<LayerInfo> {
    for (;;) {
      const known = this.blobToDiff.get(digest);
      if (known && this.layerInfo.has(known)) {
        this.hold(known, this.pendingLayers);
        return this.layerInfo.get(known)!;
      }
      let p = this.unpacking.get(digest);
      if (!p) {
        p = this.unpackBlob(digest, signal).finally(() => this.unpacking.delete(digest));
        this.unpacking.set(digest, p);
      }
      const info = await p;
      this.hold(info.diffId, this.pendingLayers);
      if (this.layerInfo.has(info.diffId)) return info;
      // Collected between unpacking and our hold: unpack again.
      this.unhold(this.pendingLayers, info.diffId);
    }
  }

  private async unpackBlob(digest: string, signal?: AbortSignal): Promise<LayerInfo> {
    if (!(await this.blobs.has(digest))) throw invalid(`layer blob ${digest} is missing`);
    const tmp = join(this.tmpDir, `layer-${randomBytes(8).toString('hex')}`);
    await fs.mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    try {
      const res = await unpackLayer(this.blobs.path(digest), join(tmp, 'diff'), signal);
      const info: LayerInfo = { diffId: res.diffId, size: res.size };
      await writeJsonAtomic(join(tmp, 'layer.json'), info);
      await this.lock.run(async () => {
        this.blobToDiff.set(digest, info.diffId);
        if (this.layerInfo.has(info.diffId)) return;
        await fs.rename(tmp, join(this.layersDir, hexOf(info.diffId)));
        this.layerInfo.set(info.diffId, info);
      });
      return this.layerInfo.get(info.diffId)!;
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /** Give up layers held by ensureLayer; unreferenced ones are deleted. */
  async releaseLayers(diffIds: Iterable<string>): Promise<void> {
    for (const d of diffIds) this.unhold(this.pendingLayers, d);
    await this.lock.run(() => this.gc());
  }

  // ------------------------------------------------------------------ images

  /**
   * (c) Register an image from a manifest whose config and layer blobs are already stored
   * (addBlob): checks the config, unpacks missing layers and checks their diffIDs, writes
   * the record, then points `tags` ("name:tag") and `repoDigests` ("name@sha256:...") at
   * it. Returns the image ID. On failure nothing new stays referenced. The caller then
   * calls releaseBlobs for the blobs it added (success or not).
   */
  async registerImage(opts: { manifest: Buffer; mediaType?: string; tags?: string[]; repoDigests?: string[]; parent?: string; signal?: AbortSignal }): Promise<string> {
    let m: OciManifest;
    try {
      m = JSON.parse(opts.manifest.toString()) as OciManifest;
    } catch (e) {
      throw invalid(`invalid manifest: ${errorMessage(e)}`);
    }
    const mediaType = opts.mediaType || m.mediaType || MT.ociManifest;
    if (isIndexType(mediaType)) throw invalid('invalid manifest: got an index; register one of its platform manifests');
    if (!isManifestType(mediaType) || m.schemaVersion !== 2 || !m.config?.digest || !Array.isArray(m.layers)) throw invalid('invalid manifest: not an image manifest (schema 2)');
    const tags = (opts.tags ?? []).map((t) => fullString(parseRepoTag(t)));
    const digests = (opts.repoDigests ?? []).map((d) => {
      const r = parseNormalized(d);
      if (!r.digest) throw invalid(`invalid repo digest '${d}': expected name@sha256:...`);
      return `${fullName(r)}@${r.digest}`;
    });
    const manifestDesc = await this.addBlobBytes(opts.manifest);
    const held = new Set<string>([manifestDesc.digest]);
    const heldLayers: string[] = [];
    try {
      const configRaw = await this.blobs.read(m.config.digest).catch(() => {
        throw invalid(`config blob ${m.config.digest} is missing`);
      });
      const config = decodeConfig(configRaw);
      const id = sha256(configRaw);
      const layers = m.layers.filter((l) => l.mediaType !== MT.dockerForeignLayerGzip);
      if (layers.length !== config.rootfs.diff_ids.length) throw invalid(`invalid image: manifest has ${layers.length} layers but the config lists ${config.rootfs.diff_ids.length}`);
      const recLayers: ImageRecord['layers'] = [];
      for (const [i, l] of layers.entries()) {
        const info = await this.ensureLayer(l.digest, opts.signal);
        heldLayers.push(info.diffId);
        if (info.diffId !== config.rootfs.diff_ids[i]) throw invalid(`invalid image: layer ${i} (${l.digest}) has diffID ${info.diffId}, the config expects ${config.rootfs.diff_ids[i]}`);
        recLayers.push({ mediaType: l.mediaType, digest: l.digest, size: l.size, diffId: info.diffId });
      }
      if (opts.parent && !this.images.has(opts.parent)) throw invalid(`parent image ${opts.parent} not found`);
      await this.lock.run(async () => {
        const existing = this.images.get(id);
        const record: ImageRecord = existing
          ? { ...existing.record, parent: existing.record.parent ?? opts.parent }
          : { id, manifest: { mediaType, digest: manifestDesc.digest, size: manifestDesc.size }, layers: recLayers, parent: opts.parent, added: new Date().toISOString() };
        if (!existing || JSON.stringify(existing.record) !== JSON.stringify(record)) await writeJsonAtomic(this.recordPath(id), record);
        this.images.set(id, { id, record, config });
        for (const l of recLayers) this.blobToDiff.set(l.digest, l.diffId);
        if (tags.length || digests.length) {
          for (const t of tags) this.refs.tags[t] = id;
          for (const d of digests) this.refs.digests[d] = id;
          if (tags.length) record.lastTagTime = new Date().toISOString();
          await this.saveRefs();
          if (tags.length) await writeJsonAtomic(this.recordPath(id), record);
        }
      });
      return id;
    } finally {
      for (const d of held) this.unhold(this.pendingBlobs, d);
      for (const d of heldLayers) this.unhold(this.pendingLayers, d);
      await this.lock.run(() => this.gc());
    }
  }

  private recordPath(id: string): string {
    return join(this.imagedbDir, `${hexOf(id)}.json`);
  }

  private async saveRefs(): Promise<void> {
    await writeJsonAtomic(this.refsFile, this.refs);
    // Mirror the references as an OCI image-layout index so the store is a valid layout.
    const manifests = Object.entries(this.refs.tags).flatMap(([ref, id]) => {
      const img = this.images.get(id);
      if (!img) return [];
      const r = parseNormalized(ref);
      return [{ ...img.record.manifest, annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': r.tag ?? 'latest' } }];
    });
    await writeJsonAtomic(join(this.root, 'index.json'), { schemaVersion: 2, mediaType: MT.ociIndex, manifests });
  }

  /** Build and register an image from a config and layer descriptors already stored. */
  private async registerBuilt(config: ImageConfigDoc, layers: Descriptor[], opts: { tags?: string[]; parent?: string }): Promise<string> {
    const configBytes = encodeConfig(config);
    const cd = await this.addBlobBytes(configBytes);
    try {
      const manifest: OciManifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: cd.digest, size: cd.size }, layers };
      return await this.registerImage({ manifest: Buffer.from(JSON.stringify(manifest)), mediaType: MT.ociManifest, tags: opts.tags, parent: opts.parent });
    } finally {
      this.unhold(this.pendingBlobs, cd.digest);
    }
  }

  /** Store a layer tar file (moved in) and return its descriptor, with the media type its bytes say. */
  private async adoptLayerFile(file: string, digest?: string): Promise<Descriptor> {
    const compression = await fileCompression(file);
    const size = (await fs.stat(file)).size;
    let d = digest;
    if (!d) {
      const res = await this.blobs.putStream(createReadStream(file), {}, undefined, (x) => this.hold(x));
      await fs.rm(file, { force: true });
      return { mediaType: layerMediaType(compression), digest: res.digest, size: res.size };
    }
    this.hold(d);
    await this.blobs.adopt(file, d);
    return { mediaType: layerMediaType(compression), digest: d, size };
  }

  /**
   * `docker import`: a root filesystem tar (plain or compressed) becomes a one-layer image.
   * `changes` are Dockerfile lines (CMD, ENV, ...) applied to the config.
   */
  async importRootfs(src: Readable | AsyncIterable<Buffer>, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; source?: string; signal?: AbortSignal } = {}): Promise<string> {
    const tags = opts.repo ? [fullString(parseRepoTag(opts.repo, opts.tag))] : [];
    if (!opts.repo && opts.tag) throw invalid('tag given without a repository');
    const config = applyChanges({}, opts.changes ?? []);
    const blob = await this.blobs.putStream(src, {}, opts.signal, (d) => this.hold(d));
    let diffId: string | undefined;
    try {
      const compression = await fileCompression(this.blobs.path(blob.digest));
      const info = await this.ensureLayer(blob.digest, opts.signal);
      diffId = info.diffId;
      const doc = importConfig({ diffId: info.diffId, created: new Date(), message: opts.message, source: opts.source, config });
      const id = await this.registerBuilt(doc, [{ mediaType: layerMediaType(compression), digest: blob.digest, size: blob.size }], { tags });
      this.publish('import', id, tags[0]);
      for (const t of tags) this.publish('tag', id, t);
      return id;
    } finally {
      this.unhold(this.pendingBlobs, blob.digest);
      if (diffId) this.unhold(this.pendingLayers, diffId);
      await this.lock.run(() => this.gc());
    }
  }

  /** Turn a container's overlay upper dir into a new image (docker commit, build steps). */
  async commitUpperDir(opts: Parameters<LayerCommitter['commitUpperDir']>[0]): Promise<string> {
    const parent = opts.parentImageId ? this.resolve(opts.parentImageId) : undefined;
    const tags = (opts.tags ?? []).map((t) => fullString(parseRepoTag(t)));
    const layers: Descriptor[] = parent ? (JSON.parse((await this.blobs.read(parent.record.manifest.digest)).toString()) as OciManifest).layers : [];
    let diffId: string | undefined;
    let blobDigest: string | undefined;
    try {
      if (!opts.emptyLayer) {
        await fs.mkdir(this.tmpDir, { recursive: true });
        const tmp = this.blobs.tmpName();
        try {
          const packed = await packUpperDir(opts.upperDir, tmp);
          const desc = await this.adoptLayerFile(tmp, packed.diffId);
          blobDigest = desc.digest;
          layers.push(desc);
          diffId = (await this.ensureLayer(desc.digest)).diffId;
        } finally {
          await fs.rm(tmp, { force: true });
        }
      }
      const doc = childConfig(parent?.config, { diffId, created: new Date(), createdBy: opts.createdBy, comment: opts.comment, author: opts.author, config: opts.config });
      const id = await this.registerBuilt(doc, layers, { tags, parent: parent?.id });
      for (const t of tags) this.publish('tag', id, t);
      return id;
    } finally {
      if (blobDigest) this.unhold(this.pendingBlobs, blobDigest);
      if (diffId) this.unhold(this.pendingLayers, diffId);
      await this.lock.run(() => this.gc());
    }
  }

  /** `docker tag`: point repo:tag at the image `ref` resolves to. */
  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const img = this.resolve(ref);
    const target = fullString(parseRepoTag(repo, tag));
    await this.lock.run(async () => {
      if (!this.images.has(img.id)) throw notFound(`No such image: ${ref}`);
      this.refs.tags[target] = img.id;
      img.record.lastTagTime = new Date().toISOString();
      await writeJsonAtomic(this.recordPath(img.id), img.record);
      await this.saveRefs();
    });
    this.publish('tag', img.id, target);
  }

  /** Add a repo digest reference (after a pull or push); no event. */
  async addRepoDigest(id: string, nameAtDigest: string): Promise<void> {
    const r = parseNormalized(nameAtDigest);
    if (!r.digest) throw invalid(`invalid repo digest '${nameAtDigest}'`);
    await this.lock.run(async () => {
      if (!this.images.has(id)) throw notFound(`No such image: ${id}`);
      this.refs.digests[`${fullName(r)}@${r.digest}`] = id;
      await this.saveRefs();
    });
  }

  /** `docker rmi`: untag and/or delete, with docker's conflict rules. */
  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    const img = this.resolve(ref);
    const byId = this.isIdRef(ref, img.id);
    const users = await this.inUse(img.id);
    const out: DeleteItem[] = [];
    await this.lock.run(async () => {
      if (!this.images.has(img.id)) throw notFound(`No such image: ${ref}`);
      const refs = this.refsOf(img.id);
      if (!byId) {
        const r = parseNormalized(ref);
        const key = r.digest ? `${fullName(r)}@${r.digest}` : `${fullName(r)}:${r.tag ?? 'latest'}`;
        const matched = refs.includes(key) ? key : undefined;
        if (!matched) throw notFound(`No such image: ${ref}`);
        const rest = refs.filter((x) => x !== key);
        // The last tag of an image used by a container goes only with force (the image stays).
        if (!rest.length && users.length && !opts.force) {
          throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0])} is using its referenced image ${shortId(img.id)}`);
        }
        out.push(...this.untag(key));
        // With no tag left, digest references of the same repository go too, as docker does.
        if (!this.refsOf(img.id).some((x) => !x.includes('@'))) {
          for (const d of this.refsOf(img.id)) if (d.startsWith(`${fullName(r)}@`)) out.push(...this.untag(d));
        }
        if (this.refsOf(img.id).length) return this.saveRefs();
      } else {
        const repos = new Set(refs.map((x) => fullName(parseNormalized(x))));
        if (repos.size > 1 && !opts.force) throw conflict(`conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
        if (users.length && !opts.force) throw conflict(`conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by stopped container ${shortId(users[0])}`);
        if (this.children(img.id).length) {
          throw conflict(`conflict: unable to delete ${shortId(img.id)} (cannot be forced) - image has dependent child images`);
        }
        for (const x of refs) out.push(...this.untag(x));
      }
      await this.saveRefs();
      if (users.length || this.children(img.id).length) return; // untagged, kept for its users
      out.push(...(await this.deleteChain(img.id, !opts.noprune)));
    });
    this.publishDeletes(img.id, out);
    await this.lock.run(() => this.gc());
    return out;
  }

  private isIdRef(ref: string, id: string): boolean {
    const h = ref.replace(/^sha256:/, '');
    if (!/^[a-f0-9]+$/.test(h) || !id.slice(7).startsWith(h)) return false;
    // A hex string that is also a tag name ("abc:latest") counts as a name when such a tag exists.
    if (ref.startsWith('sha256:') || isFullId(ref)) return true;
    return !this.refs.tags[`docker.io/library/${ref}:latest`];
  }

  private untag(key: string): DeleteItem[] {
    if (key.includes('@')) {
      if (!(key in this.refs.digests)) return [];
      delete this.refs.digests[key];
    } else {
      if (!(key in this.refs.tags)) return [];
      delete this.refs.tags[key];
    }
    return [{ Untagged: familiarize(key) }];
  }

  /** Delete an image record, then (prune) its untagged, unused parents. Under the lock. */
  private async deleteChain(id: string, prune: boolean): Promise<DeleteItem[]> {
    const out: DeleteItem[] = [];
    let cur: string | undefined = id;
    while (cur) {
      const img = this.images.get(cur);
      if (!img) break;
      await fs.rm(this.recordPath(cur), { force: true });
      this.images.delete(cur);
      out.push({ Deleted: cur });
      const parent = img.record.parent;
      if (!prune || !parent || !this.images.has(parent)) break;
      if (this.refsOf(parent).length || this.children(parent).length) break;
      if ((await this.inUse(parent)).length) break;
      cur = parent;
    }
    return out;
  }

  private publishDeletes(id: string, items: DeleteItem[]): void {
    for (const it of items) {
      if ('Untagged' in it) this.publish('untag', id, it.Untagged);
      else this.publish('delete', it.Deleted);
    }
  }

  /**
   * `docker image prune`: dangling images (all unused ones with dangling=false) that pass
   * the until/label filters and no container uses. Parents go with their last child.
   */
  async prune(filters: Map<string, string[]> = new Map()): Promise<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }> {
    checkFilterKeys(filters, 'prune');
    const danglingOnly = danglingFilter(filters) ?? true;
    const deleted: DeleteItem[] = [];
    let reclaimed = 0;
    const candidates = this.list().filter((img) => {
      if (this.children(img.id).length) return false; // leaves only; chains go from the top
      if (danglingOnly && this.refsOf(img.id).some((r) => !r.includes('@'))) return false;
      return pruneFilter(this.filterable(img), filters);
    });
    for (const img of candidates) {
      if ((await this.inUse(img.id)).length) continue;
      const items: DeleteItem[] = [];
      await this.lock.run(async () => {
        if (!this.images.has(img.id) || this.children(img.id).length) return;
        for (const r of this.refsOf(img.id)) items.push(...this.untag(r));
        await this.saveRefs();
        items.push(...(await this.deleteChain(img.id, true)));
      });
      this.publishDeletes(img.id, items);
      deleted.push(...items);
    }
    if (deleted.length) reclaimed = await this.lock.run(() => this.gc());
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * Delete blobs and layer dirs that no image references and no ingest holds. Under the
   * lock. Returns the bytes freed (blob bytes plus unpacked layer content).
   */
  private async gc(): Promise<number> {
    const blobs = new Set<string>(this.pendingBlobs.keys());
    const layers = new Set<string>(this.pendingLayers.keys());
    for (const img of this.images.values()) {
      blobs.add(img.id);
      blobs.add(img.record.manifest.digest);
      for (const l of img.record.layers) blobs.add(l.digest);
      for (const d of img.config.rootfs.diff_ids) layers.add(d);
    }
    let freed = 0;
    for (const d of await this.blobs.list()) {
      if (blobs.has(d) || this.unpacking.has(d)) continue;
      freed += await this.blobs.remove(d);
      this.blobToDiff.delete(d);
    }
    for (const name of await fs.readdir(this.layersDir)) {
      const diffId = `sha256:${name}`;
      if (layers.has(diffId)) continue;
      const trash = join(this.tmpDir, `gc-${randomBytes(6).toString('hex')}`);
      await fs.mkdir(this.tmpDir, { recursive: true });
      await fs.rename(join(this.layersDir, name), trash).catch(() => undefined);
      await fs.rm(trash, { recursive: true, force: true });
      freed += this.layerInfo.get(diffId)?.size ?? 0;
      this.layerInfo.delete(diffId);
    }
    return freed;
  }

  // ------------------------------------------------------------- API shapes

  filterable(img: Image): { id: string; refs: string[]; created: number; labels: Record<string, string> } {
    return { id: img.id, refs: this.refsOf(img.id), created: createdMs(img), labels: img.config.config?.Labels ?? {} };
  }

  /** GET /images/json */
  summaries(opts: { all?: boolean; filters?: Map<string, string[]>; digests?: boolean } = {}): Array<Record<string, unknown>> {
    const filters = opts.filters ?? new Map<string, string[]>();
    checkFilterKeys(filters, 'list');
    const resolveCreated = (r: string) => createdMs(this.resolve(r));
    const out: Array<Record<string, unknown>> = [];
    for (const img of this.list()) {
      const { keep, refs } = listFilter(this.filterable(img), filters, resolveCreated);
      if (!keep) continue;
      const dangling = !this.refsOf(img.id).length;
      // Without all=1 docker hides untagged intermediate images (parents of other images).
      if (dangling && !opts.all && this.children(img.id).length) continue;
      out.push({
        Id: img.id,
        ParentId: img.record.parent ?? '',
        RepoTags: refs.filter((r) => !r.includes('@')).map(familiarize).sort(),
        RepoDigests: refs.filter((r) => r.includes('@')).map(familiarize).sort(),
        Created: Math.floor(createdMs(img) / 1000),
        Size: this.size(img),
        SharedSize: -1,
        Labels: img.config.config?.Labels ?? {},
        Containers: -1,
      });
    }
    return out;
  }

  /** GET /images/{name}/json */
  inspect(ref: string): Record<string, unknown> {
    const img = this.resolve(ref);
    const c = img.config;
    const dirs = this.layerDirs(img);
    const top = dirs[dirs.length - 1];
    const lower = dirs.slice(0, -1).reverse().join(':');
    return {
      Id: img.id,
      RepoTags: this.repoTags(img.id),
      RepoDigests: this.repoDigests(img.id),
      Parent: img.record.parent ?? '',
      Comment: c.comment ?? '',
      Created: c.created ?? ZERO_TIME,
      DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
      Author: c.author ?? '',
      Config: c.config ?? {},
      Architecture: c.architecture,
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os,
      ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
      Size: this.size(img),
      GraphDriver: { Name: 'overlay2', Data: top ? { ...(lower ? { LowerDir: lower } : {}), UpperDir: top, MergedDir: '', WorkDir: '' } : {} },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: img.record.lastTagTime ?? ZERO_TIME },
      Descriptor: img.record.manifest,
    };
  }

  /** GET /images/{name}/history, newest first. */
  history(ref: string): Array<Record<string, unknown>> {
    const img = this.resolve(ref);
    const entries = historyWithLayers(img.config);
    // Map history positions to local images along the parent chain.
    const idAt = new Map<number, string>();
    idAt.set(entries.length - 1, img.id);
    for (let p = img.record.parent; p; ) {
      const pi = this.images.get(p);
      if (!pi) break;
      const n = historyWithLayers(pi.config).length;
      if (!idAt.has(n - 1)) idAt.set(n - 1, pi.id);
      p = pi.record.parent;
    }
    return entries
      .map(({ entry, layerIndex }, i) => {
        const id = idAt.get(i);
        return {
          Id: id ?? '<missing>',
          Created: entry.created ? Math.floor(Date.parse(entry.created) / 1000) : 0,
          CreatedBy: entry.created_by ?? '',
          Tags: id ? this.repoTags(id) : null,
          Size: layerIndex !== undefined ? this.layerInfo.get(img.config.rootfs.diff_ids[layerIndex])?.size ?? 0 : 0,
          Comment: entry.comment ?? '',
        };
      })
      .reverse();
  }

  /** Counts for GET /info. */
  info(): { Images: number } {
    return { Images: this.images.size };
  }

  publish(action: string, id: string, ref?: string): void {
    const img = this.images.get(id);
    const attrs: Record<string, string> = { ...(img?.config.config?.Labels ?? {}) };
    attrs.name = ref ? familiarize(ref) : id;
    this.events.publish('image', action, id, attrs);
  }

}

function createdMs(img: Image): number {
  const t = img.config.created ? Date.parse(img.config.created) : NaN;
  return Number.isNaN(t) ? Date.parse(img.record.added) : t;
}

