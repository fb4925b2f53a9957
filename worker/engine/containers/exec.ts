import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { conflict, invalid, notFound } from '../../../shared/errors';
import type { EventBus } from '../../../shared/events';
import { newId } from '../../../shared/ids';
import { logger } from '../../../shared/log';
import { writeJsonAtomic } from '../../../shared/fsutil';
import { computeCapabilities } from '../runtime/capabilities';
import { ConmonExec, RuntimeCreateError, resizeTerminal, type ConmonPaths } from '../runtime/conmon';
import type { OciRuntime } from '../runtime/oci';
import { buildExecProcess } from '../runtime/spec';
import { AttachSession } from './attach';
import { classifyStartFailure } from './exitcodes';
import { processEnv, replaceOrAppendEnv, rlimitsFor } from './runtime-config';
import type { ContainerRecord } from './types';
import type { ResolvedUser } from './user';

/** The body of POST /containers/{id}/exec. */
export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  bundle?: string;
  cuuid: string;
  finishedAt?: number;
}

/** What the exec manager needs from the container manager. */
export interface ExecHost {
  events: EventBus;
  conmonPaths: ConmonPaths;
  availableCaps: string[];
  nofileHard: number;
  /** The container, which must be running and not paused. */
  runningContainer(idOrName: string): ContainerRecord;
  runtimeFor(r: ContainerRecord): OciRuntime;
  execDir(containerId: string, execId: string): string;
  attachSocket(cuuid: string): string;
  resolveUser(r: ContainerRecord, spec: string): Promise<ResolvedUser>;
  eventAttrs(r: ContainerRecord): Record<string, string>;
}

