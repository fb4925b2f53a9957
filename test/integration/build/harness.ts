// Shared set-up for the builder's integration tests: a private data root with a real image
// store holding busybox, a Builder over it, and helpers to make contexts and run builds.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { create as tarCreate } from 'tar';
import { EventBus } from '../../../shared/events';
import { silenceLogging } from '../../../shared/log';
import { ImageStore } from '../../../worker/engine/images';
import { Builder, type BuildMessage, type BuildOptions, type BuildContainers } from '../../../worker/engine/build';
import { imageStorePort } from '../../../worker/engine/build/adapters';
import { busyboxRootfs } from '../../helpers/daemon';

export interface FileSpec {
  content?: string | Buffer;
  mode?: number;
  dir?: boolean;
  symlink?: string;
  mtime?: Date;
}

export type ContextFiles = Record<string, string | FileSpec>;

/** Write files into `dir` (paths relative, parents created). */
export async function writeFiles(dir: string, files: ContextFiles): Promise<void> {
  for (const [path, spec] of Object.entries(files)) {
    const s: FileSpec = typeof spec === 'string' ? { content: spec } : spec;
    const abs = join(dir, path);
    await fs.mkdir(s.dir ? abs : join(abs, '..'), { recursive: true });
    if (s.symlink !== undefined) await fs.symlink(s.symlink, abs);
    else if (!s.dir) await fs.writeFile(abs, s.content ?? '');
    if (s.mode !== undefined) await fs.chmod(abs, s.mode);
    if (s.mtime) await fs.utimes(abs, s.mtime, s.mtime);
  }
}

/** A tar of the files (gzip optional), as the docker CLI sends a context. */
export async function tarOf(files: ContextFiles, opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-ctx-'));
  try {
    await writeFiles(dir, files);
    const names = (await fs.readdir(dir)).sort();
    const chunks: Buffer[] = [];
    for await (const c of tarCreate({ cwd: dir, gzip: opts.gzip, portable: true }, names) as unknown as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export const defaultOptions = (over: Partial<BuildOptions> = {}): BuildOptions => ({
  tags: [],
  buildArgs: {},
  noCache: false,
  rm: true,
  forceRm: false,
  labels: {},
  quiet: false,
  networkMode: 'host',
  hostConfig: {},
  ...over,
});

export interface BuildResult {
  messages: BuildMessage[];
  id?: string;
  error?: string;
  text: string;
}

/** Containers for builds that have no RUN step: any use is a test failure. */
export const noContainers: BuildContainers = {
  create: () => Promise.reject(new Error('this build must not run a container')),
  start: () => Promise.reject(new Error('unexpected')),
  attach: () => Promise.reject(new Error('unexpected')),
  wait: () => Promise.reject(new Error('unexpected')),
  kill: () => Promise.reject(new Error('unexpected')),
  upperDir: () => Promise.reject(new Error('unexpected')),
  remove: () => Promise.reject(new Error('unexpected')),
};

export class BuildHarness {
  private constructor(
    readonly base: string,
    readonly images: ImageStore,
    readonly builder: Builder,
    readonly events: EventBus,
  ) {}

  static async open(containers: BuildContainers = noContainers, base?: string, images?: ImageStore, events = new EventBus()): Promise<BuildHarness> {
    silenceLogging();
    const root = base ?? (await fs.mkdtemp(join(tmpdir(), 'shoal-build-')));
    const store = images ?? (await ImageStore.open({ root: join(root, 'images'), events }));
    if (!images) await store.importRootfs(Readable.from([await busyboxRootfs()]), { repo: 'busybox', tag: 'latest' });
    const builder = await Builder.open({ images: imageStorePort(store), containers }, { root: join(root, 'build'), events });
    return new BuildHarness(root, store, builder, events);
  }

  /** Run a build to its end; collects the messages, the image ID (aux) and the error. */
  async build(files: ContextFiles | Buffer, over: Partial<BuildOptions> = {}, signal = new AbortController().signal): Promise<BuildResult> {
    const body = Buffer.isBuffer(files) ? files : await tarOf(files);
    const prepared = await this.builder.prepare(Readable.from([body]), defaultOptions(over), signal);
    const messages: BuildMessage[] = [];
    for await (const m of prepared.run(signal)) messages.push(m);
    const aux = messages.filter((m): m is { aux: { ID: string } } => 'aux' in m);
    const err = messages.find((m): m is { errorDetail: { message: string }; error: string } => 'error' in m);
    return {
      messages,
      id: err ? undefined : aux[aux.length - 1]?.aux.ID,
      error: err?.error,
      text: messages.map((m) => ('stream' in m ? m.stream : '')).join(''),
    };
  }

  /** Temp entries the builder left under its root (there should be none after a build). */
  async leftovers(): Promise<string[]> {
    return fs.readdir(join(this.base, 'build', 'tmp'));
  }

  /** Read a file of an image by looking through its layers top-down (no mount needed). */
  async readFile(ref: string, path: string): Promise<string | undefined> {
    const dirs = this.images.layerDirs(ref).reverse();
    for (const d of dirs) {
      try {
        return await fs.readFile(join(d, path), 'utf8');
      } catch {
        /* not in this layer */
      }
    }
    return undefined;
  }

  /** lstat a path of an image (top-down through its layers). */
  async stat(ref: string, path: string): Promise<import('node:fs').Stats | undefined> {
    for (const d of this.images.layerDirs(ref).reverse()) {
      const st = await fs.lstat(join(d, path)).catch(() => undefined);
      if (st) return st;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await fs.rm(this.base, { recursive: true, force: true });
  }
}
