// The multi-host lab: N hosts on this machine, each a network namespace on the lab bridge
// running its own shoald (or, for `reg`, Debian's docker-registry). Every operation reads and
// writes the lab's state file under its lock, so the CLI and test helpers can share a lab.
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EngineClient } from '../../shared/client';
import { conflict, errorMessage, internal, invalid, isShoalError, notFound, precondition, unavailable } from '../../shared/errors';
import { removeLiveDir } from '../../shared/keys';
import { checkCounts, checkLabName, DEFAULT_LAB, labDirs, planLab, registryConfig, REGISTRY_PORT, RUN_ROOT, shoaldArgv, type HostRole, type LabPlan } from './plan';
import { listLabs, readState, releaseIndex, reserveIndex, withLock, writeState, type HostState, type LabState } from './state';
import { createBridge, createHostLink, deleteBridge, deleteHostLink, indexUsable, setLinkUp } from './links';
import { isOurs, killNetnsProcesses, killNow, logTail, netnsPath, processAlive, spawnInNetns, terminate } from './procs';
import { removeCgroupParent, removeContainersViaApi, unmountUnder } from './cleanup';
import { buildBusyboxTar, importImage, pushImage, REPO_ROOT } from './images';
import { formSwarm } from './swarm';

export const SHOALD = join(REPO_ROOT, 'dist/bin/shoald.js');
export const REGISTRY_BIN = process.env.SHOAL_LAB_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const START_TIMEOUT_MS = 30_000;

export interface UpOptions {
  /** Lab name (default $SHOAL_LAB, else "lab"). */
  name?: string;
  managers?: number;
  workers?: number;
  /** Add host `reg` running docker-registry, loaded with busybox. */
  registry?: boolean;
  /** Hosts without a cluster (no swarm init/join). */
  standalone?: boolean;
  /** swarm init --autolock: restarted managers wait for `docker swarm unlock` (the key is logged). */
  autolock?: boolean;
  /** shoald's --log-level (default info). */
  logLevel?: string;
  /** Progress messages, one line each. */
  log?: (msg: string) => void;
}

export interface HostStatus {
  name: string;
  role: HostRole;
  address: string;
  /** shoald's socket (absent on reg). */
  socket?: string;
  pid?: number;
  state: 'running' | 'stopped';
  cut: boolean;
  netns: string;
  dataRoot: string;
  log: string;
}

export interface ExecCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The lab name to use: the given one, else $SHOAL_LAB, else "lab". */
export function labName(name?: string): string {
  return checkLabName(name ?? process.env.SHOAL_LAB ?? DEFAULT_LAB);
}

const isShoaldHost = (h: HostState) => h.role !== 'registry';

export class Lab {
  private constructor(private state: LabState) {}

  get name(): string {
    return this.state.name;
  }
  get subnet(): string {
    return this.state.subnet;
  }
  get gateway(): string {
    return this.state.gateway;
  }
  get bridge(): string {
    return this.state.bridge;
  }
  /** "<reg address>:5000" when the lab has a registry. */
  get registry(): string | undefined {
    return this.state.registry;
  }
  get hosts(): readonly HostState[] {
    return this.state.hosts;
  }

  host(name: string): HostState {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h) throw notFound(`lab '${this.name}' has no host '${name}' (hosts: ${this.state.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** A client of the host's shoald (the caller closes it). */
  client(name: string): EngineClient {
    const h = this.host(name);
    if (!h.socket) throw invalid(`host '${name}' runs docker-registry, not shoald`);
    return new EngineClient(`unix://${h.socket}`);
  }

  static async open(name?: string): Promise<Lab> {
    const n = labName(name);
    try {
      return new Lab(await readState(n));
    } catch (e) {
      const others = (await listLabs()).filter((x) => x !== n);
      if (isShoalError(e, 'NOT_FOUND') && others.length) throw notFound(`${e.message}; labs that are up: ${others.join(', ')} (pick one with --name or SHOAL_LAB)`);
      throw e;
    }
  }

  static list(): Promise<string[]> {
    return listLabs();
  }

