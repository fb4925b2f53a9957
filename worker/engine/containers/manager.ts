import { promises as fs, watch as fsWatch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import * as tar from 'tar';
import { conflict, errorMessage, internal, invalid, isShoalError, notFound, ShoalError } from '../../../shared/errors';
import type { EventBus } from '../../../shared/events';
import { exists, writeFileAtomic, writeJsonAtomic } from '../../../shared/fsutil';
import { newId, shortId } from '../../../shared/ids';
import { logger, type Logger } from '../../../shared/log';
import { run } from '../../../shared/exec';
import type { DaemonConfig } from '../../daemon/config';
import type { ContainerNetworking, ImageResolver, LayerCommitter, NetworkSetupRequest, NetworkSetupResult, VolumeResolver } from '../contracts';
import { cgroups, favorDynamicModifications, sealedRuntimeBinary, OciRuntime, SeccompCache, parseSignal, selectRuntime, findExecutable, conmonCreate, RuntimeCreateError, resizeTerminal, processAlive, buildOciSpec, buildExecProcess, computeCapabilities, type RuntimeName, type ConmonPaths, type NamespaceMode, type OutputChunk } from '../runtime';
import { mountOverlay, unmountAll, prepareInitLayer, resolveInRoot, isOverlayMounted, mountsUnder } from '../rootfs';
import { AttachSession, type AttachOptions } from './attach';
import { applyChanges, commitConfig } from './commit';
import { containerChanges, type Change } from './changes';
import { goFileMode, mountFor, type PathStat } from './archive';
import { ExecManager, type ExecConfig } from './exec';
import { classifyStartFailure, parseExitFile } from './exitcodes';
import { HealthMonitor, probeCommand } from './health';
import { hostFacts, type HostFacts } from './host';
import { readLog, parseTail, parseUnixNs, type LogEntry } from './logs';
import { mergeConfig } from './merge';
import { dirSize, hostConfigWithDefaults } from './defaults';
import { copyUpVolume, mountPointOf, parseBind, planMounts, resolveMounts, type PlannedMount } from './mounts';
import { Mutex } from '../../../shared/mutex';
import { removeFile, tryReadSmallFile } from '../../../shared/sys/files';
import { generateName, normalizeName } from './names';
import { ContainerPaths, cuuidOf } from './paths';
import { inspectView, initialState, matchesFilters, summaryView, validateListFilters, withStatus, ZERO_TIME } from './present';
import { sampleStats, type StatsSample } from './stats';
import { decideRestart, restartOnDaemonStart } from './restart';
import { processEnv, rlimitsFor, specInputFor } from './runtime-config';
import { RecordStore } from './store';
import type { ContainerConfig, ContainerRecord, HealthState, WaitCondition, WaitResult } from './types';
import { parseGroup, parsePasswd, resolveUser, type GroupEntry, type PasswdEntry, type ResolvedUser } from './user';
import { checkCreateTypes, checkUpdateTypes, UPDATABLE, validateConfig, validateHostConfig } from './validate';

export interface ContainerManagerOptions {
  config: DaemonConfig;
  images: ImageResolver & LayerCommitter;
  networking: ContainerNetworking;
  volumes: VolumeResolver;
  events: EventBus;
}

/** A container's in-memory companion: its lock, waiters and timers. */
interface Live {
  rec: ContainerRecord;
  lock: Mutex;
  exitWaiters: Array<(code: number) => void>;
  removeWaiters: Array<(code: number) => void>;
  pendingAttach: Set<AttachSession>;
  restartTimer?: NodeJS.Timeout;
  /** stop/kill asked for this exit: no restart policy for it. */
  suppressRestart: boolean;
  removing: boolean;
  lastBackoffMs: number;
  startedAtMs: number;
  health?: HealthMonitor;
  exitCheck?: Promise<void>;
  recheck?: boolean;
}

const DEFAULT_STOP_TIMEOUT_S = 10;

interface UserDb {
  passwd: PasswdEntry[];
  groups: GroupEntry[];
  complete: boolean;
}

/**
 * The container engine: create .. rm on crun (or runc) under conmon, overlay rootfs, cgroup
 * limits, logs, attach, exec, health checks and restart policies. Containers outlive the
 * daemon; `open` adopts the ones a previous daemon left running.
 */
export class ContainerManager {
  readonly paths: ContainerPaths;
  private readonly store: RecordStore;
  private readonly byId = new Map<string, Live>();
  private readonly names = new Map<string, string>(); // "/name" -> id (reserved during create too)
  private readonly runtimes = new Map<RuntimeName, OciRuntime>();
  private readonly log: Logger = logger('containers');
  private readonly execs: ExecManager;
  private watcher?: FSWatcher;
  private readonly seccomp = new SeccompCache();
  private reconcileTimer?: NodeJS.Timeout;
  private closing = false;
  private swapAccounting = false;
  private sharedInit?: Promise<string>;
  /** Per image: its /etc/passwd and /etc/group, parsed (see imageUserDb). */
  private readonly userDbs = new Map<string, UserDb>();
  /** Clean-ups that run after the API has answered (a removed container's files); close waits for them. */
  private readonly cleanups = new Set<Promise<void>>();

  private constructor(
    private readonly opts: ContainerManagerOptions,
    private readonly defaultRuntime: RuntimeName,
    private readonly conmon: string,
    private readonly facts: HostFacts,
  ) {
    this.paths = new ContainerPaths(opts.config);
    this.store = new RecordStore(this.paths);
    this.execs = new ExecManager({
      events: opts.events,
      conmonPaths: this.conmonPaths,
      availableCaps: facts.capabilities,
      nofileHard: facts.nofileHard,
      runningContainer: (ref) => this.runningRecord(ref),
      runtimeFor: (r) => this.runtimeFor(r),
      execDir: (cid, eid) => this.paths.execDir(cid, eid),
      attachSocket: (cuuid) => this.paths.attachSocket(cuuid),
      resolveUser: (r, spec) => this.resolveUserIn(r, spec),
      eventAttrs: (r) => this.eventAttrs(r),
    });
  }

  static async open(opts: ContainerManagerOptions): Promise<ContainerManager> {
    const log = logger('containers');
    const chosen = await selectRuntime(opts.config.runtime, log);
    await favorDynamicModifications(log);
    const conmon = await findExecutable('conmon');
    if (!conmon) throw new ShoalError('UNAVAILABLE', 'conmon is not installed (Debian package conmon); containers need it as their monitor');
    const m = new ContainerManager(opts, chosen.name, conmon, await hostFacts());
    for (const name of ['crun', 'runc'] as const) {
      const p = name === chosen.name ? chosen.path : await findExecutable(name);
      if (!p) continue;
      // crun runs from a sealed copy of itself, so it need not make one on every create and exec.
      let path = p;
      if (name === 'crun') {
        try {
          path = sealedRuntimeBinary(p);
        } catch (err) {
          log.warn({ err }, 'cannot make a sealed copy of crun; it makes one itself on every container create instead');
        }
      }
      m.runtimes.set(name, new OciRuntime(name, path, m.paths.runtimeRoot(name)));
    }
    m.swapAccounting = await cgroups.swapAccounting();
    for (const d of [m.paths.root, m.paths.trash, m.paths.bundles, m.paths.exits, m.paths.sockets]) await fs.mkdir(d, { recursive: true, mode: 0o711 });
    await m.adopt();
    return m;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.watcher?.close();
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.execs.close();
    for (const c of this.byId.values()) {
      await c.health?.stop();
      if (c.restartTimer) clearTimeout(c.restartTimer);
      for (const s of c.pendingAttach) s.close();
    }
    await Promise.all([...this.cleanups]);
    // Containers keep running under conmon; the parent cgroup goes only if nothing is left in it.
    await cgroups.removeCgroupIfEmpty(this.opts.config.cgroupParent).catch(() => undefined);
  }

  // ---------------------------------------------------------------- lookups

  private get conmonPaths(): ConmonPaths {
    return { conmon: this.conmon, exitDir: this.paths.exits, socketDir: this.paths.sockets };
  }

  /** The container's cgroup: its HostConfig.CgroupParent (or the daemon's) plus its ID. */
  private cgroupOf(r: ContainerRecord): string {
    return r.shoal.cgroupPath ?? this.paths.cgroup(r.Id);
  }

  private runtimeFor(r: ContainerRecord): OciRuntime {
    const rt = this.runtimes.get(r.shoal.runtime) ?? this.runtimes.get(this.defaultRuntime);
    if (!rt) throw internal(`runtime ${r.shoal.runtime} is not available`);
    return rt;
  }

  private find(ref: string): Live | undefined {
    if (!ref) return undefined;
    const direct = this.byId.get(ref);
    if (direct) return direct;
    const byName = this.names.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName && this.byId.has(byName)) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const hits = [...this.byId.values()].filter((c) => c.rec.Id.startsWith(ref));
    if (hits.length > 1) throw invalid(`multiple IDs found with provided prefix: ${ref}`);
    return hits[0];
  }

  private must(ref: string): Live {
    const c = this.find(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  /** The record of a container (a copy); 404 when unknown. */
  get(ref: string): ContainerRecord {
    return structuredClone(this.must(ref).rec);
  }

  private runningRecord(ref: string): ContainerRecord {
    const c = this.must(ref);
    if (!c.rec.State.Running || c.rec.State.Restarting) throw conflict(`Container ${c.rec.Id} is not running`);
    if (c.rec.State.Paused) throw conflict(`Container ${c.rec.Id} is paused, unpause the container before exec`);
    return c.rec;
  }

  private eventAttrs(r: ContainerRecord): Record<string, string> {
    return { ...(r.Config.Labels ?? {}), image: r.Config.Image, name: r.Name.slice(1) };
  }

  private emit(r: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.opts.events.publish('container', action, r.Id, { ...this.eventAttrs(r), ...extra });
  }

  /** Run `work` without making anyone wait for it; a failure is logged, close() waits for it. */
  private background(what: string, id: string, work: () => Promise<void>): void {
    const p: Promise<void> = work()
      .catch((err) => this.log.warn({ err, id }, `${what} failed`))
      .finally(() => this.cleanups.delete(p));
    this.cleanups.add(p);
  }

  private async save(c: Live): Promise<void> {
    if (c.removing && !this.byId.has(c.rec.Id)) return;
    await this.store.save(c.rec);
  }

  // ---------------------------------------------------------------- create

  /**
   * Create a container from a POST /containers/create body. Everything is checked before
   * anything is made, and the record is written last: a failure (or a crash) leaves no
   * container, directory, mount or volume behind.
   */
  async create(body: unknown, opts: { name?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    const req = checkCreateTypes(body);
    validateConfig(req);
    const hc = { ...(req.HostConfig ?? {}) };
    const warnings = validateHostConfig(hc, { ncpu: this.facts.ncpu, nofileHard: this.facts.nofileHard, swapAccounting: this.swapAccounting, runtimes: [...this.runtimes.keys()] });
    if (!req.Image) throw invalid('no image specified: Config.Image is empty');
    if (hc.Init) throw invalid('--init is not supported on this node: no init binary (docker-init or tini) is installed');
    if ((hc.OomScoreAdj ?? 0) < 0 && !this.facts.capabilities.includes('CAP_SYS_RESOURCE')) {
      throw invalid(`OomScoreAdj ${hc.OomScoreAdj} needs CAP_SYS_RESOURCE, which this daemon does not have; use a value from 0 to 1000`);
    }
    const name = opts.name ? normalizeName(opts.name) : generateName((n) => this.names.has(n));
    const taken = this.names.get(name);
    if (taken) throw conflict(`Conflict. The container name "${name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`);
    const id = newId();
    this.names.set(name, id); // reserved until the create succeeds or fails
    const dir = this.paths.dir(id);
    let volumesAcquired: string[] = [];
    try {
      let networkMode = hc.NetworkMode || 'default';
      if (networkMode.startsWith('container:')) networkMode = `container:${this.must(networkMode.slice('container:'.length)).rec.Id}`;
      for (const key of ['IpcMode', 'PidMode'] as const) {
        const v = hc[key];
        if (v?.startsWith('container:')) hc[key] = `container:${this.must(v.slice('container:'.length)).rec.Id}`;
      }
      // The CLI keys the endpoint of the default network as "default": that is the bridge network.
      const endpoints = { ...(req.NetworkingConfig?.EndpointsConfig ?? {}) };
      if ('default' in endpoints && (networkMode === 'default' || networkMode === 'bridge')) {
        endpoints.bridge ??= endpoints.default;
        delete endpoints.default;
      }
      // Own mounts first; --volumes-from where this container mounts nothing itself; then
      // anonymous volumes for the config's and the image's Volumes still uncovered.
      const own = planMounts(hc, {});
      const taken = (m: PlannedMount, list: PlannedMount[]) => list.some((p) => p.destination === m.destination);
      const planned = [...own, ...this.volumesFrom(hc).filter((m) => !taken(m, own))];
      const image = await this.opts.images.resolveForRun(req.Image);
      const allPlanned = [...planned, ...planMounts({}, { ...(image.config.Volumes ?? {}), ...(req.Volumes ?? {}) }).filter((m) => !taken(m, planned))];
      const hostname = req.Hostname || (networkMode === 'host' ? os.hostname() : id.slice(0, 12));
      const merged = mergeConfig(req, image.config, { hostname, imageRef: req.Image });
      const runtime = (hc.Runtime as RuntimeName | undefined) || this.defaultRuntime;

      await fs.mkdir(dir, { recursive: true, mode: 0o710 });
      const layerDirs = [...image.layerDirs, await this.initLayer()];
      await mountOverlay({ lowerDirs: layerDirs, upperDir: this.paths.upper(id), workDir: this.paths.work(id), target: this.paths.merged(id) });
      const rootfs = this.paths.merged(id);
      const db = await this.imageUserDb(image.id, rootfs);
      const user = resolveUser(merged.config.User, db.passwd, db.groups, hc.GroupAdd ?? []);
      if (merged.config.WorkingDir) {
        const wd = await resolveInRoot(rootfs, merged.config.WorkingDir);
        const st = await fs.stat(wd).catch(() => undefined);
        if (st && !st.isDirectory()) throw invalid(`Cannot mkdir: ${merged.config.WorkingDir} is not a directory`);
        if (!st) await fs.mkdir(wd, { recursive: true, mode: 0o755 });
      }
      const mounts = await resolveMounts(allPlanned, id, this.opts.volumes);
      volumesAcquired = mounts.filter((m) => m.volumeName).map((m) => m.volumeName!);
      for (const m of mounts) await copyUpVolume(rootfs, m);
      const tmpfs: Record<string, string[]> = {};
      for (const m of mounts) if (m.type === 'tmpfs') tmpfs[m.destination] = m.tmpfsOptions ?? [];

      const hostConfig = hostConfigWithDefaults(hc, networkMode, this.defaultRuntime);
      const rec: ContainerRecord = {
        Id: id,
        Created: new Date().toISOString(),
        Path: merged.path,
        Args: merged.args,
        Config: merged.config,
        HostConfig: hostConfig,
        NetworkingConfig: { EndpointsConfig: endpoints },
        Image: image.id,
        Name: name,
        RestartCount: 0,
        State: initialState(),
        NetworkSettings: { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, Networks: {} },
        Mounts: mounts.map(mountPointOf),
        LogPath: this.paths.log(id),
        ResolvConfPath: this.paths.resolvConf(id),
        HostnamePath: this.paths.hostname(id),
        HostsPath: this.paths.hosts(id),
        shoal: {
          runtime,
          imageRef: req.Image,
          layerDirs,
          manuallyStopped: false,
          hasBeenStarted: false,
          volumes: mounts.filter((m) => m.volumeName).map((m) => ({ name: m.volumeName!, anonymous: !!m.anonymous })),
          tmpfs,
          user,
          ...(hc.CgroupParent ? { cgroupPath: `/${hc.CgroupParent.replace(/^\/+|\/+$/g, '')}/${id}` } : {}),
        },
      };
      await Promise.all([rec.HostsPath, rec.ResolvConfPath, rec.HostnamePath].map((f) => fs.writeFile(f, '', { mode: 0o644 })));
      await this.store.save(rec); // the container exists from here on
      this.byId.set(id, this.live(rec));
      this.emit(rec, 'create');
      return { Id: id, Warnings: warnings };
    } catch (e) {
      this.names.delete(name);
      await this.removeContainerDir(id);
      if (volumesAcquired.length) await this.opts.volumes.release(id, volumesAcquired, true).catch(() => undefined);
      throw e;
    }
  }

  /** --volumes-from: the volumes and binds of other containers (ro, rw, or as they had them). */
  private volumesFrom(hc: Partial<ContainerRecord['HostConfig']>): PlannedMount[] {
    const out: PlannedMount[] = [];
    for (const spec of hc.VolumesFrom ?? []) {
      const [ref, mode] = spec.split(':');
      if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid(`invalid mode for --volumes-from: ${spec}`);
      for (const m of this.must(ref).rec.Mounts) {
        if (m.Type === 'tmpfs') continue;
        const ro = mode === 'ro' || (mode === undefined && !m.RW);
        out.push(parseBind(`${m.Type === 'volume' ? m.Name : m.Source}:${m.Destination}${ro ? ':ro' : ''}`));
      }
    }
    return out;
  }

  private live(rec: ContainerRecord): Live {
    return { rec, lock: new Mutex(), exitWaiters: [], removeWaiters: [], pendingAttach: new Set(), suppressRestart: false, removing: false, lastBackoffMs: 0, startedAtMs: 0 };
  }

  /**
   * /etc/passwd and /etc/group as seen in `rootfs`, read side by side. `complete` unless a read
   * failed otherwise than by the file not being there.
   */
  private async userDb(rootfs: string): Promise<UserDb> {
    let complete = true;
    const read = async (path: string) =>
      fs.readFile(await resolveInRoot(rootfs, path), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') complete = false;
        return '';
      });
    const [passwd, group] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
    return { passwd: parsePasswd(passwd), groups: parseGroup(group), complete };
  }

  /**
   * The user database of a new container's root filesystem, kept per image: an image's layers
   * never change, a new upper layer is empty and the init layer holds neither file, so every
   * container of the image reads the same two files. Replicas of one service skip the reads.
   */
  private async imageUserDb(imageId: string, rootfs: string): Promise<UserDb> {
    const known = this.userDbs.get(imageId);
    if (known) return known;
    const db = await this.userDb(rootfs);
    if (db.complete) {
      if (this.userDbs.size >= 32) this.userDbs.delete(this.userDbs.keys().next().value!);
      this.userDbs.set(imageId, db);
    }
    return db;
  }

  private async lookupUser(rootfs: string, spec: string, groupAdd: string[]): Promise<ResolvedUser> {
    const db = await this.userDb(rootfs);
    return resolveUser(spec, db.passwd, db.groups, groupAdd);
  }

  private resolveUserIn(r: ContainerRecord, spec: string): Promise<ResolvedUser> {
    return this.lookupUser(this.paths.merged(r.Id), spec, r.HostConfig.GroupAdd ?? []);
  }

  // ---------------------------------------------------------------- start

  async start(ref: string): Promise<'started' | 'already'> {
    const c = this.must(ref);
    return c.lock.run(async () => {
      if (c.removing) throw conflict(`container ${c.rec.Id} is marked for removal and cannot be started`);
      if (c.rec.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
      if (c.rec.State.Running && !c.rec.State.Restarting) return 'already';
      if (c.restartTimer) {
        clearTimeout(c.restartTimer);
        c.restartTimer = undefined;
      }
      c.suppressRestart = false;
      c.lastBackoffMs = 0;
      await this.doStart(c);
      return 'started';
    });
  }

  /**
   * The shared init layer, made once per data root. It is built aside and renamed into place:
   * a lower layer must never change under a mounted overlay, so a complete one is never rewritten.
   */
  private initLayer(): Promise<string> {
    this.sharedInit ??= (async () => {
      const dir = this.paths.sharedInit;
      if (await exists(dir)) return dir;
      const tmp = `${dir}.${process.pid}.tmp`;
      await fs.rm(tmp, { recursive: true, force: true });
      await prepareInitLayer(tmp);
      await fs.rename(tmp, dir);
      return dir;
    })().catch((e) => {
      this.sharedInit = undefined;
      throw e;
    });
    return this.sharedInit;
  }

  private async ensureRootfs(r: ContainerRecord): Promise<void> {
    const target = this.paths.merged(r.Id);
    if (await isOverlayMounted(target)) return;
    await mountOverlay({ lowerDirs: r.shoal.layerDirs, upperDir: this.paths.upper(r.Id), workDir: this.paths.work(r.Id), target });
  }

  /** The namespace of another (running) container, for IpcMode/PidMode container:<id>. */
  private joinNamespace(mode: string | undefined, ns: 'ipc' | 'pid' | 'net'): NamespaceMode | undefined {
    if (!mode?.startsWith('container:')) return undefined;
    const other = this.find(mode.slice('container:'.length));
    if (!other || !other.rec.State.Running || !other.rec.State.Pid) throw conflict(`cannot join the ${ns} namespace of a non running container: ${mode.slice(10)}`);
    return { mode: 'path', path: `/proc/${other.rec.State.Pid}/ns/${ns}` };
  }

  private networkRequest(r: ContainerRecord): NetworkSetupRequest {
    const hc = r.HostConfig;
    return {
      containerId: r.Id,
      name: r.Name.slice(1),
      hostname: r.Config.Hostname,
      networkMode: hc.NetworkMode || 'default',
      endpointsConfig: r.NetworkingConfig?.EndpointsConfig ?? {},
      portBindings: hc.PortBindings ?? {},
      publishAll: hc.PublishAllPorts,
      exposedPorts: Object.keys(r.Config.ExposedPorts ?? {}),
      dns: hc.Dns ?? [],
      dnsSearch: hc.DnsSearch ?? [],
      dnsOptions: hc.DnsOptions ?? [],
      extraHosts: hc.ExtraHosts ?? [],
    };
  }

  /**
   * connect/disconnect changed a container's networks: record them for inspect and, while it
   * runs, rewrite its /etc/hosts and resolv.conf. In place, not by rename: they are bind-mounted
   * files, and the container would keep seeing the old inode.
   */
  async networksChanged(ref: string, net: NetworkSetupResult): Promise<void> {
    const c = this.must(ref);
    await c.lock.run(async () => {
      const r = c.rec;
      r.NetworkSettings = { ...r.NetworkSettings, Networks: net.networks, ...(r.State.Running ? { Ports: net.ports } : {}) };
      if (r.State.Running) {
        await fs.writeFile(r.HostsPath, net.hosts);
        await fs.writeFile(r.ResolvConfPath, net.resolvConf);
      }
      await this.save(c);
    });
  }

  /** Network for a start (container:<id> modes included: the networking module joins that netns). */
  private async setupNetwork(r: ContainerRecord): Promise<NetworkSetupResult> {
    return this.opts.networking.setup(this.networkRequest(r));
  }

  /**
   * Free the network of a container that stopped. A networking module that can keep a stopped
   * container's attachments (release) does so; otherwise it forgets them (teardown).
   */
  private async releaseNetwork(r: ContainerRecord): Promise<void> {
    const n = this.opts.networking as ContainerNetworking & { release?: (id: string) => Promise<void> };
    await (n.release ? n.release(r.Id) : n.teardown(r.Id)).catch((err) => this.log.warn({ err, id: r.Id }, 'network release failed'));
  }

  private async teardownNetwork(r: ContainerRecord): Promise<void> {
    await this.opts.networking.teardown(r.Id).catch((err) => this.log.warn({ err, id: r.Id }, 'network teardown failed'));
  }

  private async resolveDevices(r: ContainerRecord): Promise<Array<{ path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number; permissions: string }>> {
    const out = [];
    for (const d of r.HostConfig.Devices ?? []) {
      const st = await fs.stat(d.PathOnHost).catch(() => undefined);
      if (!st || (!st.isCharacterDevice() && !st.isBlockDevice())) throw invalid(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
      const rdev = st.rdev;
      out.push({
        path: d.PathInContainer || d.PathOnHost,
        type: st.isCharacterDevice() ? ('c' as const) : ('b' as const),
        major: Math.floor(rdev / 256) & 0xfff,
        minor: (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00) >>> 0),
        fileMode: st.mode & 0o777,
        uid: 0,
        gid: 0,
        permissions: d.CgroupPermissions || 'rwm',
      });
    }
    return out;
  }

  /** Bring a container up (lock held): network, runtime config, conmon + runtime create, attach, start. */
  private async doStart(c: Live): Promise<void> {
    const r = c.rec;
    const id = r.Id;
    const rt = this.runtimeFor(r);
    const bundle = this.paths.bundle(id);
    let pidNum = 0;
    let net: NetworkSetupResult | undefined;
    try {
      const ipc = this.joinNamespace(r.HostConfig.IpcMode, 'ipc');
      const pid = this.joinNamespace(r.HostConfig.PidMode, 'pid');
      const devices = await this.resolveDevices(r);
      // The network and the root filesystem and bundle are independent: made side by side, and
      // both settled before going on, so a failure of one never leaves the other's work unknown.
      const [netDone, prepared] = await Promise.allSettled([
        this.setupNetwork(r),
        Promise.all([
          this.ensureRootfs(r),
          rt.delete(id, true).catch(() => undefined), // state left by a crash
          fs.rm(bundle, { recursive: true, force: true }).then(() => fs.mkdir(bundle, { recursive: true, mode: 0o700 })),
        ]),
      ]);
      if (netDone.status === 'fulfilled') net = netDone.value;
      if (prepared.status === 'rejected') throw prepared.reason;
      if (!net) throw (netDone as PromiseRejectedResult).reason;
      const spec = buildOciSpec(
        specInputFor(r, {
          rootfs: this.paths.merged(id),
          cgroupsPath: this.cgroupOf(r),
          files: { hosts: r.HostsPath, resolvConf: r.ResolvConfPath, hostname: r.HostnamePath },
          network: net,
          ipc,
          pid,
          availableCaps: this.facts.capabilities,
          nofileHard: this.facts.nofileHard,
          devices,
        }),
      );
      this.seccomp.annotate(spec, rt);
      await Promise.all([
        writeFileAtomic(r.HostsPath, net.hosts),
        writeFileAtomic(r.ResolvConfPath, net.resolvConf),
        writeFileAtomic(r.HostnamePath, `${r.Config.Hostname}\n`),
        writeJsonAtomic(join(bundle, 'config.json'), spec),
      ]);
      const created = await conmonCreate(this.conmonPaths, {
        id,
        cuuid: cuuidOf(id),
        name: r.Name.slice(1),
        runtime: rt,
        bundle,
        logPath: r.LogPath,
        stdin: r.Config.OpenStdin,
        leaveStdinOpen: r.Config.OpenStdin && !r.Config.StdinOnce,
        terminal: r.Config.Tty,
      });
      pidNum = created.pid;
      r.shoal.conmonPid = created.conmonPid;
      await this.seccomp.learn(spec, rt, id);
      // Attach clients that came before start get every byte: they connect before the process runs.
      for (const s of c.pendingAttach) {
        await s.connect(this.paths.attachSocket(cuuidOf(id))).catch((err) => this.log.warn({ err, id }, 'attach before start failed'));
      }
      c.pendingAttach.clear();
      await rt.start(id);
    } catch (e) {
      await rt.delete(id, true).catch(() => undefined);
      await cgroups.removeCgroup(this.cgroupOf(r)).catch(() => undefined);
      if (net) await this.releaseNetwork(r);
      for (const s of c.pendingAttach) s.end();
      c.pendingAttach.clear();
      if (e instanceof RuntimeCreateError) {
        const f = classifyStartFailure(e.runtimeMessage);
        r.State = { ...r.State, ExitCode: f.exitCode, Error: f.message };
        await this.save(c);
        this.log.info({ id, err: f.message }, 'container failed to start');
        if (r.HostConfig.AutoRemove) await this.destroy(c, true);
        throw f.error;
      }
      r.State = { ...r.State, ExitCode: 128, Error: errorMessage(e) };
      await this.save(c);
      if (r.HostConfig.AutoRemove) await this.destroy(c, true);
      throw isShoalError(e) ? e : internal(`cannot start container ${id}: ${errorMessage(e)}`, e);
    }
    const now = new Date().toISOString();
    r.State = { ...withStatus(r.State, 'running'), Pid: pidNum, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: now, Health: undefined };
    const check = probeCommand(r.Config.Healthcheck, r.Config.Shell ?? undefined);
    if (check) r.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const up = net!;
    r.NetworkSettings = { ...r.NetworkSettings, Networks: up.networks, Ports: up.ports, SandboxKey: up.netnsPath ?? '', SandboxID: up.netnsPath ? shortId(id) : '' };
    r.shoal.hasBeenStarted = true;
    r.shoal.manuallyStopped = false;
    c.startedAtMs = Date.now();
    await this.save(c);
    this.emit(r, 'start');
    this.startHealth(c);
    // A process fast enough to be gone already: its exit file is there.
    void this.checkExit(c);
  }

  private startHealth(c: Live): void {
    void c.health?.stop();
    c.health = undefined;
    const r = c.rec;
    const cmd = probeCommand(r.Config.Healthcheck, r.Config.Shell ?? undefined);
    if (!cmd || !r.Config.Healthcheck) return;
    const rt = this.runtimeFor(r);
    c.health = new HealthMonitor(r.Config.Healthcheck, cmd, {
      dir: this.paths.bundle(r.Id),
      execCollect: (file, pidFile, timeout, signal) => rt.execCollect(r.Id, file, pidFile, timeout, 4096, signal),
      process: (args) =>
        buildExecProcess({
          args,
          env: processEnv({ env: r.Config.Env, hostname: r.Config.Hostname, tty: false, home: r.shoal.user.home }),
          cwd: r.Config.WorkingDir || '/',
          user: r.shoal.user,
          terminal: false,
          capabilities: computeCapabilities({ capAdd: r.HostConfig.CapAdd, capDrop: r.HostConfig.CapDrop, privileged: r.HostConfig.Privileged, available: this.facts.capabilities }),
          rlimits: rlimitsFor(r.HostConfig.Ulimits, this.facts.nofileHard),
        }),
      state: () => (c.rec.State.Running ? c.rec.State.Health : undefined),
      update: async (h: HealthState, changed: boolean) => {
        if (!c.rec.State.Running || c.removing) return;
        c.rec.State.Health = h;
        if (changed) this.emit(c.rec, `health_status: ${h.Status}`);
        await this.save(c);
      },
    });
    c.health.start();
  }

  // ---------------------------------------------------------------- exits

  /** Look for a container's exit (exit file, or a monitor that died); handle it once. */
  private checkExit(c: Live): Promise<void> {
    if (c.exitCheck) {
      // A check is under way and may already have looked: look again once it settles, so an
      // exit reported meanwhile is not left to the periodic resync.
      c.recheck = true;
      return c.exitCheck;
    }
    // Clear the slot only once the check settles: an early return runs synchronously, and a
    // `finally` inside would clear it before the assignment, leaving a settled promise there
    // that every later check (the watch, the periodic resync) would return without looking.
    c.recheck = false;
    const check: Promise<void> = this.lookForExit(c).finally(() => {
      if (c.exitCheck !== check) return;
      c.exitCheck = undefined;
      if (c.recheck) void this.checkExit(c);
    });
    c.exitCheck = check;
    return check;
  }

  private async lookForExit(c: Live): Promise<void> {
    try {
      const r = c.rec;
      if (!r.State.Running || r.State.Restarting) return;
      const file = this.paths.exitFile(r.Id);
      let code: number | undefined;
      let error = '';
      const text = tryReadSmallFile(file); // conmon writes it by rename: never half
      if (text !== undefined) code = parseExitFile(text);
      else if (r.shoal.conmonPid && !processAlive(r.shoal.conmonPid)) {
        // conmon writes the exit file before it exits; look once more, then call it lost.
        const again = tryReadSmallFile(file);
        if (again !== undefined) code = parseExitFile(again);
        else {
          const st = await this.runtimeFor(r).state(r.Id).catch(() => undefined);
          if (st && (st.status === 'running' || st.status === 'paused')) return;
          code = 255;
          error = 'the container monitor (conmon) exited without recording the exit code';
        }
      }
      if (code === undefined) return;
      await c.lock.run(() => this.handleExit(c, code!, error));
    } catch (err) {
      this.log.error({ err, id: c.rec.Id }, 'exit handling failed');
    }
  }

  /** Record an exit (lock held): state, events, waiters, then restart policy or auto-remove. */
  private async handleExit(c: Live, code: number, error = ''): Promise<void> {
    const r = c.rec;
    if (!r.State.Running || r.State.Restarting) return;
    const id = r.Id;
    await c.health?.stop();
    c.health = undefined;
    // The runtime and the network clean-ups and conmon's files are independent: side by side.
    // The OOM check reads the cgroup, so the runtime's clean-up waits for it.
    const [oom] = await Promise.all([
      this.oomKilled(r).then(async (killed) => {
        await this.releaseRuntime(r).catch((err) => this.log.warn({ err, id }, 'runtime clean-up failed'));
        return killed;
      }),
      this.releaseNetwork(r),
      removeFile(this.paths.exitFile(id)),
      removeFile(join(this.paths.sockets, cuuidOf(id))),
    ]);
    const ranFor = c.startedAtMs ? Date.now() - c.startedAtMs : Date.now() - Date.parse(r.State.StartedAt);
    r.State = { ...withStatus(r.State, 'exited'), Pid: 0, ExitCode: code, Error: error, OOMKilled: oom, FinishedAt: new Date().toISOString() };
    r.NetworkSettings = { ...r.NetworkSettings, Ports: {}, SandboxKey: '', SandboxID: '', Networks: Object.fromEntries(Object.entries(r.NetworkSettings.Networks ?? {}).map(([k, v]) => [k, { ...v, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', EndpointID: '' }])) };
    r.shoal.conmonPid = undefined;
    await this.save(c);
    if (oom) this.emit(r, 'oom');
    this.emit(r, 'die', { exitCode: String(code), execDuration: String(Math.floor(ranFor / 1000)) });
    for (const w of c.exitWaiters.splice(0)) w(code);
    for (const s of c.pendingAttach) s.end();

    if (c.removing) return;
    const d = decideRestart({ policy: r.HostConfig.RestartPolicy, exitCode: code, restartCount: r.RestartCount, stoppedByUser: c.suppressRestart, ranForMs: ranFor, lastBackoffMs: c.lastBackoffMs, daemonShuttingDown: this.closing });
    c.suppressRestart = false;
    if (d.restart) {
      c.lastBackoffMs = d.delayMs;
      r.RestartCount += 1;
      r.State = withStatus(r.State, 'restarting');
      await this.save(c);
      c.restartTimer = setTimeout(() => {
        c.restartTimer = undefined;
        void c.lock
          .run(async () => {
            if (c.removing || this.closing || r.State.Status !== 'restarting') return;
            await this.doStart(c);
          })
          .catch(async (err) => {
            this.log.warn({ err, id }, 'restart failed');
            await c.lock.run(async () => {
              if (r.State.Status === 'restarting') {
                r.State = withStatus(r.State, 'exited');
                await this.save(c);
              }
            });
          });
      }, d.delayMs);
      return;
    }
    if (r.HostConfig.AutoRemove) await this.destroy(c, true);
  }

  /** Whether the container's exit was the OOM killer's: conmon's marker, or the memory cgroup's count. */
  private async oomKilled(r: ContainerRecord): Promise<boolean> {
    const [marker, cgroup] = await Promise.all([exists(join(this.paths.bundle(r.Id), 'oom')), cgroups.oomKilled(this.cgroupOf(r)).catch(() => false)]);
    return marker || cgroup;
  }

  /**
   * After an exit: free the cgroups and the runtime's state. With its init gone, a container
   * in its own pid namespace has no process left (the kernel reaps the namespace before the
   * init's exit is reported), so the cgroups go and the runtime's state directory with them;
   * otherwise (host or shared pid namespace) `delete --force` kills what is left first.
   */
  private async releaseRuntime(r: ContainerRecord): Promise<void> {
    const rt = this.runtimeFor(r);
    const cg = this.cgroupOf(r);
    if (!r.HostConfig.PidMode && (await cgroups.cgroupEmpty(cg))) {
      await Promise.all([cgroups.removeCgroup(cg), rt.forgetStopped(r.Id)]);
      return;
    }
    await rt.delete(r.Id, true).catch((err) => this.log.warn({ err, id: r.Id }, 'runtime delete failed'));
    await cgroups.removeCgroup(cg);
  }

  /** Resolves true when the container is not running, false after `timeoutMs` (undefined: forever). */
  private waitNotRunning(c: Live, timeoutMs?: number): Promise<boolean> {
    if (!c.rec.State.Running || c.rec.State.Restarting) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const w = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      c.exitWaiters.push(w);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = c.exitWaiters.indexOf(w);
          if (i >= 0) c.exitWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
      }
      // The exit may already be on disk.
      void this.checkExit(c);
    });
  }

  // ---------------------------------------------------------------- stop, kill, restart, pause

  private stopSignal(r: ContainerRecord, override?: string): number {
    if (override) {
      const s = parseSignal(override);
      if (s === undefined) throw invalid(`Invalid signal: ${override}`);
      return s;
    }
    return (r.Config.StopSignal && parseSignal(r.Config.StopSignal)) || 15;
  }

  /** Stop: the stop signal, then SIGKILL after the grace period. 'already' when not running. */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'already'> {
    const c = this.must(ref);
    const r = c.rec;
    const sig = this.stopSignal(r, opts.signal);
    if (r.State.Restarting) {
      await c.lock.run(async () => {
        if (c.restartTimer) clearTimeout(c.restartTimer);
        c.restartTimer = undefined;
        r.State = withStatus(r.State, 'exited');
        r.shoal.manuallyStopped = true;
        await this.save(c);
      });
      this.emit(r, 'stop');
      return 'stopped';
    }
    if (!r.State.Running) return 'already';
    c.suppressRestart = true;
    r.shoal.manuallyStopped = true;
    await this.save(c);
    const timeoutS = opts.timeout ?? r.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const rt = this.runtimeFor(r);
    if (r.State.Paused) await this.resumeQuietly(c);
    await rt.kill(r.Id, sig).catch((err) => this.log.debug({ err, id: r.Id }, 'stop signal not delivered'));
    this.emit(r, 'kill', { signal: String(sig) });
    const graceful = timeoutS < 0 ? await this.waitNotRunning(c) : await this.waitNotRunning(c, timeoutS * 1000);
    if (!graceful) {
      await rt.kill(r.Id, 9).catch(() => undefined);
      this.emit(r, 'kill', { signal: '9' });
      if (!(await this.waitNotRunning(c, 30_000))) throw internal(`container ${r.Id} did not exit after SIGKILL`);
    }
    this.emit(r, 'stop');
    return 'stopped';
  }

  private async resumeQuietly(c: Live): Promise<void> {
    await this.runtimeFor(c.rec).resume(c.rec.Id).catch(() => undefined);
    c.rec.State = withStatus(c.rec.State, 'running');
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.must(ref);
    const r = c.rec;
    const sig = signal ? parseSignal(signal) : 9;
    if (sig === undefined) throw invalid(`Invalid signal: ${signal}`);
    if (!r.State.Running || r.State.Restarting) throw conflict(`Cannot kill container: ${r.Id}: Container ${r.Id} is not running`);
    if (r.State.Paused && sig !== 9) throw conflict(`Cannot kill container: ${r.Id}: Container ${r.Id} is paused. Unpause the container before stopping or killing`);
    // Killing with the stop signal (or SIGKILL) means "stop": no restart policy for this exit.
    if (sig === 9 || sig === this.stopSignal(r)) c.suppressRestart = true;
    if (r.State.Paused) await this.resumeQuietly(c);
    await this.runtimeFor(r).kill(r.Id, sig).catch((err) => {
      throw conflict(`Cannot kill container: ${r.Id}: ${errorMessage(err)}`);
    });
    this.emit(r, 'kill', { signal: String(sig) });
    if (sig === 9) await this.waitNotRunning(c, 10_000);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.must(ref);
    await this.stop(ref, opts);
    await this.start(c.rec.Id);
    this.emit(c.rec, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const c = this.must(ref);
    await c.lock.run(async () => {
      const r = c.rec;
      if (!r.State.Running || r.State.Restarting) throw conflict(`Container ${r.Id} is not running`);
      if (r.State.Paused) throw conflict(`Container ${r.Id} is already paused`);
      await this.runtimeFor(r).pause(r.Id);
      await cgroups.waitFrozen(this.cgroupOf(r));
      r.State = withStatus(r.State, 'paused');
      await this.save(c);
      this.emit(r, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.must(ref);
    await c.lock.run(async () => {
      const r = c.rec;
      if (!r.State.Paused) throw conflict(`Container ${r.Id} is not paused`);
      await this.runtimeFor(r).resume(r.Id);
      r.State = withStatus(r.State, 'running');
      await this.save(c);
      this.emit(r, 'unpause');
    });
  }

  // ---------------------------------------------------------------- wait, remove

  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<WaitResult> {
    const c = this.must(ref);
    const result = (code: number): WaitResult => ({ StatusCode: code, ...(c.rec.State.Error ? { Error: { Message: c.rec.State.Error } } : {}) });
    if (condition === 'not-running' && (!c.rec.State.Running || c.rec.State.Restarting)) {
      return result(c.rec.State.ExitCode);
    }
    return new Promise<WaitResult>((resolve, reject) => {
      const list = condition === 'removed' ? c.removeWaiters : c.exitWaiters;
      const w = (code: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(result(code));
      };
      const onAbort = () => {
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
        reject(new ShoalError('CANCELLED', 'wait cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      list.push(w);
    });
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.must(ref);
    const r = c.rec;
    if (c.removing) throw conflict(`removal of container ${r.Id} is already in progress`);
    if (r.State.Running && !r.State.Restarting && !opts.force) {
      throw conflict(`cannot remove container "${r.Name}": container is ${r.State.Paused ? 'paused' : 'running'}: stop the container before removing or force remove`);
    }
    c.removing = true;
    try {
      if (c.restartTimer) clearTimeout(c.restartTimer);
      c.restartTimer = undefined;
      if (r.State.Running && !r.State.Restarting) {
        c.suppressRestart = true;
        if (r.State.Paused) await this.resumeQuietly(c);
        await this.runtimeFor(r).kill(r.Id, 9).catch(() => undefined);
        if (!(await this.waitNotRunning(c, 30_000))) throw internal(`could not kill running container ${r.Id}, cannot remove`);
      }
      await c.lock.run(() => this.destroy(c, !!opts.volumes));
    } catch (e) {
      if (this.byId.has(r.Id)) c.removing = false;
      throw e;
    }
  }

  /**
   * Free everything a container holds (lock held): the record first, then, side by side, its
   * runtime state and cgroups, its network and its volumes; its directory moves to the trash.
   * Unmounting its root filesystem and deleting its files (upper layer, bundle) waits for no one:
   * nothing reaches them once the record is gone (a new container gets a new ID), close() waits
   * for them, and what a crash leaves is swept by the next open.
   */
  private async destroy(c: Live, removeVolumes: boolean): Promise<void> {
    const r = c.rec;
    const id = r.Id;
    if (!this.byId.has(id)) return;
    c.removing = true;
    await c.health?.stop();
    c.health = undefined;
    r.State = withStatus(r.State, 'removing');
    await this.store.delete(id);
    this.byId.delete(id);
    if (this.names.get(r.Name) === id) this.names.delete(r.Name);
    await Promise.all([
      this.runtimeFor(r)
        .delete(id, true)
        .catch((err) => this.log.warn({ err, id }, 'runtime delete failed'))
        .then(() => cgroups.removeCgroup(this.cgroupOf(r)))
        .catch((err) => this.log.warn({ err, id }, 'cgroup removal failed')),
      this.teardownNetwork(r),
      r.shoal.volumes.length ? this.opts.volumes.release(id, r.shoal.volumes.map((v) => v.name), removeVolumes).catch((err) => this.log.warn({ err, id }, 'volume release failed')) : undefined,
    ]);
    this.execs.forget(id);
    for (const s of c.pendingAttach) s.end();
    c.pendingAttach.clear();
    for (const w of c.removeWaiters.splice(0)) w(r.State.ExitCode);
    for (const w of c.exitWaiters.splice(0)) w(r.State.ExitCode);
    this.emit(r, 'destroy');
    const trashed = await this.retireContainerDir(id);
    this.background('deleting the files of a removed container', id, async () => {
      await Promise.all([
        trashed ? this.removeDir(trashed, id) : undefined,
        fs.rm(this.paths.bundle(id), { recursive: true, force: true }),
        removeFile(this.paths.exitFile(id)),
        removeFile(join(this.paths.sockets, cuuidOf(id))),
      ]);
    });
  }

  // ---------------------------------------------------------------- logs, attach, resize

  /** The container's log; with `follow`, until it stops. */
  logs(ref: string, q: { follow?: boolean; stdout?: boolean; stderr?: boolean; since?: string; until?: string; tail?: string; signal?: AbortSignal }): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.must(ref);
    const stdout = q.stdout ?? false;
    const stderr = q.stderr ?? false;
    if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
    const sinceNs = parseUnixNs(q.since, 'since');
    const untilNs = parseUnixNs(q.until, 'until');
    const tail = parseTail(q.tail);
    const running = c.rec.State.Running && !c.rec.State.Restarting;
    const follow = !!q.follow && running;
    const stopped = follow ? this.waitNotRunning(c) : Promise.resolve(true);
    return { tty: c.rec.Config.Tty, entries: readLog(c.rec.LogPath, { stdout, stderr, sinceNs, untilNs, tail, follow, stopped, signal: q.signal }) };
  }

  /**
   * Attach to a container's stdio. A running container is attached at once; a created or
   * stopped one when it next starts, before its process runs (docker run attaches first).
   */
  async attach(ref: string, opts: AttachOptions): Promise<AttachSession> {
    const c = this.must(ref);
    const r = c.rec;
    const session = new AttachSession(r.Config.Tty, { ...opts, stdin: opts.stdin && r.Config.OpenStdin });
    if (opts.logs) {
      for await (const e of readLog(r.LogPath, { stdout: opts.stdout, stderr: opts.stderr, follow: false })) session.push({ stream: e.stream, data: e.data } as OutputChunk);
    }
    if (!opts.stream) {
      session.end();
      return session;
    }
    this.emit(r, 'attach');
    await c.lock.run(async () => {
      if (r.State.Running && !r.State.Restarting) {
        await session.connect(this.paths.attachSocket(cuuidOf(r.Id)));
      } else {
        c.pendingAttach.add(session);
        session.onClose(() => c.pendingAttach.delete(session));
      }
    });
    return session;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.must(ref);
    if (!c.rec.State.Running) throw conflict(`Container ${c.rec.Id} is not running`);
    if (!c.rec.Config.Tty) return;
    await resizeTerminal(this.paths.bundle(c.rec.Id), height, width);
    this.emit(c.rec, 'resize', { height: String(height), width: String(width) });
  }

  // ---------------------------------------------------------------- exec

  execCreate(ref: string, cfg: ExecConfig): { Id: string } {
    return { Id: this.execs.create(ref, cfg).id };
  }

  execStart(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }): Promise<AttachSession | undefined> {
    return this.execs.start(id, opts);
  }

  execInspect(id: string): Record<string, unknown> {
    return this.execs.inspect(id);
  }

  execResize(id: string, height: number, width: number): Promise<void> {
    return this.execs.resize(id, height, width);
  }

  /** Check an exec exists (before hijacking the connection). */
  execExists(id: string): void {
    this.execs.get(id);
  }

  // ---------------------------------------------------------------- commit, rename, top, prune

  async commit(ref: string, o: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: Partial<ContainerConfig> }): Promise<{ Id: string }> {
    const c = this.must(ref);
    const r = c.rec;
    let tags: string[] = [];
    if (o.repo) {
      if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(o.repo.replace(/^([a-zA-Z0-9.-]+(?::\d+)?)\//, (m) => m.toLowerCase()))) {
        throw invalid(`invalid reference format: repository name (${o.repo}) must be lowercase`);
      }
      if (o.tag && !/^[\w][\w.-]{0,127}$/.test(o.tag)) throw invalid(`invalid tag format: ${o.tag}`);
      tags = [`${o.repo}:${o.tag || 'latest'}`];
    } else if (o.tag) throw invalid('cannot tag a commit without a repository name');
    const config = applyChanges(commitConfig(r.Config, o.config), o.changes ?? []);
    const pause = (o.pause ?? true) && r.State.Running && !r.State.Paused && !r.State.Restarting;
    const rt = this.runtimeFor(r);
    if (pause) await rt.pause(r.Id);
    let imageId: string;
    try {
      imageId = await this.opts.images.commitUpperDir({
        upperDir: this.paths.upper(r.Id),
        parentImageId: r.Image,
        config,
        createdBy: [r.Path, ...r.Args].join(' '),
        comment: o.comment,
        author: o.author,
        tags,
      });
    } finally {
      if (pause) await rt.resume(r.Id).catch((err) => this.log.warn({ err, id: r.Id }, 'resume after commit failed'));
    }
    this.emit(r, 'commit', { comment: o.comment ?? '', imageID: imageId, imageRef: tags[0] ?? '' });
    return { Id: imageId };
  }

  /**
   * docker update: new limits (applied at once to a running container through the runtime)
   * and a new restart policy. Zero values leave a field as it is, as in dockerd.
   */
  async update(ref: string, body: unknown): Promise<{ Warnings: string[] }> {
    const u = checkUpdateTypes(body);
    const c = this.must(ref);
    return c.lock.run(async () => {
      const r = c.rec;
      const next = { ...r.HostConfig };
      for (const k of UPDATABLE) {
        const v = u[k];
        if (k === 'RestartPolicy') continue;
        if (v !== undefined && v !== null && v !== 0 && v !== '') (next as Record<string, unknown>)[k] = v;
      }
      if (u.NanoCpus) {
        next.CpuPeriod = 0;
        next.CpuQuota = 0;
      } else if (u.CpuQuota || u.CpuPeriod) next.NanoCpus = 0;
      if (u.Memory && !u.MemorySwap && r.HostConfig.MemorySwap > 0 && r.HostConfig.MemorySwap < u.Memory) next.MemorySwap = 0;
      if (u.RestartPolicy && u.RestartPolicy.Name) {
        if (r.HostConfig.AutoRemove && u.RestartPolicy.Name !== 'no') throw invalid('Restart policy cannot be updated because AutoRemove is enabled for the container');
        next.RestartPolicy = u.RestartPolicy;
      }
      const warnings = validateHostConfig(next, { ncpu: this.facts.ncpu, nofileHard: this.facts.nofileHard, swapAccounting: this.swapAccounting, runtimes: [...this.runtimes.keys()] });
      if (r.State.Running && !r.State.Restarting) {
        const spec = buildOciSpec(specInputFor({ ...r, HostConfig: next }, { rootfs: '', cgroupsPath: this.cgroupOf(r), files: { hosts: '', resolvConf: '', hostname: '' }, network: { hostNetwork: true, networks: {}, ports: {}, hosts: '', resolvConf: '' }, availableCaps: [], nofileHard: this.facts.nofileHard, devices: [] }));
        const { devices: _d, ...resources } = spec.linux.resources ?? {};
        const file = join(this.paths.bundle(r.Id), 'update.json');
        await writeJsonAtomic(file, resources);
        try {
          await this.runtimeFor(r).update(r.Id, file);
        } catch (e) {
          throw invalid(`Cannot update container ${r.Id}: ${errorMessage(e)}`);
        }
      }
      r.HostConfig = next;
      await this.save(c);
      this.emit(r, 'update');
      return { Warnings: warnings };
    });
  }

  /**
   * docker stats: samples from the cgroup. Streamed once a second until the container stops
   * or the signal aborts; otherwise one sample (after a second, so CPU use has a baseline,
   * unless `oneShot`).
   */
  stats(ref: string, o: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): AsyncIterable<StatsSample> {
    const c = this.must(ref);
    const sample = (previous?: StatsSample) => {
      const r = c.rec;
      return sampleStats({ id: r.Id, name: r.Name, cgroupPath: this.cgroupOf(r), pid: r.State.Pid, running: r.State.Running && !r.State.Restarting && !c.removing, ncpu: this.facts.ncpu, previous });
    };
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    return (async function* () {
      if (!o.stream) {
        const first = o.oneShot ? undefined : await sample();
        if (first) await pause(1000);
        yield await sample(first);
        return;
      }
      let prev: StatsSample | undefined;
      for (;;) {
        const s = await sample(prev);
        yield s;
        if (s.read === ZERO_TIME || o.signal?.aborted) return;
        prev = s;
        await pause(1000);
        if (o.signal?.aborted) return;
      }
    })();
  }

  // ---------------------------------------------------------------- docker cp

  /**
   * Where a container path is on the host, its parent's symlinks resolved inside the
   * container: through /proc/<pid>/root while it runs (every mount it has, tmpfs included),
   * else in its rootfs or the volume, bind or /etc file mounted there.
   */
  private async locate(c: Live, path: string, followLast = false): Promise<{ host: string; name: string; underMount: boolean }> {
    if (!path.startsWith('/')) throw invalid(`the path must be absolute: ${path}`);
    const r = c.rec;
    const clean = posix.normalize(path).replace(/(.)\/+$/, '$1');
    const name = clean === '/' ? '/' : posix.basename(clean);
    // The last component stays unresolved for stat and GET (a link is copied as a link), and
    // is resolved for PUT: under /proc/<pid>/root the kernel would follow an absolute link
    // to the host's root, not the container's.
    const within = async (root: string, rel: string) => {
      if (rel === '/' || rel === '') return root;
      if (followLast) return resolveInRoot(root, rel);
      return join(await resolveInRoot(root, posix.dirname(rel)), posix.basename(rel));
    };
    if (r.State.Running && !r.State.Restarting && r.State.Pid > 0) {
      return { host: await within(`/proc/${r.State.Pid}/root`, clean), name, underMount: false };
    }
    await this.ensureRootfs(r);
    const files = [
      { Destination: '/etc/hosts', Source: r.HostsPath, Type: 'bind' as const, RW: true },
      { Destination: '/etc/resolv.conf', Source: r.ResolvConfPath, Type: 'bind' as const, RW: true },
      { Destination: '/etc/hostname', Source: r.HostnamePath, Type: 'bind' as const, RW: true },
    ];
    const m = mountFor([...r.Mounts, ...files], clean);
    if (m) return { host: await within(m.source, m.rest), name, underMount: true };
    return { host: await within(this.paths.merged(r.Id), clean), name, underMount: false };
  }

  /** HEAD/GET archive: the stat of a container path (404 when missing). */
  async archiveStat(ref: string, path: string): Promise<PathStat> {
    const c = this.must(ref);
    const { host, name } = await this.locate(c, path);
    const st = await fs.lstat(host).catch(() => undefined);
    if (!st) throw notFound(`Could not find the file ${path} in container ${c.rec.Name.slice(1)}`);
    return { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget: st.isSymbolicLink() ? await fs.readlink(host) : '' };
  }

  /** GET archive: a tar of the path (the entry named as in the container) and its stat. */
  async archiveGet(ref: string, path: string): Promise<{ stat: PathStat; stream: NodeJS.ReadableStream }> {
    const c = this.must(ref);
    const stat = await this.archiveStat(ref, path);
    const { host } = await this.locate(c, path);
    const hostBase = basename(host);
    const renamed = stat.name !== '/' && hostBase !== stat.name;
    const stream = tar.c(
      {
        cwd: stat.name === '/' ? host : dirname(host),
        portable: false,
        follow: false,
        ...(renamed
          ? {
              onWriteEntry: (e: { path: string }) => {
                if (e.path === hostBase || e.path.startsWith(`${hostBase}/`)) e.path = stat.name + e.path.slice(hostBase.length);
              },
            }
          : {}),
      },
      [stat.name === '/' ? '.' : hostBase],
    );
    this.emit(c.rec, 'archive-path', { path });
    return { stat, stream: stream as unknown as NodeJS.ReadableStream };
  }

  /** PUT archive: extract a tar into a directory of the container. */
  async archivePut(ref: string, path: string, body: NodeJS.ReadableStream, o: { copyUIDGID?: boolean } = {}): Promise<void> {
    const c = this.must(ref);
    const { host, underMount } = await this.locate(c, path, true);
    const st = await fs.lstat(host).catch(() => undefined);
    if (!st) throw notFound(`Could not find the file ${path} in container ${c.rec.Name.slice(1)}`);
    if (!st.isDirectory()) throw invalid('extraction point is not a directory');
    if (c.rec.HostConfig.ReadonlyRootfs && !underMount && !(c.rec.State.Running && c.rec.Mounts.some((m) => path === m.Destination || path.startsWith(`${m.Destination}/`)))) {
      throw new ShoalError('PERMISSION_DENIED', 'container rootfs is marked read-only');
    }
    const warnings: string[] = [];
    await new Promise<void>((resolve, reject) => {
      // Without copyUIDGID the files belong to root, as docker cp makes them.
      const x = tar.x({ cwd: host, preserveOwner: !!o.copyUIDGID, ...(o.copyUIDGID ? {} : { uid: 0, gid: 0 }), onwarn: (_code: string, msg: string) => warnings.push(msg) });
      x.on('error', reject);
      x.on('close', () => resolve());
      body.on('error', reject);
      body.pipe(x as unknown as NodeJS.WritableStream);
    }).catch((e) => {
      throw invalid(`cannot extract the archive: ${errorMessage(e)}`);
    });
    if (warnings.length) this.log.debug({ id: c.rec.Id, warnings }, 'archive extraction warnings');
    this.emit(c.rec, 'extract-to-dir', { path });
  }

  /** docker diff: what the container's layer adds, changes and deletes. */
  async changes(ref: string): Promise<Change[]> {
    const r = this.must(ref).rec;
    const image = r.shoal.layerDirs.filter((d) => d !== this.paths.init(r.Id) && d !== this.paths.sharedInit);
    return containerChanges(this.paths.upper(r.Id), image);
  }

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.must(ref);
    const name = normalizeName(newName);
    const old = c.rec.Name;
    if (name === old) throw conflict(`Renaming a container with the same name as its current name`);
    const holder = this.names.get(name);
    if (holder) throw conflict(`Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    this.names.set(name, c.rec.Id);
    this.names.delete(old);
    c.rec.Name = name;
    await this.save(c);
    this.emit(c.rec, 'rename', { oldName: old });
  }

  async top(ref: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
    const c = this.must(ref);
    if (!c.rec.State.Running) throw conflict(`Container ${c.rec.Id} is not running`);
    const pids = new Set(await cgroups.cgroupPids(this.cgroupOf(c.rec)));
    const args = psArgs.split(/\s+/).filter(Boolean);
    if (args.some((a) => !/^[-\w,=%]+$/.test(a))) throw invalid(`invalid ps arguments: ${psArgs}`);
    const out = (await run('ps', args)).stdout.split('\n').filter((l) => l.trim());
    const titles = out[0].trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw invalid(`Couldn't find PID field in ps output`);
    const procs: string[][] = [];
    for (const line of out.slice(1)) {
      const f = line.trim().split(/\s+/);
      if (!pids.has(Number(f[pidCol]))) continue;
      procs.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
    }
    return { Titles: titles, Processes: procs };
  }

  async prune(filters: Map<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of filters.keys()) if (k !== 'until' && k !== 'label' && k !== 'label!') throw invalid(`invalid filter '${k}'`);
    const until = filters.get('until')?.[0];
    const untilMs = until ? (/^\d+(\.\d+)?$/.test(until) ? parseFloat(until) * 1000 : Date.parse(until)) : undefined;
    if (until && (untilMs === undefined || Number.isNaN(untilMs))) throw invalid(`invalid filter 'until=${until}'`);
    const deleted: string[] = [];
    let space = 0;
    for (const c of [...this.byId.values()]) {
      const r = c.rec;
      if (r.State.Running) continue;
      if (untilMs !== undefined && Date.parse(r.Created) >= untilMs) continue;
      const labels = r.Config.Labels ?? {};
      const labelOk = (v: string) => {
        const [k, val] = v.split('=', 2);
        return val === undefined ? k in labels : labels[k] === val;
      };
      if (!(filters.get('label') ?? []).every(labelOk)) continue;
      if ((filters.get('label!') ?? []).some(labelOk)) continue;
      const size = await dirSize(this.paths.upper(r.Id));
      try {
        await this.remove(r.Id, {});
        deleted.push(r.Id);
        space += size;
      } catch (err) {
        this.log.warn({ err, id: r.Id }, 'prune could not remove a container');
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  // ---------------------------------------------------------------- list, inspect, info

  async list(q: { all?: boolean; limit?: number; size?: boolean; filters?: Map<string, string[]> } = {}): Promise<Array<Record<string, unknown>>> {
    const filters = q.filters ?? new Map();
    validateListFilters(filters);
    const ancestors = new Set<string>();
    for (const a of filters.get('ancestor') ?? []) {
      try {
        ancestors.add((await this.opts.images.resolveForRun(a)).id);
      } catch {
        /* unknown image: matches nothing by ID */
      }
    }
    const ctx = { lookup: (ref: string) => this.find(ref)?.rec, ancestorImageIds: ancestors };
    const all = q.all || (q.limit ?? 0) > 0 || filters.has('status') || filters.has('exited');
    let recs = [...this.byId.values()].map((c) => c.rec).filter((r) => (all || r.State.Running) && matchesFilters(r, filters, ctx));
    recs.sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    if (q.limit && q.limit > 0) recs = recs.slice(0, q.limit);
    const now = Date.now();
    const out = [];
    for (const r of recs) out.push(summaryView(r, now, q.size ? await this.sizes(r) : undefined));
    return out;
  }

  private async sizes(r: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
    const rw = await dirSize(this.paths.upper(r.Id));
    let lower = 0;
    for (const d of r.shoal.layerDirs) lower += await dirSize(d);
    return { rw, rootFs: rw + lower };
  }

  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<Record<string, unknown>> {
    const r = this.must(ref).rec;
    const size = opts.size ? await this.sizes(r) : undefined;
    return inspectView(r, { execIds: this.execs.idsFor(r.Id), mergedDir: this.paths.merged(r.Id), upperDir: this.paths.upper(r.Id), workDir: this.paths.work(r.Id), sizeRw: size?.rw, sizeRootFs: size?.rootFs });
  }

  async info(): Promise<{ Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number }> {
    let running = 0;
    let paused = 0;
    let stopped = 0;
    for (const c of this.byId.values()) {
      if (c.rec.State.Paused) paused++;
      else if (c.rec.State.Running) running++;
      else stopped++;
    }
    return { Containers: this.byId.size, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: stopped };
  }

  /** Image ID -> IDs of containers using it (the image store refuses to remove those). */
  async imagesInUse(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const c of this.byId.values()) {
      const list = out.get(c.rec.Image) ?? [];
      list.push(c.rec.Id);
      out.set(c.rec.Image, list);
    }
    return out;
  }

  // ---------------------------------------------------------------- adoption

  /**
   * Take over what a previous daemon left: sweep half-made containers (directories without
   * records, runtime state, cgroups), adopt running ones (conmon still holds them), record
   * exits that happened while no daemon watched, and restart what the policies say.
   */
  private async adopt(): Promise<void> {
    const { records, orphans } = await this.store.scan();
    const known = new Set(records.map((r) => r.Id));
    for (const id of orphans) await this.sweep(id);
    for (const e of await fs.readdir(this.paths.bundles).catch(() => [])) if (!known.has(e)) await this.sweep(e);
    for (const rt of this.runtimes.values()) for (const id of await rt.list()) if (!known.has(id)) await rt.delete(id, true).catch(() => undefined);
    for (const id of await cgroups.childCgroups(this.opts.config.cgroupParent)) {
      if (!known.has(id)) await cgroups.removeCgroup(this.paths.cgroup(id)).catch((err) => this.log.warn({ err, id }, 'cannot remove leftover cgroup'));
    }
    for (const e of await fs.readdir(this.paths.sockets).catch(() => [])) {
      if (!records.some((r) => cuuidOf(r.Id) === e && r.State.Running)) await fs.rm(join(this.paths.sockets, e), { force: true });
    }
    for (const e of await fs.readdir(this.paths.exits).catch(() => [])) if (!known.has(e)) await fs.rm(join(this.paths.exits, e), { force: true });
    for (const e of await fs.readdir(this.paths.trash).catch(() => [])) this.background('deleting the files of a removed container', e, () => this.removeDir(join(this.paths.trash, e), e));

    for (const r of records) {
      this.byId.set(r.Id, this.live(r));
      this.names.set(r.Name, r.Id);
    }
    this.watcher = fsWatch(this.paths.exits, (_ev, file) => {
      const c = file ? this.byId.get(String(file)) : undefined;
      if (c) void this.checkExit(c);
    });
    this.watcher.on('error', (err) => this.log.warn({ err }, 'exit directory watch failed'));
    this.reconcileTimer = setInterval(() => {
      for (const c of this.byId.values()) if (c.rec.State.Running && !c.rec.State.Restarting) void this.checkExit(c);
    }, 2000);
    this.reconcileTimer.unref();

    const toStart: Live[] = [];
    for (const c of this.byId.values()) {
      const r = c.rec;
      try {
        await this.ensureRootfs(r);
        if (r.State.Restarting) {
          r.State = withStatus(r.State, 'exited');
          toStart.push(c);
          continue;
        }
        if (r.State.Running) {
          if (await exists(this.paths.exitFile(r.Id))) {
            await this.checkExit(c);
            continue;
          }
          const st = await this.runtimeFor(r).state(r.Id).catch(() => undefined);
          if (st && (st.status === 'running' || st.status === 'paused')) {
            r.State = withStatus(r.State, st.status === 'paused' ? 'paused' : 'running');
            c.startedAtMs = Date.parse(r.State.StartedAt);
            this.startHealth(c);
            this.log.info({ id: r.Id, pid: st.pid }, 'adopted running container');
            continue;
          }
          // Gone without an exit file (machine reboot, monitor killed): as dockerd, exit 255.
          const persisted = await fs.readFile(join(this.paths.bundle(r.Id), 'exit'), 'utf8').catch(() => undefined);
          await c.lock.run(() => this.handleExit(c, persisted !== undefined ? parseExitFile(persisted) : 255, persisted !== undefined ? '' : 'the container was not running when the daemon started'));
          continue;
        }
        // A stopped container holds no cgroup; one left by a cleanup cut short goes now.
        await cgroups.removeCgroup(this.cgroupOf(r)).catch((err) => this.log.warn({ err, id: r.Id }, 'cannot remove a stopped container\'s cgroup'));
        if (restartOnDaemonStart(r.HostConfig.RestartPolicy, r.shoal.manuallyStopped, r.shoal.hasBeenStarted)) toStart.push(c);
      } catch (err) {
        this.log.error({ err, id: r.Id }, 'cannot adopt container');
      }
    }
    for (const c of toStart) {
      void c.lock
        .run(async () => {
          if (!c.removing && !(c.rec.State.Running && !c.rec.State.Restarting)) await this.doStart(c);
        })
        .catch((err) => this.log.warn({ err, id: c.rec.Id }, 'restart at daemon start failed'));
    }
  }

  /**
   * Unmount and delete a container's directory. If something stays mounted the directory
   * stays too (deleting through a live mount would reach into it); the next open sweeps it.
   */
  private async removeContainerDir(id: string): Promise<void> {
    await this.removeDir(this.paths.dir(id), id);
  }

  private async removeDir(dir: string, id: string): Promise<void> {
    await unmountAll(dir).catch((err) => this.log.warn({ err, id }, 'unmount failed'));
    if ((await mountsUnder(dir)).length) {
      this.log.warn({ id, dir }, 'container directory still has mounts; leaving it for the next start to sweep');
      return;
    }
    await fs.rm(dir, { recursive: true, force: true }).catch((err) => this.log.warn({ err, id }, 'cannot remove container directory'));
  }

  /**
   * Rename a removed container's directory into the trash, for removeDir to unmount and delete
   * after the caller has its answer: one system call where unmounting (a sync of the disk's dirty
   * data, see umountAsync) and deleting the tree took 3-7 ms, far more under disk writes. The
   * overlay mount moves along with its directory. The trashed path, or undefined if there was none.
   */
  private async retireContainerDir(id: string): Promise<string | undefined> {
    const trashed = join(this.paths.trash, id);
    try {
      await fs.rename(this.paths.dir(id), trashed);
      return trashed;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.log.warn({ err: e, id }, 'cannot move the container directory to the trash; deleting it in place');
      await this.removeContainerDir(id);
      return undefined;
    }
  }

  /** Remove every trace of a container that has no record (a create or rm cut short). */
  private async sweep(id: string): Promise<void> {
    this.log.info({ id }, 'sweeping leftovers of an unfinished container');
    for (const rt of this.runtimes.values()) await rt.delete(id, true).catch(() => undefined);
    await cgroups.removeCgroup(this.paths.cgroup(id)).catch(() => undefined);
    await this.opts.networking.teardown(id).catch(() => undefined);
    await this.opts.volumes.release(id, [], true).catch(() => undefined);
    await this.removeContainerDir(id);
    await fs.rm(this.paths.bundle(id), { recursive: true, force: true }).catch(() => undefined);
    await fs.rm(this.paths.exitFile(id), { force: true });
  }
}
