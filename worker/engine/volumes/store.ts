// Local volumes: a directory <root>/<name>/_data each, metadata beside it, reference-counted by container.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../../../shared/events';
import type { VolumeResolver } from '../contracts';
import { invalid, notFound, conflict, errorMessage } from '../../../shared/errors';
import { readJson, writeJsonAtomic } from '../../../shared/fsutil';
import { run } from '../../../shared/exec';
import { logger } from '../../../shared/log';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const META = 'shoal-volume.json';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** The local driver's mount options (as `mount -t type -o o device`). */
const LOCAL_OPTS = new Set(['type', 'device', 'o']);

export interface VolumeRecord {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
  /** Containers that use the volume (they may be stopped: a volume is in use until they are removed). */
  users: string[];
  /** Set once the volume was filled from an image (copy-up happens only into a fresh volume). */
  populated?: boolean;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The Docker API's Volume object. */
export interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Scope: 'local';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number };
}

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Docker's rule for local volume names. */
export function validateVolumeName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** The local driver's options: type, device, o (mount(8) terms). */
export function validateLocalOptions(opts: Record<string, string>): void {
  for (const [k, v] of Object.entries(opts)) {
    if (!LOCAL_OPTS.has(k)) throw invalid(`invalid option for the local volume driver: '${k}' (expected type, device, o)`);
    if (typeof v !== 'string') throw invalid(`invalid option ${k}: value must be a string`);
  }
  if (Object.keys(opts).length && !opts.type) throw invalid('local volume options need a type (e.g. type=tmpfs, or type=none with o=bind)');
  if (opts.type && opts.type !== 'tmpfs' && !opts.device) throw invalid(`local volume of type ${opts.type} needs a device`);
}

function labelMatches(labels: Record<string, string>, spec: string): boolean {
  const i = spec.indexOf('=');
  return i < 0 ? spec in labels : labels[spec.slice(0, i)] === spec.slice(i + 1);
}

function bool(v: string, what: string): boolean {
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw invalid(`invalid filter '${what}=${v}': expected true or false`);
}

async function dirSize(path: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += await fs.lstat(p).then((s) => s.size, () => 0);
  }
  return total;
}

export class VolumeStore implements VolumeResolver {
  private readonly log = logger('volumes');
  private readonly lock = new Mutex();
  private readonly volumes = new Map<string, VolumeRecord>();

  private constructor(
    readonly root: string,
    private readonly events: EventBus,
  ) {}

  static async open(opts: { root: string; events: EventBus }): Promise<VolumeStore> {
    const s = new VolumeStore(opts.root, opts.events);
    await fs.mkdir(opts.root, { recursive: true, mode: 0o701 });
    for (const name of await fs.readdir(opts.root)) {
      if (!NAME_RE.test(name)) continue;
      const stat = await fs.stat(join(opts.root, name)).catch(() => undefined);
      if (!stat?.isDirectory()) continue;
      // A directory without metadata (a crash during create, or one made by hand) is adopted as a plain volume.
      const rec = (await readJson<VolumeRecord>(join(opts.root, name, META))) ?? { name, driver: 'local', createdAt: stat.birthtime.toISOString(), labels: {}, options: {}, anonymous: false, users: [] };
      await fs.mkdir(join(opts.root, name, '_data'), { recursive: true });
      s.volumes.set(name, rec);
    }
    return s;
  }

  path(name: string): string {
    return join(this.root, name, '_data');
  }

  private async save(v: VolumeRecord): Promise<void> {
    await writeJsonAtomic(join(this.root, v.name, META), v);
  }

  private get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  private json(v: VolumeRecord, usage?: number): VolumeJson {
    return {
      Name: v.name,
      Driver: v.driver,
      Mountpoint: this.path(v.name),
      CreatedAt: v.createdAt,
      Labels: v.labels,
      Scope: 'local',
      Options: Object.keys(v.options).length ? v.options : null,
      ...(usage !== undefined ? { UsageData: { Size: usage, RefCount: v.users.length } } : {}),
    };
  }