  /** Re-read the state file (another command may have changed pids or links). */
  async refresh(): Promise<this> {
    this.state = await readState(this.name);
    return this;
  }

  // ------------------------------------------------------------------ up

  static async up(opts: UpOptions = {}): Promise<Lab> {
    const name = labName(opts.name);
    const standalone = opts.standalone ?? false;
    const counts = checkCounts({ managers: opts.managers ?? 1, workers: opts.workers ?? 2, registry: opts.registry ?? false }, standalone);
    const log = opts.log ?? (() => undefined);
    if (!existsSync(SHOALD)) throw precondition(`${SHOALD} is missing: run npm run build first`);
    if (counts.registry && !existsSync(REGISTRY_BIN)) throw precondition(`${REGISTRY_BIN} is missing: install Debian's docker-registry`);
    const { runDir } = labDirs(name);
    await fs.mkdir(RUN_ROOT, { recursive: true });
    try {
      await fs.mkdir(runDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`lab '${name}' already exists (${runDir}): take it down first with: deploy/lab down --name ${name}`);
      throw e;
    }
    let lab: Lab | undefined;
    try {
      return await withLock(name, async () => {
        const index = await reserveIndex(name, (i) => indexUsable(planLab(name, i, counts)));
        const plan = planLab(name, index, counts);
        lab = new Lab(initialState(plan, standalone, opts.logLevel ?? 'info'));
        await writeState(lab.state);
        await lab.create(log, opts.autolock ?? false);
        return lab;
      });
    } catch (e) {
      log('up failed; removing what it made');
      await Lab.teardown(name, lab?.state).catch((err) => log(`teardown: ${errorMessage(err)}`));
      throw e;
    }
  }

  private async create(log: (msg: string) => void, autolock: boolean): Promise<void> {
    const s = this.state;
    log(`lab ${s.name}: bridge ${s.bridge}, subnet ${s.subnet}`);
    await createBridge(s);
    await fs.mkdir(join(s.runDir, 'logs'), { recursive: true });
    for (const h of s.hosts) {
      await createHostLink(h, s.bridge, s.gateway);
      await fs.mkdir(h.runDir, { recursive: true, mode: 0o711 });
      await fs.mkdir(h.dataRoot, { recursive: true, mode: 0o711 });
      if (h.role === 'registry') await fs.writeFile(join(h.runDir, 'config.yml'), registryConfig(h, randomBytes(16).toString('hex')));
    }
    log(`starting ${s.hosts.map((h) => h.name).join(', ')}`);
    await Promise.all(s.hosts.map((h) => this.launch(h)));
    await writeState(s);
    await this.loadImages(log);
    if (!s.standalone) {
      log('forming the cluster');
      const members = s.hosts.filter(isShoaldHost).map((h) => ({ name: h.name, role: h.role as 'manager' | 'worker', address: h.address, client: this.client(h.name) }));
      try {
        await formSwarm(members, { log, autolock });
      } finally {
        for (const m of members) m.client.close();
      }
    }
    s.phase = 'up';
    await writeState(s);
  }

  /** busybox:latest on every shoald host; with a registry, <reg>:5000/busybox:latest pushed into it. */
  private async loadImages(log: (msg: string) => void): Promise<void> {
    const tar = join(this.state.runDir, 'busybox.tar');
    const shoalds = this.state.hosts.filter(isShoaldHost);
    log('importing busybox:latest');
    await buildBusyboxTar(tar);
    try {
      await Promise.all(
        shoalds.map(async (h) => {
          const c = this.client(h.name);
          try {
            await importImage(c, tar, 'busybox');
          } finally {
            c.close();
          }
        }),
      );
    } finally {
      await fs.rm(tar, { force: true });
    }
    if (this.state.registry) {
      log(`pushing ${this.state.registry}/busybox:latest from ${shoalds[0].name}`);
      const c = this.client(shoalds[0].name);
      try {
        await pushImage(c, 'busybox:latest', `${this.state.registry}/busybox`);
      } finally {
        c.close();
      }
    }
  }

