// The classic builder: receive a context, parse the Dockerfile, then dispatch its stages one
// instruction at a time, each step making an image (a layer or an empty_layer history entry)
// that the cache can find again. RUN steps run in real containers of the engine; COPY, ADD and
// WORKDIR write their layer directly.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { EventBus } from '../../../shared/events';
import { ShoalError, errorMessage, invalid, isShoalError } from '../../../shared/errors';
import { logger, type Logger } from '../../../shared/log';
import type { HealthConfig, ImageRuntimeConfig } from '../contracts';
import { BuildCache, cacheKey, digestSources, sourceLabel } from './cache';
import { receiveContext, type BuildContext } from './context';
import { LayerWriter, describeSources, isRemoteSource, parseChmod, remoteSourceError, resolveOwner, resolveSources } from './copy';
import {
  DockerfileError,
  ExpansionError,
  expandInstruction,
  expandWord,
  lexDockerfile,
  parseDockerfile,
  parseInstruction,
  resolveStageRef,
  stagesForTarget,
  type CommandLine,
  type CopyInstr,
  type Dockerfile,
  type Instruction,
  type Stage,
} from './dockerfile';
import { goList, goQuoteList, healthcheckText, nopCreatedBy, nopCreatedBy1, runCreatedBy } from './history';
import { msg, stderrText, type BuildMessage } from './messages';
import type { BuildContainers, BuildImageStore } from './ports';
import { mountLayers, unmountAndRemove, type MountedView } from './rootfs';
import { BuildArgs, normalizeDest, parseExposedPorts, resolveWorkdir, setEnv, validateSignal } from './state';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface BuildOptions {
  tags: string[];
  dockerfile?: string;
  buildArgs: Record<string, string | null>;
  noCache: boolean;
  /** Remove intermediate containers after a successful step (Docker's default). */
  rm: boolean;
  /** Remove them even when the step fails. */
  forceRm: boolean;
  labels: Record<string, string>;
  target?: string;
  quiet: boolean;
  /**
   * Network for RUN steps. The default is "host": a build step is a short-lived process of the
   * daemon's own build, which needs no address on the bridge, no port mappings and no DNS of
   * user networks, and this keeps RUN steps independent of the bridge's nftables state. A
   * request's networkmode (or RUN --network) chooses otherwise.
   */
  networkMode: string;
  /** HostConfig resources for RUN containers (Memory, CpuShares, ...). */
  hostConfig: Record<string, unknown>;
}

export interface BuilderPorts {
  images: BuildImageStore;
  containers: BuildContainers;
}

export interface BuilderOptions {
  /** <dataRoot>/build: the cache index and temp dirs live here. */
  root: string;
  events: EventBus;
}

export interface PruneResult {
  CachesDeleted: string[];
  SpaceReclaimed: number;
}

/** Entry point: owns the cache and the temp area; one PreparedBuild per request. */
export class Builder {
  private readonly log: Logger;

  private constructor(
    readonly ports: BuilderPorts,
    readonly opts: BuilderOptions,
    readonly cache: BuildCache,
  ) {
    this.log = logger('build');
  }

  get tmpRoot(): string {
    return join(this.opts.root, 'tmp');
  }

  static async open(ports: BuilderPorts, opts: BuilderOptions): Promise<Builder> {
    await fs.mkdir(opts.root, { recursive: true, mode: 0o700 });
    // Leftovers of a daemon that died mid-build: unmount any views, then delete.
    await unmountAndRemove(join(opts.root, 'tmp'));
    await fs.mkdir(join(opts.root, 'tmp'), { mode: 0o700 });
    return new Builder(ports, opts, await BuildCache.open(opts.root));
  }