/** Exec sessions: created, then started attached (hijacked) or detached; kept a while for inspect. */
export class ExecManager {
  private readonly execs = new Map<string, ExecInstance>();
  private readonly log = logger('exec');
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly host: ExecHost) {
    // Docker forgets finished execs after a while; so do we (inspect right after exit works).
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now = Date.now()): void {
    for (const [id, e] of this.execs) if (!e.running && e.finishedAt && now - e.finishedAt > 5 * 60_000) this.execs.delete(id);
  }

  create(containerRef: string, cfg: ExecConfig): ExecInstance {
    const r = this.host.runningContainer(containerRef);
    if (!cfg.Cmd || cfg.Cmd.length === 0 || cfg.Cmd[0] === '') throw invalid('No exec command specified');
    for (const [k, v] of Object.entries({ AttachStdin: cfg.AttachStdin, AttachStdout: cfg.AttachStdout, AttachStderr: cfg.AttachStderr, Tty: cfg.Tty, Privileged: cfg.Privileged })) {
      if (v !== undefined && v !== null && typeof v !== 'boolean') throw invalid(`invalid value for ${k}: expected a boolean`);
    }
    if (cfg.Env && (!Array.isArray(cfg.Env) || cfg.Env.some((e) => typeof e !== 'string'))) throw invalid('invalid value for Env: expected an array of strings');
    if (!Array.isArray(cfg.Cmd) || cfg.Cmd.some((e) => typeof e !== 'string')) throw invalid('invalid value for Cmd: expected an array of strings');
    const id = newId();
    const e: ExecInstance = { id, containerId: r.Id, config: cfg, running: false, exitCode: null, pid: 0, started: false, cuuid: `x${id.slice(0, 11)}` };
    this.execs.set(id, e);
    this.host.events.publish('container', `exec_create: ${cfg.Cmd.join(' ')}`, r.Id, { ...this.host.eventAttrs(r), execID: id });
    return e;
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  forget(containerId: string): void {
    for (const [id, e] of this.execs) if (e.containerId === containerId) this.execs.delete(id);
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    const c = e.config;
    return {
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: c.DetachKeys ?? '',
      ExitCode: e.exitCode,
      ID: e.id,
      OpenStderr: !!c.AttachStderr,
      OpenStdin: !!c.AttachStdin,
      OpenStdout: !!c.AttachStdout,
      ProcessConfig: { arguments: (c.Cmd ?? []).slice(1), entrypoint: (c.Cmd ?? [])[0] ?? '', privileged: !!c.Privileged, tty: !!c.Tty, user: c.User ?? '' },
      Running: e.running,
      Pid: e.pid,
    };
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.get(id);
    if (!e.running || !e.bundle) throw conflict(`exec ${id} is not running`);
    if (!e.config.Tty) return;
    await resizeTerminal(e.bundle, height, width);
  }

  /**
   * Start an exec. Attached: returns a session whose output ends only after the exit code is
   * recorded (the CLI inspects it right after the stream closes). Detached: returns once the
   * process runs.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }): Promise<AttachSession | undefined> {
    const e = this.get(id);
    if (e.started) throw conflict(`Exec ${id} has already been started`);
    const r = this.host.runningContainer(e.containerId);
    e.started = true;
    const cfg = e.config;
    const tty = opts.tty ?? !!cfg.Tty;
    const user = await this.host.resolveUser(r, cfg.User || r.Config.User);
    const caps = computeCapabilities({ capAdd: r.HostConfig.CapAdd, capDrop: r.HostConfig.CapDrop, privileged: r.HostConfig.Privileged || !!cfg.Privileged, available: this.host.availableCaps });
    const env = replaceOrAppendEnv(processEnv({ env: r.Config.Env, hostname: r.Config.Hostname, tty, home: user.home }), cfg.Env ?? []);
    const size = opts.consoleSize ?? cfg.ConsoleSize;
    const proc = buildExecProcess({
      args: cfg.Cmd!,
      env,
      cwd: cfg.WorkingDir || r.Config.WorkingDir || '/',
      user,
      terminal: tty,
      ...(tty && size && size[0] > 0 && size[1] > 0 ? { consoleSize: { height: size[0], width: size[1] } } : {}),
      capabilities: caps,
      noNewPrivileges: (r.HostConfig.SecurityOpt ?? []).some((s) => /^no-new-privileges(?:[:=]true)?$/.test(s)),
      rlimits: rlimitsFor(r.HostConfig.Ulimits, this.host.nofileHard),
    });
    const dir = this.host.execDir(r.Id, id);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const processFile = join(dir, 'process.json');
    await writeJsonAtomic(processFile, proc);
    e.bundle = dir;
    const attach = !opts.detach;
    const stdin = attach && !!cfg.AttachStdin;
    const conmon = await ConmonExec.spawn(this.host.conmonPaths, {
      containerId: r.Id,
      cuuid: e.cuuid,
      runtime: this.host.runtimeFor(r),
      bundle: dir,
      processFile,
      stdin,
      terminal: tty,
      attach,
    });
    const attrs = { ...this.host.eventAttrs(r), execID: id };
    const cmdline = cfg.Cmd!.join(' ');
    const finish = (code: number) => {
      e.running = false;
      e.exitCode = code;
      e.finishedAt = Date.now();
      this.host.events.publish('container', 'exec_die', r.Id, { ...attrs, exitCode: String(code) });
      void fs.rm(dir, { recursive: true, force: true });
    };

    if (!attach) {
      try {
        e.pid = await conmon.started();
      } catch (err) {
        conmon.dispose();
        const f = classifyStartFailure(err instanceof RuntimeCreateError ? err.runtimeMessage : String(err));
        finish(f.exitCode);
        throw f.error;
      }
      e.running = true;
      this.host.events.publish('container', `exec_start: ${cmdline}`, r.Id, attrs);
      void conmon.exited().then(finish);
      return undefined;
    }

    const session = new AttachSession(tty, { stdin, stdout: cfg.AttachStdout ?? true, stderr: cfg.AttachStderr ?? true, logs: false, stream: true });
    let exitDone!: (code: number) => void;
    const exited = new Promise<number>((r2) => (exitDone = r2));
    session.holdEndUntil(exited);
    try {
      await conmon.attachReady();
      await session.connect(this.host.attachSocket(e.cuuid));
      conmon.release();
      e.pid = await conmon.started();
    } catch (err) {
      conmon.dispose();
      const f = classifyStartFailure(err instanceof RuntimeCreateError ? err.runtimeMessage : String(err));
      this.log.debug({ exec: id, err: f.message }, 'exec failed to start');
      finish(f.exitCode);
      exitDone(f.exitCode);
      // Already hijacked: the error goes into the stream, as dockerd writes it.
      session.push({ stream: 1, data: Buffer.from(`OCI runtime exec failed: ${f.message}\r\n`) });
      session.end();
      return session;
    }
    e.running = true;
    this.host.events.publish('container', `exec_start: ${cmdline}`, r.Id, attrs);
    // The output ends when conmon closes the attach socket (after draining it), and not
    // before the exit code is recorded: the exit code can overtake the last output.
    void conmon.exited().then((code) => {
      finish(code);
      exitDone(code);
    });
    return session;
  }
}