  /** Start the host's process (recording its pid) and wait until it serves. */
  private async launch(h: HostState): Promise<void> {
    await fs.mkdir(h.runDir, { recursive: true, mode: 0o711 });
    await fs.appendFile(h.log, `--- lab: starting ${h.argv.join(' ')}\n`);
    h.pid = spawnInNetns(h.netns, h.argv, h.log, h.runDir);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      if (!processAlive(h.pid)) throw unavailable(`${h.name}: ${basename(h.argv)} exited while starting; its log (${h.log}) ends:\n${await logTail(h.log)}`);
      if (await this.serving(h)) return;
      if (Date.now() > deadline) throw unavailable(`${h.name}: ${basename(h.argv)} did not answer within ${START_TIMEOUT_MS / 1000}s; its log (${h.log}) ends:\n${await logTail(h.log)}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** shoald: GET /_ping answers on its socket. Registry: it listens on :5000 in its namespace (works while cut). */
  private async serving(h: HostState): Promise<boolean> {
    if (h.socket) {
      const c = new EngineClient(`unix://${h.socket}`);
      try {
        await c.get('/_ping', { signal: AbortSignal.timeout(2000) });
        return true;
      } catch {
        return false;
      } finally {
        c.close();
      }
    }
    return h.pid !== undefined && listensOn(h.pid, REGISTRY_PORT);
  }

  // ------------------------------------------------------------------ status

  status(): HostStatus[] {
    return this.state.hosts.map((h) => ({
      name: h.name,
      role: h.role,
      address: h.address,
      ...(h.socket ? { socket: h.socket } : {}),
      ...(h.pid ? { pid: h.pid } : {}),
      state: isOurs(h.pid, h.argv) ? 'running' : 'stopped',
      cut: h.cut,
      netns: h.netns,
      dataRoot: h.dataRoot,
      log: h.log,
    }));
  }

  // ------------------------------------------------------------------ exec

  /**
   * How to run `cmd` inside the host's network namespace with DOCKER_HOST (and SHOAL_HOST)
   * pointing at its shoald. nsenter --net keeps the machine's mounts, so sockets and files
   * of the host machine stay visible.
   */
  execCommand(host: string, cmd: string[]): ExecCommand {
    const h = this.host(host);
    if (!cmd.length) throw invalid('exec: give a command to run');
    const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_LAB: this.name, SHOAL_LAB_HOST: h.name };
    delete env.DOCKER_HOST;
    delete env.SHOAL_HOST;
    if (h.socket) env.DOCKER_HOST = env.SHOAL_HOST = `unix://${h.socket}`;
    return { file: 'nsenter', args: [`--net=${netnsPath(h.netns)}`, '--', ...cmd], env };
  }

  /** Run `cmd` in the host's namespace to completion; never throws on a non-zero exit. */
  exec(host: string, cmd: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const { file, args, env } = this.execCommand(host, cmd);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code: code ?? (sig === 'SIGKILL' ? 137 : 128), stdout, stderr });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  }

  // ------------------------------------------------------------------ kill, start, cut, heal

  /** SIGKILL the host's shoald (or registry), by the recorded pid, once /proc says it is ours. */
  async kill(host: string): Promise<number> {
    return this.locked(async () => {
      const h = this.host(host);
      if (!h.pid) throw precondition(`${host}: no ${basename(h.argv)} was started`);
      if (!isOurs(h.pid, h.argv)) throw precondition(`${host}: ${basename(h.argv)} (pid ${h.pid}) is not running${processAlive(h.pid) ? ' (that pid is now another program; not signalled)' : ''}`);
      const pid = h.pid;
      await killNow(pid);
      return pid;
    });
  }

  /** Start the host's shoald (or registry) again on the same roots; a running one is left alone. Returns its pid. */
  async start(host: string): Promise<{ pid: number; started: boolean }> {
    return this.locked(async () => {
      const h = this.host(host);
      if (isOurs(h.pid, h.argv)) return { pid: h.pid, started: false };
      try {
        await this.launch(h);
      } finally {
        await writeState(this.state);
      }
      return { pid: h.pid!, started: true };
    });
  }

  async cut(host: string): Promise<void> {
    await this.setCut(host, true);
  }

  async heal(host: string): Promise<void> {
    await this.setCut(host, false);
  }

  private async setCut(host: string, cut: boolean): Promise<void> {
    await this.locked(async () => {
      const h = this.host(host);
      await setLinkUp(h, !cut);
      h.cut = cut;
      await writeState(this.state);
    });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.name, async () => {
      this.state = await readState(this.name);
      return fn();
    });
  }

  // ------------------------------------------------------------------ down

  async down(): Promise<void> {
    await Lab.down(this.name);
  }

  /** Tear the lab down; leaves nothing of it on the machine. */
  static async down(name?: string): Promise<void> {
    const n = labName(name);
    const { runDir, stateFile } = labDirs(n);
    if (!existsSync(runDir)) throw notFound(`no lab named '${n}' is up (no ${runDir})`);
    await withLock(n, async () => Lab.teardown(n, existsSync(stateFile) ? await readState(n) : undefined));
  }

  /**
   * Remove everything a (possibly half-made) lab created. Each step tolerates what is already
   * gone; every step runs even if an earlier one failed, and the failures are reported together.
   */
  private static async teardown(name: string, state: LabState | undefined): Promise<void> {
    const { runDir, libDir } = labDirs(name);
    const errors: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        errors.push(`${what}: ${errorMessage(e)}`);
      }
    };
    if (state) {
      await Promise.all(state.hosts.map((h) => step(h.name, () => teardownHost(h))));
      await step('bridge', () => deleteBridge(state));
    }
    await step('mounts', async () => {
      await unmountUnder(runDir);
      await unmountUnder(libDir);
    });
    await step('files', async () => {
      await fs.rm(libDir, { recursive: true, force: true });
      await fs.rmdir(join(libDir, '..')).catch(() => undefined);
      await fs.rm(runDir, { recursive: true, force: true });
    });
    if (state) await step('subnet', () => releaseIndex(name, state.index));
    else await fs.rmdir(RUN_ROOT).catch(() => undefined);
    if (errors.length) throw internal(`lab '${name}' down left things behind: ${errors.join('; ')}`);
  }
}