  /**
   * Receive the context and parse the Dockerfile. Every problem here (bad tar, bad Dockerfile,
   * bad tag or target) throws INVALID_ARGUMENT and leaves nothing behind; nothing is streamed.
   */
  async prepare(body: AsyncIterable<Buffer>, options: BuildOptions, signal: AbortSignal): Promise<PreparedBuild> {
    const tags = options.tags.map((t) => this.ports.images.normalizeTag(t));
    const dir = await fs.mkdtemp(join(this.tmpRoot, 'build-'));
    try {
      const ctxDir = join(dir, 'context');
      await fs.mkdir(ctxDir);
      const context = await receiveContext(body, ctxDir, { dockerfile: options.dockerfile, signal });
      const df = parseDockerfile(context.dockerfile, context.dockerfileName);
      const stages = stagesForTarget(df, options.target);
      for (const s of stages) {
        for (const c of s.commands) {
          if (c.kind === 'ADD' || c.kind === 'COPY') {
            const url = c.sources.find(isRemoteSource);
            if (url) throw new DockerfileError(c.line, remoteSourceError(c.kind, url).message);
          }
        }
      }
      return new PreparedBuild(this, { ...options, tags }, context, df, stages, dir);
    } catch (e) {
      await unmountAndRemove(dir);
      throw e;
    }
  }

  /** Drop cache entries (all, or those unused since `untilMs`) and the images only they kept. */
  async prune(opts: { untilMs?: number } = {}): Promise<PruneResult> {
    const entries = this.cache.list().filter((e) => opts.untilMs === undefined || e.lastUsed < opts.untilMs);
    await this.cache.forget(entries.map((e) => e.key));
    const stillCached = new Set(this.cache.list().map((e) => e.image));
    let reclaimed = 0;
    // Children before parents: an image with children is kept, so repeat while progress is made.
    let candidates = [...new Set(entries.map((e) => e.image))].filter((id) => !stillCached.has(id));
    for (let progress = true; progress && candidates.length > 0; ) {
      progress = false;
      const next: string[] = [];
      for (const id of candidates) {
        const freed = await this.ports.images.removeUnused(id).catch((e: unknown) => {
          this.log.warn({ err: e, image: id }, 'build cache prune: image kept');
          return undefined;
        });
        if (freed === undefined) next.push(id);
        else {
          reclaimed += freed;
          progress = true;
        }
      }
      candidates = next;
    }
    return { CachesDeleted: entries.map((e) => e.key), SpaceReclaimed: reclaimed };
  }
}

interface StageState {
  stage: Stage;
  imageId?: string;
  config: ImageRuntimeConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  author?: string;
}

type Messages = AsyncGenerator<BuildMessage, void, undefined>;

const shellOf = (c: ImageRuntimeConfig) => (c.Shell && c.Shell.length > 0 ? c.Shell : DEFAULT_SHELL);

/** One build request after its context and Dockerfile were accepted. */
export class PreparedBuild {
  private readonly log: Logger;
  private readonly args: BuildArgs;
  private readonly results: Array<string | undefined> = [];
  private readonly views = new Map<string, MountedView>();
  private emptyDir?: string;
  private disposed = false;

  constructor(
    private readonly builder: Builder,
    readonly options: BuildOptions,
    readonly context: BuildContext,
    readonly dockerfile: Dockerfile,
    readonly stages: Stage[],
    private readonly dir: string,
  ) {
    this.log = logger('build', { build: dir.slice(-6) });
    this.args = new BuildArgs(options.buildArgs);
  }

  private get images() {
    return this.builder.ports.images;
  }
  private get containers() {
    return this.builder.ports.containers;
  }

  /** Release everything (temp dir, mounts) without building. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.views.values()) await v.release().catch((e: unknown) => this.log.warn({ err: e }, 'releasing a view failed'));
    this.views.clear();
    await unmountAndRemove(this.dir);
  }

  /**
   * Run the build, yielding Docker's JSON messages; a failure is the last message (errorDetail).
   * The temp dir and mounts are gone when the iteration ends, however it ends.
   */
  async *run(signal: AbortSignal): Messages {
    try {
      const gen = this.build(signal);
      for (;;) {
        const r = await gen.next();
        if (r.done) {
          // -q: the image ID is all the output.
          if (this.options.quiet) yield msg.stream(`${r.value}\n`);
          break;
        }
        if (this.options.quiet && 'stream' in r.value) continue;
        yield r.value;
      }
    } catch (e) {
      if (signal.aborted) {
        this.log.info('build cancelled');
        return;
      }
      if (!isShoalError(e)) this.log.error({ err: e }, 'build failed');
      yield msg.error(errorMessage(e));
    } finally {
      await this.dispose();
    }
  }

  private checkCancel(signal: AbortSignal): void {
    if (signal.aborted) throw new ShoalError('CANCELLED', 'Build cancelled');
  }

