// Keeps one child process running: spawn, probe until ready, restart with capped exponential
// backoff when it dies, stop with SIGTERM then SIGKILL. The child's stdout and stderr go to a
// log file (not through a pipe: a pipe would break the child if the daemon died), and a pid
// file lets the next start kill a child that outlived a crashed daemon.
import { withDeadline } from '../signals';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, on } from 'node:events';
import { promises as fs, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, invalid, unavailable } from '../errors';
import { logger, type Logger } from '../log';
import { killOrphan, removePidFile, waitGone, writePidFile } from './pidfile';

export interface SupervisorOptions {
  /** Short name, used in logs and for the pid and log file names ("etcd", "nats"). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Directory for `<name>.pid` and `<name>.log`. */
  stateDir: string;
  /** One readiness check; true when the child serves. A throw counts as not ready yet. */
  probe: (signal: AbortSignal) => Promise<boolean>;
  /** Pause between probes (default 100 ms). */
  probeIntervalMs?: number;
  /** A child not ready by then is killed and counts as a failed start (default 30 s). */
  readyTimeoutMs?: number;
  /** First restart delay (default 200 ms), doubled per consecutive failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  /** Cap on the restart delay (default 10 s). */
  maxBackoffMs?: number;
  /** A child that stays ready this long resets the backoff (default 10 s). */
  stableAfterMs?: number;
  /** Time between SIGTERM and SIGKILL on stop (default 5 s; etcd has been seen to ignore SIGTERM). */
  stopGraceMs?: number;
  /** Failed attempts before the first start gives up (default 3); after a first success it never does. */
  startAttempts?: number;
  /**
   * Kill the child when the daemon dies, even by SIGKILL (the kernel's parent-death signal, set
   * by util-linux setpriv before it execs the child). For members of a group, such as a
   * manager's etcd: a dead daemon must not leave its vote behind.
   */
  dieWithParent?: boolean;
}

/** setpriv execs the command with PR_SET_PDEATHSIG set, so the pid stays the child's. */
export const SETPRIV = '/usr/bin/setpriv';

export type SupervisorState = 'idle' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'stopped';

export interface SupervisorEvent {
  state: SupervisorState;
  pid?: number;
  restarts: number;
  /** How the previous child ended (set on 'backoff'). */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

interface Running {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class Supervisor extends EventEmitter {
  readonly logFile: string;
  readonly pidFile: string;
  private readonly log: Logger;
  private readonly opts: Required<Omit<SupervisorOptions, 'env' | 'cwd'>> & Pick<SupervisorOptions, 'env' | 'cwd'>;
  private current: SupervisorState = 'idle';
  private child: Running | undefined;
  private restartCount = 0;
  private stopping = false;
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private firstReady: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> };

  constructor(options: SupervisorOptions) {
    super();
    if (!/^[a-zA-Z0-9_.-]+$/.test(options.name)) throw invalid(`supervisor name "${options.name}" must be letters, digits, '.', '_' or '-'`);
    this.opts = {
      probeIntervalMs: 100,
      readyTimeoutMs: 30_000,
      initialBackoffMs: 200,
      maxBackoffMs: 10_000,
      stableAfterMs: 10_000,
      stopGraceMs: 5_000,
      startAttempts: 3,
      dieWithParent: false,
      ...options,
    };
    this.logFile = join(options.stateDir, `${options.name}.log`);
    this.pidFile = join(options.stateDir, `${options.name}.pid`);
    this.log = logger('supervisor', { child: options.name });
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // start() hands it out; nobody else must see it unhandled
    this.firstReady = { resolve, reject, promise };
    this.setMaxListeners(0);
  }

  get state(): SupervisorState {
    return this.current;
  }

  /** PID of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.proc.pid;
  }

  /** How many times the child was started again after it ended. */
  get restarts(): number {
    return this.restartCount;
  }

  /**
   * Start supervising; resolves once the first child is ready. Rejects when the first start fails
   * `startAttempts` times (with the tail of the child's log) or when stopped first. Aborting the
   * signal stops the child.
   */
  start(signal?: AbortSignal): Promise<void> {
    if (this.loop) return this.firstReady.promise;
    if (signal?.aborted) return Promise.reject(new ShoalError('CANCELLED', `${this.opts.name}: start cancelled`));
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.loop = this.run().catch((e) => {
      this.log.error({ err: e }, 'supervisor loop failed');
      this.firstReady.reject(e as Error);
    });
    return this.firstReady.promise;
  }

  /** Stop the child (SIGTERM, SIGKILL after the grace period) and supervising. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.stopCtl.abort();
      this.firstReady.reject(new ShoalError('CANCELLED', `${this.opts.name}: stopped before it was ready`));
      if (this.loop && this.current !== 'stopped') this.setState('stopping');
    }
    // run() sees `stopping` at its next step; the child is ended here, whatever run() awaits.
    if (this.child) await this.kill(this.child);
    await this.loop;
    if (this.current !== 'stopped') this.setState('stopped');
  }

  /** Send the running child a signal (e.g. SIGHUP: reload); false when none runs. */
  signal(sig: NodeJS.Signals): boolean {
    const p = this.child?.proc;
    return p?.pid !== undefined && p.exitCode === null && p.kill(sig);
  }