function initialState(plan: LabPlan, standalone: boolean, logLevel: string): LabState {
  const reg = plan.hosts.find((h) => h.role === 'registry');
  return {
    version: 1,
    ...plan,
    createdAt: new Date().toISOString(),
    phase: 'creating',
    standalone,
    logLevel,
    ...(reg ? { registry: `${reg.address}:${REGISTRY_PORT}` } : {}),
    hosts: plan.hosts.map((h) => ({
      ...h,
      argv: h.role === 'registry' ? [REGISTRY_BIN, 'serve', join(h.runDir, 'config.yml')] : shoaldArgv(process.execPath, SHOALD, h, plan.subnet, logLevel),
      cut: false,
    })),
  };
}

/** One host: its containers (via the API while shoald answers), processes, cgroups, mounts, link. */
async function teardownHost(h: HostState): Promise<void> {
  if (isOurs(h.pid, h.argv)) {
    if (h.socket) await removeContainersViaApi(h.socket);
    await terminate(h.pid);
  }
  await killNetnsProcesses(h.netns);
  if (h.cgroupParent) await removeCgroupParent(h.cgroupParent);
  await unmountUnder(h.runDir);
  await unmountUnder(h.dataRoot);
  // A killed shoald leaves its RAM copies of keys (etcd's loopback certificate, an unlocked node key).
  await removeLiveDir(join(h.dataRoot, 'swarm'));
  await deleteHostLink(h);
}

const basename = (argv: string[]) => (argv[1]?.endsWith('shoald.js') ? 'shoald' : (argv[0]?.split('/').pop() ?? 'process'));

/** Whether the process's network namespace has a TCP socket listening on `port` (from /proc/PID/net/tcp). */
function listensOn(pid: number, port: number): boolean {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
      .split('\n')
      .slice(1)
      .some((l) => {
        const f = l.trim().split(/\s+/);
        return f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A';
      });
  } catch {
    return false;
  }
}