  private async *build(signal: AbortSignal): AsyncGenerator<BuildMessage, string, undefined> {
    const labelsStep = Object.keys(this.options.labels).length > 0;
    const total = this.dockerfile.metaArgs.length + this.stages.reduce((n, s) => n + 1 + s.commands.length, 0) + (labelsStep ? 1 : 0);
    let n = 0;
    for (const w of this.dockerfile.warnings) yield msg.stream(`${w}\n`);
    const escape = this.dockerfile.escape;
    for (const a of this.dockerfile.metaArgs) {
      yield msg.step(++n, total, a.original);
      for (const { key, value } of a.args) {
        const env = [...this.args.meta].filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
        this.args.declareMeta(key, value === undefined ? undefined : this.expand(value, env, a.line, escape));
      }
    }
    let last: StageState | undefined;
    for (const stage of this.stages) {
      this.checkCancel(signal);
      yield msg.step(++n, total, stage.from.original);
      const state = await this.initStage(stage);
      yield msg.image(state.imageId);
      const triggers = state.config.OnBuild ?? [];
      if (triggers.length > 0) {
        yield msg.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
        state.config = { ...state.config, OnBuild: null };
        for (const t of triggers) {
          this.checkCancel(signal);
          const instr = this.parseTrigger(t, stage.from.line);
          yield* this.dispatch(state, instr, signal);
        }
      }
      const commands: Instruction[] = [...stage.commands];
      if (labelsStep && stage === this.stages[this.stages.length - 1]) {
        const pairs = Object.entries(this.options.labels).map(([key, value]) => ({ key, value }));
        commands.push({ kind: 'LABEL', pairs, line: 0, endLine: 0, original: `LABEL ${pairs.map((p) => `${JSON.stringify(p.key)}='${p.value}'`).join(' ')}`, literal: true } as Instruction);
      }
      for (const c of commands) {
        this.checkCancel(signal);
        yield msg.step(++n, total, c.original);
        yield* this.dispatch(state, c, signal);
        yield msg.image(state.imageId);
      }
      this.results[stage.index] = state.imageId;
      if (state.imageId) yield msg.aux(state.imageId);
      last = state;
    }
    const unused = this.args.unused();
    if (unused.length > 0) yield msg.stream(`[Warning] One or more build-args ${goList(unused)} were not consumed\n`);
    const id = last?.imageId;
    if (!id) throw invalid('No image was generated. Is your Dockerfile empty?');
    yield msg.built(id);
    for (const t of this.options.tags) {
      await this.images.tag(id, t);
      yield msg.tagged(t);
    }
    return id;
  }

  private parseTrigger(text: string, line: number): Instruction {
    const lexed = lexDockerfile(text);
    if (lexed.nodes.length !== 1) throw new DockerfileError(line, `invalid ONBUILD trigger in the base image: ${text}`);
    const instr = parseInstruction(lexed.nodes[0], lexed.escape);
    if (instr.kind === 'FROM' || instr.kind === 'ONBUILD' || instr.kind === 'MAINTAINER') throw new DockerfileError(line, `${instr.kind} isn't allowed as an ONBUILD trigger`);
    return instr;
  }

  /** Expand a word; a syntax error names the line. */
  private expand(word: string, env: readonly string[], line: number, escape = this.dockerfile.escape): string {
    try {
      return expandWord(word, env, escape);
    } catch (e) {
      if (e instanceof ExpansionError) throw new DockerfileError(line, e.message);
      throw e;
    }
  }

  private metaEnv(): string[] {
    return [...this.args.meta].filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  }

  private async initStage(stage: Stage): Promise<StageState> {
    const from = expandInstruction(stage.from, (w) => this.expand(w, this.metaEnv(), stage.from.line));
    const state: StageState = { stage, config: {}, args: new Map(), cmdSet: false };
    if (from.image.toLowerCase() === 'scratch') return state;
    const ref = resolveStageRef(this.stages, stage.index, from.image);
    const id = 'stage' in ref ? this.results[ref.stage] : undefined;
    if ('stage' in ref && !id) throw invalid(`stage ${from.image} produced no image`);
    const img = await this.images.resolve(id ?? from.image);
    state.imageId = img.id;
    state.config = structuredClone(img.config);
    return state;
  }