  /** Create (or, as Docker does, return the existing volume of that name). */
  async create(req: VolumeCreateRequest): Promise<VolumeJson> {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw invalid(`volume driver '${driver}' is not supported: only local`);
    const options = { ...(req.DriverOpts ?? {}) };
    validateLocalOptions(options);
    const labels = { ...(req.Labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) if (typeof v !== 'string') throw invalid(`label ${k}: value must be a string`);
    if (req.Name) validateVolumeName(req.Name);
    const v = await this.lock.run(() => this.createLocked(req.Name || undefined, labels, options, !req.Name));
    return this.json(v);
  }

  private async createLocked(name: string | undefined, labels: Record<string, string>, options: Record<string, string>, anonymous: boolean): Promise<VolumeRecord> {
    if (name && this.volumes.has(name)) return this.volumes.get(name)!;
    const n = name ?? randomBytes(32).toString('hex');
    const v: VolumeRecord = {
      name: n,
      driver: 'local',
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: anonymous ? { ...labels, [ANONYMOUS_LABEL]: '' } : labels,
      options,
      anonymous,
      users: [],
    };
    try {
      await fs.mkdir(join(this.root, n, '_data'), { recursive: true, mode: 0o755 });
      await this.save(v);
    } catch (e) {
      await fs.rm(join(this.root, n), { recursive: true, force: true });
      throw e;
    }
    this.volumes.set(n, v);
    this.events.publish('volume', 'create', n, { driver: 'local' });
    return v;
  }

  inspect(name: string): VolumeJson {
    return this.json(this.get(name));
  }

  list(filters: Map<string, string[]> = new Map()): { Volumes: VolumeJson[]; Warnings: string[] } {
    for (const k of filters.keys()) if (!['dangling', 'name', 'label', 'driver'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const out = [...this.volumes.values()].filter((v) =>
      [...filters].every(([key, values]) => {
        if (!values.length) return true;
        switch (key) {
          case 'dangling': return values.some((x) => bool(x, 'dangling') === (v.users.length === 0));
          case 'name': return values.some((x) => v.name.includes(x));
          case 'label': return values.every((x) => labelMatches(v.labels, x));
          case 'driver': return values.some((x) => x === v.driver);
          default: return true;
        }
      }),
    );
    return { Volumes: out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name)).map((v) => this.json(v)), Warnings: [] };
  }

  /** Volumes with their size and reference count (for `system df`). */
  async usage(): Promise<VolumeJson[]> {
    const out: VolumeJson[] = [];
    for (const v of this.volumes.values()) out.push(this.json(v, await dirSize(this.path(v.name))));
    return out;
  }

  async remove(name: string, force = false): Promise<void> {
    await this.lock.run(async () => {
      const v = this.volumes.get(name);
      if (!v) {
        if (force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      // Even with force: removing a volume from under a container is never done, as in Docker.
      if (v.users.length) throw conflict(`remove ${name}: volume is in use - [${v.users.join(', ')}]`);
      await this.destroyLocked(v);
    });
  }

  private async destroyLocked(v: VolumeRecord): Promise<number> {
    await this.unmountDevice(v);
    const size = await dirSize(this.path(v.name));
    await fs.rm(join(this.root, v.name), { recursive: true, force: true });
    this.volumes.delete(v.name);
    this.events.publish('volume', 'destroy', v.name, { driver: v.driver });
    return size;
  }

  /** Remove unused volumes: anonymous ones only, unless `all=true` (Docker API 1.42+). */
  async prune(filters: Map<string, string[]> = new Map()): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of filters.keys()) if (!['label', 'label!', 'all'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const all = (filters.get('all') ?? []).some((x) => bool(x, 'all'));
    return this.lock.run(async () => {
      const deleted: string[] = [];
      let space = 0;
      for (const v of [...this.volumes.values()]) {
        if (v.users.length || (!all && !v.anonymous)) continue;
        if (!(filters.get('label') ?? []).every((l) => labelMatches(v.labels, l))) continue;
        if ((filters.get('label!') ?? []).some((l) => labelMatches(v.labels, l))) continue;
        space += await this.destroyLocked(v);
        deleted.push(v.name);
      }
      return { VolumesDeleted: deleted, SpaceReclaimed: space };
    });
  }

  async acquire(name: string | undefined, containerId: string, labels?: Record<string, string>): Promise<{ name: string; path: string }> {
    if (name) validateVolumeName(name);
    return this.lock.run(async () => {
      const v = (name && this.volumes.get(name)) || (await this.createLocked(name, labels ?? {}, {}, !name));
      if (!v.users.includes(containerId)) {
        if (v.users.length === 0) await this.mountDevice(v);
        v.users.push(containerId);
        await this.save(v);
      }
      return { name: v.name, path: this.path(v.name) };
    });
  }

  async release(containerId: string, names: string[], removeAnonymous: boolean): Promise<void> {
    await this.lock.run(async () => {
      for (const name of names) {
        const v = this.volumes.get(name);
        if (!v || !v.users.includes(containerId)) continue;
        v.users = v.users.filter((u) => u !== containerId);
        await this.save(v);
        if (v.users.length === 0) {
          if (removeAnonymous && v.anonymous) await this.destroyLocked(v);
          else await this.unmountDevice(v);
        }
      }
    });
  }

  /**
   * Fill a fresh volume from the image's content at its mount point (Docker's copy-up), once:
   * only when the volume was never populated and is empty.
   */
  async populate(name: string, sourceDir: string): Promise<boolean> {
    return this.lock.run(async () => {
      const v = this.get(name);
      if (v.populated) return false;
      const dest = this.path(name);
      const empty = (await fs.readdir(dest)).length === 0;
      const src = await fs.stat(sourceDir).catch(() => undefined);
      if (empty && src?.isDirectory()) await run('cp', ['-a', `${sourceDir}/.`, dest]);
      v.populated = true;
      await this.save(v);
      return empty && !!src?.isDirectory();
    });
  }

  /** Publish Docker's mount/unmount events (the containers module calls these at start and stop). */
  mounted(name: string, containerId: string, destination: string, readWrite: boolean, propagation = ''): void {
    this.events.publish('volume', 'mount', name, { container: containerId, destination, driver: 'local', propagation, 'read/write': String(readWrite) });
  }

  unmounted(name: string, containerId: string): void {
    this.events.publish('volume', 'unmount', name, { container: containerId, driver: 'local' });
  }

  private async mountDevice(v: VolumeRecord): Promise<void> {
    const o = v.options;
    if (!o.type) return;
    const args = ['-t', o.type, ...(o.o ? ['-o', o.o] : []), o.device || o.type, this.path(v.name)];
    try {
      await run('mount', args);
    } catch (e) {
      throw invalid(`error while mounting volume '${v.name}': ${errorMessage(e)}`);
    }
  }

  private async unmountDevice(v: VolumeRecord): Promise<void> {
    if (!v.options.type) return;
    const r = await run('umount', [this.path(v.name)], { okCodes: [0, 32] });
    if (r.code !== 0) this.log.debug({ volume: v.name }, 'volume was not mounted');
  }
}
