// The build cache: step key -> image ID, kept in one JSON file under the builder's root.
// A step's key is its parent image ID plus the instruction as it will be recorded (after
// expansion; COPY/ADD name a content digest of their sources) plus the build-arg values a RUN
// sees, so a rebuild of unchanged inputs finds the same image and runs nothing.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../../shared/fsutil';

/** One file-system entry of a COPY/ADD source, as the content digest sees it. */
export interface SourceEntry {
  /** Path relative to the source ("" for the source itself). */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number; // permission and set-id bits
  uid: number;
  gid: number;
  size: number;
  link?: string; // symlink target
  sha256?: string; // file content
}

export interface SourceGroup {
  /** The source's name as it lands in the destination (basename of what COPY named). */
  name: string;
  entries: SourceEntry[];
}

/**
 * Digest of COPY/ADD sources: names, types, modes, owners, sizes, link targets and contents,
 * never modification times (like Docker's tarsum, so a fresh checkout still hits the cache).
 */
export function digestSources(groups: SourceGroup[]): string {
  const h = createHash('sha256');
  for (const g of groups) {
    h.update(`source\0${g.name}\n`);
    const sorted = [...g.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const e of sorted) {
      h.update(`${e.path}\0${e.type}\0${e.mode.toString(8)}\0${e.uid}:${e.gid}\0${e.type === 'file' ? e.size : 0}\0${e.link ?? ''}\0${e.sha256 ?? ''}\n`);
    }
  }
  return h.digest('hex');
}

/** Docker's label for a source digest in history: file:, dir: or multi:. */
export function sourceLabel(groups: SourceGroup[], digest: string): string {
  if (groups.length !== 1) return `multi:${digest}`;
  const top = groups[0].entries.find((e) => e.path === '');
  return `${top?.type === 'dir' ? 'dir' : 'file'}:${digest}`;
}

export interface StepKeyInput {
  /** Parent image ID; undefined for the first step on scratch. */
  parent?: string;
  /** The history text of the step (expanded instruction, source digests). */
  createdBy: string;
  /** Config that the step's result depends on but the parent image does not hold. */
  extra?: string[];
}

/** The cache key of one build step. */
export function cacheKey(step: StepKeyInput): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([step.parent ?? 'scratch', step.createdBy, step.extra ?? []]));
  return `sha256:${h.digest('hex')}`;
}

interface CacheEntry {
  image: string;
  created: string;
  lastUsed: string;
}

interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

export class BuildCache {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, CacheEntry>,
  ) {}

  static async open(root: string): Promise<BuildCache> {
    const file = join(root, 'cache.json');
    const doc = await readJson<CacheFile>(file);
    return new BuildCache(file, new Map(Object.entries(doc?.version === 1 ? doc.entries : {})));
  }

  get size(): number {
    return this.entries.size;
  }

  lookup(key: string): string | undefined {
    return this.entries.get(key)?.image;
  }

  /** Mark a hit as used (for prune's `until`); not persisted on every hit to keep rebuilds cheap. */
  touch(key: string): void {
    const e = this.entries.get(key);
    if (e) e.lastUsed = new Date().toISOString();
  }

  async record(key: string, image: string): Promise<void> {
    const now = new Date().toISOString();
    this.entries.set(key, { image, created: now, lastUsed: now });
    await this.save();
  }

  async forget(keys: Iterable<string>): Promise<void> {
    for (const k of keys) this.entries.delete(k);
    await this.save();
  }

  /** Entries (key, image, last use) for prune. */
  list(): Array<{ key: string; image: string; lastUsed: number }> {
    return [...this.entries].map(([key, e]) => ({ key, image: e.image, lastUsed: Date.parse(e.lastUsed) }));
  }

  /** Serialised atomic writes: concurrent builds never interleave a half-written file. */
  save(): Promise<void> {
    const next = this.saving.then(() => writeJsonAtomic(this.file, { version: 1, entries: Object.fromEntries(this.entries) } satisfies CacheFile));
    this.saving = next.catch(() => undefined);
    return next;
  }
}