  /** Environment for expansion and RUN: the image's Env plus the build args in scope. */
  private stepEnv(state: StageState): string[] {
    const env = state.config.Env ?? [];
    return [...env, ...this.args.allowed(state.args, env)];
  }

  private async *dispatch(state: StageState, raw: Instruction, signal: AbortSignal): Messages {
    const literal = (raw as { literal?: boolean }).literal === true;
    const instr = literal ? raw : expandInstruction(raw, (w) => this.expand(w, this.stepEnv(state), raw.line));
    const shell = shellOf(state.config);
    const meta = (config: ImageRuntimeConfig, text: string) => this.commitMeta(state, config, nopCreatedBy(shell, text));
    switch (instr.kind) {
      case 'FROM':
        throw new DockerfileError(instr.line, 'FROM in the middle of a stage');
      case 'ENV': {
        let env = state.config.Env ?? [];
        for (const p of instr.pairs) env = setEnv(env, p.key, p.value);
        yield* meta({ ...state.config, Env: env }, `ENV ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
        return;
      }
      case 'LABEL': {
        const labels = { ...(state.config.Labels ?? {}) };
        for (const p of instr.pairs) labels[p.key] = p.value;
        yield* meta({ ...state.config, Labels: labels }, `LABEL ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
        return;
      }
      case 'MAINTAINER':
        state.author = instr.name;
        yield* meta(state.config, `MAINTAINER ${instr.name}`);
        return;
      case 'ARG':
        for (const a of instr.args) this.args.declare(state.args, a.key, a.value);
        yield* meta(state.config, `ARG ${instr.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`);
        return;
      case 'USER':
        yield* meta({ ...state.config, User: instr.user }, `USER ${instr.user}`);
        return;
      case 'EXPOSE': {
        const ports = { ...(state.config.ExposedPorts ?? {}) };
        for (const p of this.step(instr.line, () => parseExposedPorts(instr.ports))) ports[p] = {};
        yield* meta({ ...state.config, ExposedPorts: ports }, `EXPOSE ${instr.ports.join(' ')}`);
        return;
      }
      case 'VOLUME': {
        const vols = { ...(state.config.Volumes ?? {}) };
        for (const v of instr.paths) vols[v] = {};
        yield* meta({ ...state.config, Volumes: vols }, `VOLUME ${goList(instr.paths)}`);
        return;
      }
      case 'STOPSIGNAL':
        this.step(instr.line, () => validateSignal(instr.signal));
        yield* meta({ ...state.config, StopSignal: instr.signal }, `STOPSIGNAL ${instr.signal}`);
        return;
      case 'SHELL':
        yield* meta({ ...state.config, Shell: instr.shell }, `SHELL ${goList(instr.shell)}`);
        return;
      case 'ONBUILD':
        yield* meta({ ...state.config, OnBuild: [...(state.config.OnBuild ?? []), instr.expression] }, `ONBUILD ${instr.expression}`);
        return;
      case 'CMD': {
        const cmd = this.commandOf(instr.cmd, state.config);
        state.cmdSet = true;
        yield* meta({ ...state.config, Cmd: cmd }, `CMD ${goQuoteList(cmd)}`);
        return;
      }
      case 'ENTRYPOINT': {
        const ep = this.commandOf(instr.cmd, state.config);
        // A new ENTRYPOINT drops the base image's CMD unless this stage set one.
        const cfg: ImageRuntimeConfig = { ...state.config, Entrypoint: ep };
        if (!state.cmdSet) cfg.Cmd = null;
        yield* meta(cfg, `ENTRYPOINT ${goQuoteList(ep)}`);
        return;
      }
      case 'HEALTHCHECK': {
        const old = state.config.Healthcheck?.Test;
        if (old && old.length > 0 && old[0] !== 'NONE') yield msg.stream(`Note: overriding previous HEALTHCHECK: ${goList(old)}\n`);
        const hc: HealthConfig = { Test: instr.test };
        if (instr.interval) hc.Interval = instr.interval;
        if (instr.timeout) hc.Timeout = instr.timeout;
        if (instr.startPeriod) hc.StartPeriod = instr.startPeriod;
        if (instr.startInterval) hc.StartInterval = instr.startInterval;
        if (instr.retries) hc.Retries = instr.retries;
        yield* meta({ ...state.config, Healthcheck: hc }, healthcheckText(hc));
        return;
      }
      case 'WORKDIR':
        yield* this.workdir(state, resolveWorkdir(state.config.WorkingDir, instr.path));
        return;
      case 'COPY':
      case 'ADD':
        yield* this.copy(state, instr);
        return;
      case 'RUN':
        yield* this.runStep(state, instr.cmd, instr.network, signal);
        return;
    }
  }

  /** Run a check whose ShoalError should name the Dockerfile line. */
  private step<T>(line: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isShoalError(e, 'INVALID_ARGUMENT') && line > 0) throw new DockerfileError(line, e.message);
      throw e;
    }
  }

  private commandOf(cmd: CommandLine, config: ImageRuntimeConfig): string[] {
    return cmd.json ? cmd.args : [...shellOf(config), cmd.shell];
  }

  private async emptyUpper(): Promise<string> {
    if (!this.emptyDir) {
      this.emptyDir = join(this.dir, 'empty');
      await fs.mkdir(this.emptyDir, { recursive: true });
    }
    return this.emptyDir;
  }

  /** Find a step's image in the cache; on a hit the state moves to it. */
  private async cached(state: StageState, key: string, config: ImageRuntimeConfig): Promise<boolean> {
    if (this.options.noCache) return false;
    const hit = this.builder.cache.lookup(key);
    if (!hit) return false;
    if (!(await this.images.exists(hit))) {
      await this.builder.cache.forget([key]); // the image was removed since
      return false;
    }
    this.builder.cache.touch(key);
    state.imageId = hit;
    state.config = config;
    return true;
  }

  private async commit(state: StageState, key: string, req: { upperDir: string; config: ImageRuntimeConfig; createdBy: string; emptyLayer?: boolean }): Promise<void> {
    // A step that changed no file adds no layer, only history (Docker's empty-diff rule).
    const emptyLayer = req.emptyLayer || (await fs.readdir(req.upperDir)).length === 0;
    const id = await this.images.commit({ ...req, emptyLayer, parentImageId: state.imageId, author: state.author });
    await this.builder.cache.record(key, id);
    state.imageId = id;
    state.config = req.config;
  }

  private async *commitMeta(state: StageState, config: ImageRuntimeConfig, createdBy: string): Messages {
    const key = cacheKey({ parent: state.imageId, createdBy, extra: state.author ? [`author=${state.author}`] : [] });
    if (await this.cached(state, key, config)) {
      yield msg.usingCache();
      return;
    }
    await this.commit(state, key, { upperDir: await this.emptyUpper(), config, createdBy, emptyLayer: true });
  }

  /** A read-only view of a COPY --from source image, mounted once per build. */
  private async sourceView(imageId: string | undefined): Promise<string> {
    if (!imageId) return this.scratchView();
    let v = this.views.get(imageId);
    if (!v) {
      const img = await this.images.resolve(imageId);
      v = await mountLayers(img.layerDirs, this.dir);
      this.views.set(imageId, v);
    }
    return v.path;
  }

  private async scratchView(): Promise<string> {
    const d = join(this.dir, 'scratch-view');
    await fs.mkdir(d, { recursive: true });
    return d;
  }

  /** Run `fn` with a read-only view of the stage's current image (released afterwards). */
  private async withView<T>(imageId: string | undefined, fn: (view: string) => Promise<T>): Promise<T> {
    if (!imageId) return fn(await this.scratchView());
    const img = await this.images.resolve(imageId);
    const v = await mountLayers(img.layerDirs, this.dir);
    try {
      return await fn(v.path);
    } finally {
      await v.release();
    }
  }

  private async newLayerDir(): Promise<string> {
    return fs.mkdtemp(join(this.dir, 'layer-'));
  }

  private async *workdir(state: StageState, path: string): Messages {
    const config = { ...state.config, WorkingDir: path };
    const createdBy = nopCreatedBy1(shellOf(config), `WORKDIR ${path}`);
    const key = cacheKey({ parent: state.imageId, createdBy });
    if (await this.cached(state, key, config)) {
      yield msg.usingCache();
      return;
    }
    const layer = await this.newLayerDir();
    try {
      const created = await this.withView(state.imageId, async (view) => {
        const writer = new LayerWriter(layer, view, this.dir);
        return writer.ensureDir(await writer.resolve(path), { uid: 0, gid: 0 });
      });
      await this.commit(state, key, { upperDir: created ? layer : await this.emptyUpper(), config, createdBy, emptyLayer: !created });
    } finally {
      await fs.rm(layer, { recursive: true, force: true });
    }
  }

  private async *copy(state: StageState, instr: CopyInstr): Messages {
    const cmd = instr.kind;
    let srcRoot = this.context.dir;
    let where = 'build context';
    if (instr.from !== undefined) {
      const ref = this.step(instr.line, () => resolveStageRef(this.stages, state.stage.index, instr.from!));
      const imageId = 'stage' in ref ? this.results[ref.stage] : (await this.images.resolve(ref.image)).id;
      srcRoot = await this.sourceView(imageId);
      where = 'stage' in ref ? `stage ${instr.from}` : `image ${instr.from}`;
    }
    const sources = await resolveSources(srcRoot, instr.sources, cmd, where);
    const groups = await describeSources(sources);
    const label = sourceLabel(groups, digestSources(groups));
    const dest = normalizeDest(state.config.WorkingDir, instr.dest);
    const chmod = parseChmod(instr.chmod);
    const flags = `${instr.chown ? `--chown=${instr.chown} ` : ''}${instr.chmod ? `--chmod=${instr.chmod} ` : ''}`;
    const createdBy = nopCreatedBy1(shellOf(state.config), `${cmd} ${flags}${label} in ${dest} `);
    const key = cacheKey({ parent: state.imageId, createdBy, extra: state.author ? [`author=${state.author}`] : [] });
    if (await this.cached(state, key, state.config)) {
      yield msg.usingCache();
      return;
    }
    const layer = await this.newLayerDir();
    try {
      await this.withView(state.imageId, async (view) => {
        const owner = await resolveOwner(instr.chown, view);
        await new LayerWriter(layer, view, this.dir).place(sources, dest, { owner, chmod, cmd, decompress: cmd === 'ADD' });
      });
      await this.commit(state, key, { upperDir: layer, config: state.config, createdBy });
    } finally {
      await fs.rm(layer, { recursive: true, force: true });
    }
  }

  private async *runStep(state: StageState, line: CommandLine, network: string | undefined, signal: AbortSignal): Messages {
    if (!state.imageId) throw invalid('Please provide a source image with `from` prior to run');
    const cmd = this.commandOf(line, state.config);
    const env = state.config.Env ?? [];
    const createdBy = runCreatedBy(cmd, this.args.declared(state.args, env));
    const key = cacheKey({ parent: state.imageId, createdBy, extra: state.author ? [`author=${state.author}`] : [] });
    if (await this.cached(state, key, state.config)) {
      yield msg.usingCache();
      return;
    }
    const networkMode = network === undefined || network === 'default' ? this.options.networkMode : network;
    const id = await this.containers.create({
      image: state.imageId,
      cmd,
      env: [...env, ...this.args.allowed(state.args, env)],
      workingDir: state.config.WorkingDir,
      user: state.config.User,
      networkMode,
      hostConfig: this.options.hostConfig,
    });
    let removeIt = this.options.forceRm;
    try {
      yield msg.runningIn(id);
      const output = await this.containers.attach(id, signal);
      await this.containers.start(id);
      const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
      for await (const chunk of output) {
        const text = decoders[chunk.stream].write(chunk.data);
        if (text) yield msg.stream(chunk.stream === 'stderr' ? stderrText(text) : text);
      }
      this.checkCancel(signal);
      const code = await this.containers.wait(id, signal);
      this.checkCancel(signal);
      if (code !== 0) throw invalid(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`);
      await this.commit(state, key, { upperDir: await this.containers.upperDir(id), config: state.config, createdBy });
      removeIt = this.options.rm;
      if (removeIt) {
        removeIt = false;
        await this.containers.remove(id);
        yield msg.removing(id);
      }
    } catch (e) {
      // A cancelled step never leaves its container behind.
      if (signal.aborted) removeIt = true;
      throw e;
    } finally {
      if (removeIt) {
        await this.containers.kill(id).catch(() => undefined);
        await this.containers.remove(id).catch((err: unknown) => this.log.warn({ err, container: id }, 'removing a build container failed'));
      }
    }
  }
}