  /** State changes until the signal aborts. */
  async *changes(signal: AbortSignal): AsyncIterable<SupervisorEvent> {
    try {
      for await (const [ev] of on(this, 'state', { signal })) yield ev as SupervisorEvent;
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }

  /** Resolves when the child is (or next becomes) ready. */
  async whenReady(signal?: AbortSignal): Promise<void> {
    if (this.current === 'ready') return;
    for await (const ev of this.changes(signal ?? this.stopCtl.signal)) if (ev.state === 'ready') return;
    throw new ShoalError('CANCELLED', `${this.opts.name}: stopped while waiting for it to be ready`);
  }

  private setState(state: SupervisorState, exit?: SupervisorEvent['exit']): void {
    this.current = state;
    const ev: SupervisorEvent = { state, pid: this.pid, restarts: this.restartCount, exit };
    this.emit('state', ev);
  }

  private async run(): Promise<void> {
    await fs.mkdir(this.opts.stateDir, { recursive: true });
    const orphan = await killOrphan(this.pidFile, this.opts.stopGraceMs);
    if (orphan) this.log.warn({ pid: orphan }, 'killed a child left running by an earlier daemon');
    let everReady = false;
    let failures = 0;
    let spawnError: string | undefined;
    while (!this.stopping) {
      this.setState('starting');
      let readyAt: number | undefined;
      let exit: { code: number | null; signal: NodeJS.Signals | null };
      try {
        const child = await this.spawnChild();
        const ready = await this.waitReady(child);
        if (ready && !this.stopping) {
          readyAt = Date.now();
          everReady = true;
          this.setState('ready');
          this.firstReady.resolve();
        }
        // not ready in time, or stop() came while spawning (before it could see the child)
        if (!ready || this.stopping) await this.kill(child);
        exit = await child.exited;
      } catch (e) {
        // spawn itself failed (binary missing, log dir unwritable)
        exit = { code: null, signal: null };
        spawnError = (e as Error).message;
        this.log.error({ err: e }, 'could not start the child');
      }
      this.child = undefined;
      await removePidFile(this.pidFile).catch(() => undefined);
      if (this.stopping) break;
      failures = readyAt !== undefined && Date.now() - readyAt >= this.opts.stableAfterMs ? 1 : failures + 1;
      if (!everReady && failures >= this.opts.startAttempts) {
        const tail = spawnError ?? (await this.logTail());
        this.firstReady.reject(unavailable(`${this.opts.name} did not become ready after ${failures} attempts${tail ? `: ${tail}` : ''}`));
        break;
      }
      const delay = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** (failures - 1));
      this.restartCount++;
      this.log.warn({ code: exit.code, signal: exit.signal, restarts: this.restartCount, delayMs: delay }, `${this.opts.name} exited; restarting`);
      this.setState('backoff', exit);
      await sleep(delay, undefined, { signal: this.stopCtl.signal }).catch(() => undefined);
    }
    this.setState('stopped');
  }

  private async spawnChild(): Promise<Running> {
    await this.rotateLog();
    const fd = openSync(this.logFile, 'a');
    let proc: ChildProcess;
    try {
      // Own process group: a ^C meant for the daemon does not reach the child; the daemon stops it.
      const [cmd, args] = this.opts.dieWithParent ? [SETPRIV, ['--pdeathsig', 'KILL', '--', this.opts.command, ...this.opts.args]] : [this.opts.command, this.opts.args];
      proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true, env: this.opts.env ?? process.env, cwd: this.opts.cwd });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (e) => {
        this.log.error({ err: e }, 'child process error');
        if (proc.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    if (proc.pid === undefined) {
      const why = await new Promise<string>((resolve) => proc.once('error', (e) => resolve(e.message)).once('exit', () => resolve('')));
      await exited;
      throw unavailable(`could not run ${this.opts.command}${why ? ` (${why})` : ''}`);
    }
    this.child = { proc, exited };
    await writePidFile(this.pidFile, { pid: proc.pid, command: this.opts.command, args: this.opts.args, startedAt: new Date().toISOString() });
    this.log.info({ pid: proc.pid }, `${this.opts.name} started`);
    return this.child;
  }

  /** Probe until ready; false on timeout, exit or stop. */
  private async waitReady(child: Running): Promise<boolean> {
    let ended = false;
    void child.exited.then(() => (ended = true));
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    while (!ended && !this.stopping && Date.now() < deadline) {
      const d = withDeadline(Math.max(1, deadline - Date.now()), this.stopCtl.signal);
      const ok = await this.opts.probe(d.signal).catch(() => false);
      d.clear();
      if (ok && !ended) return true;
      await Promise.race([sleep(this.opts.probeIntervalMs, undefined, { signal: this.stopCtl.signal }).catch(() => undefined), child.exited]);
    }
    if (!ended && !this.stopping) this.log.warn({ timeoutMs: this.opts.readyTimeoutMs }, `${this.opts.name} not ready in time; killing it`);
    return false;
  }

  /** SIGTERM, then SIGKILL after the grace period; only this child's own PID. */
  private async kill(child: Running): Promise<void> {
    const pid = child.proc.pid;
    if (pid === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    child.proc.kill('SIGTERM');
    const graceful = await Promise.race([child.exited.then(() => true), sleep(this.opts.stopGraceMs).then(() => false)]);
    if (!graceful) {
      this.log.warn({ pid }, `${this.opts.name} ignored SIGTERM; sending SIGKILL`);
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    await waitGone(pid, 1000);
  }

  private async logTail(): Promise<string> {
    const text = await fs.readFile(this.logFile, 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-3).join('; ').slice(-600);
  }

  private async rotateLog(): Promise<void> {
    const st = await fs.stat(this.logFile).catch(() => undefined);
    if (st && st.size > 16 * 1024 * 1024) await fs.rename(this.logFile, `${this.logFile}.1`);
  }

}
