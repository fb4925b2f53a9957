// `docker load` and `docker save` archives. Loading accepts docker-archive tars (the classic
// layout with <id>/layer.tar and the Docker 25+ one whose files live under blobs/sha256/)
// and OCI image-layout tars. Saving writes both a docker-archive manifest.json and an OCI
// index.json over one set of blobs, as Docker 25+ does, so either kind of reader can load it.
import { createReadStream, promises as fs } from 'node:fs';
import { join, resolve as resolvePath, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable, type Writable } from 'node:stream';
import { x as extract } from 'tar';
import { invalid, errorMessage } from '../../../shared/errors';
import type { Image, ImageStore, OciManifest } from './store';
import { hexOf, type Descriptor } from './blobs';
import { decodeConfig, goArch } from './config';
import { fileCompression, encodeHeader } from './layers';
import { MT, isIndexType, isManifestType, layerMediaType } from './mediatypes';
import { familiarize, fullName, fullString, parseNormalized, parseRepoTag, isFullId, isIdPrefix, looksLikeDomain } from './reference';

export interface LoadedImage {
  id: string;
  /** Familiar tag ("busybox:latest"), or undefined for an untagged image. */
  ref?: string;
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface OciIndex {
  schemaVersion?: number;
  mediaType?: string;
  manifests: Descriptor[];
}

/** Resolve a path named inside the archive, refusing anything that leaves it (via .. or symlinks). */
async function inside(root: string, rel: string): Promise<string> {
  if (typeof rel !== 'string' || !rel) throw invalid('invalid archive: empty file name in manifest');
  const p = resolvePath(root, rel);
  let real: string;
  try {
    real = await fs.realpath(p);
  } catch {
    throw invalid(`invalid archive: ${rel} is named in the manifest but missing from the archive`);
  }
  const realRoot = await fs.realpath(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw invalid(`invalid archive: ${rel} points outside the archive`);
  return real;
}

async function readJsonIn<T>(root: string, rel: string): Promise<T> {
  const p = await inside(root, rel);
  try {
    return JSON.parse(await fs.readFile(p, 'utf8')) as T;
  } catch (e) {
    throw invalid(`invalid archive: ${rel} is not valid JSON: ${errorMessage(e)}`);
  }
}

/**
 * Load every image of an archive stream into the store. A malformed archive is
 * INVALID_ARGUMENT and leaves nothing behind; images load whole or not at all.
 */
export async function loadArchive(store: ImageStore, src: Readable | AsyncIterable<Buffer>, signal?: AbortSignal): Promise<LoadedImage[]> {
  const dir = join(store.tmpDir, `load-${randomBytes(8).toString('hex')}`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const added: string[] = []; // one entry per hold, duplicates included
  try {
    let bytes = 0;
    try {
      // A Transform, not an async generator: node-tar's unpacker stalls behind a generator.
      const counter = new Transform({
        transform(c: Buffer, _e, cb) {
          bytes += c.length;
          cb(null, c);
        },
      });
      await pipeline(src, counter, extract({ cwd: dir, strict: true, preserveOwner: false, noChmod: true }), { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      if (bytes === 0) throw invalid('invalid tar archive: empty input');
      throw invalid(`invalid tar archive: ${errorMessage(e).replace(/^TAR_\w+: /, '')}`);
    }
    if (bytes === 0) throw invalid('invalid tar archive: empty input');
    const has = (f: string) => fs.access(join(dir, f)).then(() => true, () => false);
    let loaded: LoadedImage[];
    if (await has('manifest.json')) loaded = await loadDockerArchive(store, dir, added, signal);
    else if (await has('index.json')) loaded = await loadOciLayout(store, dir, added, signal);
    else throw invalid('invalid archive: no manifest.json or index.json found (expected a docker save or OCI layout tar)');
    for (const l of loaded) store.publish('load', l.id, l.ref);
    return loaded;
  } finally {
    await store.releaseBlobs(added).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function addFile(store: ImageStore, file: string, added: string[], expect: { digest?: string } = {}, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
  const res = await store.addBlob(createReadStream(file), expect, signal);
  added.push(res.digest);
  return res;
}

async function loadDockerArchive(store: ImageStore, dir: string, added: string[], signal?: AbortSignal): Promise<LoadedImage[]> {
  const entries = await readJsonIn<DockerArchiveEntry[]>(dir, 'manifest.json');
  if (!Array.isArray(entries) || !entries.length) throw invalid('invalid archive: manifest.json has no images');
  const out: LoadedImage[] = [];
  for (const e of entries) {
    if (!e || typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw invalid('invalid archive: manifest.json entry needs Config and Layers');
    const tags = (e.RepoTags ?? []).map((t) => fullString(parseRepoTag(t))); // validate before storing anything
    const cfgFile = await inside(dir, e.Config);
    decodeConfig(await fs.readFile(cfgFile));
    const cfg = await addFile(store, cfgFile, added, {}, signal);
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const f = await inside(dir, l);
      const blob = await addFile(store, f, added, {}, signal);
      layers.push({ mediaType: layerMediaType(await fileCompression(f)), digest: blob.digest, size: blob.size });
    }
    const manifest: OciManifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: cfg.digest, size: cfg.size }, layers };
    const id = await store.registerImage({ manifest: Buffer.from(JSON.stringify(manifest)), mediaType: MT.ociManifest, tags, signal });
    if (tags.length) for (const t of tags) out.push({ id, ref: familiarize(t) });
    else out.push({ id });
  }
  return out;
}

/** Blob path in an OCI layout, checked to be a plain digest. */
function ociBlobPath(d: Descriptor): string {
  if (!d || typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw invalid(`invalid archive: bad descriptor digest '${d?.digest}'`);
  return `blobs/sha256/${hexOf(d.digest)}`;
}

/** The image name a layout's index entry carries, if any. */
function nameFromAnnotations(a: Record<string, string> | undefined): string | undefined {
  const full = a?.['io.containerd.image.name'];
  if (full) return full;
  const ref = a?.['org.opencontainers.image.ref.name'];
  // A bare tag ("latest") names no repository; a full reference does.
  if (ref && (ref.includes('/') || looksLikeDomain(ref.split('/')[0]) || /^[a-z0-9._-]+:[\w][\w.-]*$/.test(ref))) {
    try {
      parseNormalized(ref);
      return ref;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function loadOciLayout(store: ImageStore, dir: string, added: string[], signal?: AbortSignal): Promise<LoadedImage[]> {
  const index = await readJsonIn<OciIndex>(dir, 'index.json');
  if (!index || !Array.isArray(index.manifests) || !index.manifests.length) throw invalid('invalid archive: index.json lists no manifests');
  const out: LoadedImage[] = [];
  for (const top of index.manifests) {
    const name = nameFromAnnotations(top.annotations);
    const tags = name ? [fullString(parseRepoTag(name))] : [];
    const md = await pickManifest(dir, top, added, store, signal);
    const manifestFile = await inside(dir, ociBlobPath(md));
    await addFile(store, manifestFile, added, { digest: md.digest }, signal);
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as OciManifest;
    if (!manifest?.config || !Array.isArray(manifest.layers)) throw invalid(`invalid archive: ${md.digest} is not an image manifest`);
    await addFile(store, await inside(dir, ociBlobPath(manifest.config)), added, { digest: manifest.config.digest }, signal);
    for (const l of manifest.layers) await addFile(store, await inside(dir, ociBlobPath(l)), added, { digest: l.digest }, signal);
    const id = await store.registerImage({ manifest: await fs.readFile(manifestFile), mediaType: md.mediaType || manifest.mediaType, tags, signal });
    out.push(tags.length ? { id, ref: familiarize(tags[0]) } : { id });
  }
  return out;
}

/** Follow nested indexes down to the manifest for this platform (linux/<arch>), or the only one. */
async function pickManifest(dir: string, d: Descriptor, added: string[], store: ImageStore, signal?: AbortSignal, depth = 0): Promise<Descriptor> {
  if (depth > 4) throw invalid('invalid archive: indexes nested too deeply');
  const mt = d.mediaType ?? '';
  if (isManifestType(mt)) return d;
  if (!isIndexType(mt)) throw invalid(`invalid archive: unsupported media type '${mt}' in index`);
  const idx = await readJsonIn<OciIndex>(dir, ociBlobPath(d));
  const ms = (idx.manifests ?? []).filter((m) => isManifestType(m.mediaType) || isIndexType(m.mediaType));
  const arch = goArch();
  const pick = ms.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch) ?? (ms.length === 1 ? ms[0] : undefined);
  if (!pick) throw invalid(`invalid archive: no manifest for linux/${arch} in ${d.digest}`);
  return pickManifest(dir, pick, added, store, signal, depth + 1);
}

// ------------------------------------------------------------------- save

class TarWriter {
  private readonly mtime = new Date(0);
  constructor(private readonly out: Writable) {}

  private async put(b: Buffer): Promise<void> {
    if (this.out.destroyed) throw new Error('client went away');
    if (this.out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off('drain', onDrain);
        this.out.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('client went away'));
      this.out.on('drain', onDrain);
      this.out.on('close', onClose);
    });
  }

  async dir(path: string): Promise<void> {
    await this.put(encodeHeader({ path, type: 'Directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: this.mtime }));
  }

  async bytes(path: string, data: Buffer): Promise<void> {
    await this.put(encodeHeader({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: this.mtime }));
    await this.put(data);
    await this.pad(data.length);
  }

  async file(path: string, src: string, size: number, signal?: AbortSignal): Promise<void> {
    await this.put(encodeHeader({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, size, mtime: this.mtime }));
    let n = 0;
    for await (const c of createReadStream(src, { signal }) as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > size) throw new Error(`blob ${src} changed while saving`);
      await this.put(c);
    }
    if (n !== size) throw new Error(`blob ${src} changed while saving`);
    await this.pad(size);
  }

  private async pad(n: number): Promise<void> {
    const p = (512 - (n % 512)) % 512;
    if (p) await this.put(Buffer.alloc(p));
  }

  async end(): Promise<void> {
    await this.put(Buffer.alloc(1024));
  }
}

/** Which tags of an image a save of `ref` carries (docker saves every tag of a bare repository name). */
function tagsForSave(store: ImageStore, ref: string, img: Image): string[] {
  if (isFullId(ref)) return [];
  let r;
  try {
    r = parseNormalized(ref);
  } catch {
    return [];
  }
  if (r.digest) return [];
  const refs = store.refsOf(img.id).filter((x) => !x.includes('@'));
  if (r.tag) return refs.filter((x) => x === `${fullName(r)}:${r.tag}`);
  // A bare name saves every tag of that repository; an ID prefix (no such repository) saves none.
  const inRepo = refs.filter((x) => x.startsWith(`${fullName(r)}:`));
  return inRepo.length || !isIdPrefix(ref) ? inRepo : [];
}

/** Write a docker-archive + OCI layout tar of the given images to `out`. */
export async function saveArchive(store: ImageStore, plan: Array<{ ref: string; image: Image }>, out: Writable, signal?: AbortSignal): Promise<void> {
  const byId = new Map<string, { image: Image; tags: Set<string> }>();
  for (const p of plan) {
    const e = byId.get(p.image.id) ?? { image: p.image, tags: new Set<string>() };
    for (const t of tagsForSave(store, p.ref, p.image)) e.tags.add(t);
    byId.set(p.image.id, e);
  }
  const w = new TarWriter(out);
  const written = new Set<string>();
  const writeBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const size = await store.blobSize(digest);
    if (size === undefined) throw invalid(`blob ${digest} is missing from the store`);
    await w.file(`blobs/sha256/${hexOf(digest)}`, store.blobs.path(digest), size, signal);
  };
  await w.dir('blobs/');
  await w.dir('blobs/sha256/');
  const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const index: OciIndex & { schemaVersion: number; mediaType: string } = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags } of byId.values()) {
    const m = await store.manifestOf(image.id);
    await writeBlob(m.config.digest);
    for (const l of m.layers) await writeBlob(l.digest);
    await writeBlob(m.descriptor.digest);
    const familiarTags = [...tags].map(familiarize);
    manifestJson.push({ Config: `blobs/sha256/${hexOf(m.config.digest)}`, RepoTags: familiarTags.length ? familiarTags : null, Layers: m.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`) });
    const desc = { mediaType: m.descriptor.mediaType, digest: m.descriptor.digest, size: m.descriptor.size };
    if (!tags.size) index.manifests.push(desc);
    for (const t of tags) {
      const r = parseNormalized(t);
      index.manifests.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': r.tag ?? 'latest' } });
      const top = image.config.rootfs.diff_ids[image.config.rootfs.diff_ids.length - 1];
      if (top) (repositories[familiarize(fullName(r))] ??= {})[r.tag ?? 'latest'] = hexOf(top);
    }
  }
  await w.bytes('index.json', Buffer.from(JSON.stringify(index)));
  await w.bytes('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
  await w.bytes('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  if (Object.keys(repositories).length) await w.bytes('repositories', Buffer.from(JSON.stringify(repositories)));
  await w.end();
  for (const { image, tags } of byId.values()) store.publish('save', image.id, [...tags][0]);
}
