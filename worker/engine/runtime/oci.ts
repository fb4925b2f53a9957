import { spawn } from 'node:child_process';
import { promises as fs, constants as fsc, openSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { run, CommandError } from '../../../shared/exec';
import { errorMessage, ShoalError } from '../../../shared/errors';
import type { RuntimeName } from './select';
import { removeFlatDir } from '../../../shared/sys/files';

/** `<runtime> state` as both crun and runc print it. */
export interface OciState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  bundle: string;
}

/** Signal names the API accepts (with or without SIG), to numbers. */
export const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** "SIGTERM", "TERM", "15", "RTMIN+3" -> a signal number; undefined when unknown. */
export function parseSignal(s: string | number): number | undefined {
  if (typeof s === 'number') return Number.isInteger(s) && s > 0 && s <= 64 ? s : undefined;
  const t = s.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n > 0 && n <= 64 ? n : undefined;
  }
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(t) ?? /^RTMAX(?:-(\d+))?$/.exec(t);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = t.startsWith('RTMIN') ? 34 + off : 64 - off;
    return n >= 34 && n <= 64 ? n : undefined;
  }
  return SIGNALS[t];
}

/** The crun/runc command line, with a per-daemon state root. */
export class OciRuntime {
  constructor(
    readonly name: RuntimeName,
    readonly path: string,
    /** --root: the runtime's state directory (under the daemon's exec root). */
    readonly root: string,
  ) {}

  /** Global args for this runtime (conmon passes them through with --runtime-arg). */
  get globalArgs(): string[] {
    return [`--root=${this.root}`];
  }

  private async cmd(args: string[], okCodes?: number[]): Promise<{ stdout: string; stderr: string; code: number }> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    return run(this.path, [...this.globalArgs, ...args], { okCodes });
  }

  /** The container's state, or undefined when the runtime does not know it. */
  async state(id: string): Promise<OciState | undefined> {
    try {
      const r = await this.cmd(['state', id]);
      return JSON.parse(r.stdout) as OciState;
    } catch (e) {
      if (e instanceof CommandError && /does not exist|No such file|not found|ENOENT/i.test(e.stderr)) return undefined;
      throw e;
    }
  }

  async list(): Promise<string[]> {
    const entries = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /**
   * Let a created container's process run. With crun, `start` does no more than open the
   * state directory's exec.fifo for writing, unlink it and write one byte, which the waiting
   * init reads before it execs (crun's status.c; poststart hooks and the notify socket, which
   * shoal never sets, would add more). Doing that here spares a process spawn (~7 ms) on every
   * start. runc's fifo works the other way round (init writes, start reads), so runc keeps its
   * own `start`.
   */
  async start(id: string): Promise<void> {
    if (this.name === 'crun') return this.releaseExecFifo(id);
    await this.cmd(['start', id]);
  }

  /**
   * Synchronous calls: none of them can block (the open is non-blocking, the fifo has a reader
   * and room for a byte), and four thread-pool round trips cost more than the calls.
   */
  private async releaseExecFifo(id: string): Promise<void> {
    const fifo = join(this.root, id, 'exec.fifo');
    let fd: number;
    try {
      // Non-blocking: with no reader (the init died), open fails with ENXIO instead of hanging.
      fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'it is not in the created state' : code === 'ENXIO' ? 'its process is gone' : errorMessage(e);
      throw new ShoalError('INTERNAL', `cannot start container ${id}: ${why}`);
    }
    try {
      unlinkSync(fifo); // what crun's status reads as "started"
      writeSync(fd, Buffer.of(0));
    } finally {
      closeSync(fd);
    }
  }

  async kill(id: string, signal: number): Promise<void> {
    await this.cmd(['kill', id, String(signal)]);
  }

  async pause(id: string): Promise<void> {
    await this.cmd(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.cmd(['resume', id]);
  }

  /** Change a running container's cgroup limits (an OCI LinuxResources document in `file`). */
  async update(id: string, file: string): Promise<void> {
    await this.cmd(['update', '--resources', file, id]);
  }

  /**
   * Whether the runtime holds state for `id`. crun and runc both keep a directory per container
   * under --root; asking the filesystem spares a process spawn (~5 ms) on every start and removal.
   */
  async known(id: string): Promise<boolean> {
    return fs.stat(join(this.root, id)).then(
      (st) => st.isDirectory(),
      () => false,
    );
  }

  /** Forget the container (its processes must be gone, unless force). Missing is fine. */
  async delete(id: string, force = false): Promise<void> {
    if (!(await this.known(id))) return;
    try {
      await this.cmd(['delete', ...(force ? ['--force'] : []), id]);
    } catch (e) {
      if (e instanceof CommandError && /does not exist|No such file|not found/i.test(e.stderr)) return;
      throw e;
    }
  }

  /**
   * Forget a container whose processes are all gone and whose cgroups the caller removed: all
   * the runtime still holds for it is its state directory. Spares the `delete` process (5-14 ms)
   * on every exit; anything else (a process still in the cgroup) goes through delete --force.
   */
  async forgetStopped(id: string): Promise<void> {
    await removeFlatDir(join(this.root, id));
  }

  /**
   * Run a process in the container in the foreground and collect its output (health checks).
   * A timeout kills the exec'd process through its pid file.
   */
  async execCollect(id: string, processFile: string, pidFile: string, timeoutMs: number, maxOutput = 4096, signal?: AbortSignal): Promise<{ code: number; output: string; timedOut: boolean }> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    return new Promise((resolve, reject) => {
      const child = spawn(this.path, [...this.globalArgs, 'exec', '--process', processFile, '--pid-file', pidFile, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = Buffer.alloc(0);
      const collect = (b: Buffer) => {
        if (out.length < maxOutput) out = Buffer.concat([out, b]).subarray(0, maxOutput);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let timedOut = false;
      const killAll = async () => {
        const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
        if (pid > 1) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => {
        timedOut = true;
        void killAll();
      }, timeoutMs);
      const onAbort = () => void killAll();
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('close', () => signal?.removeEventListener('abort', onAbort));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new ShoalError('INTERNAL', `${this.name} exec: ${errorMessage(e)}`));
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code: code ?? (sig ? 128 + (parseSignal(sig) ?? 9) : 1), output: out.toString('utf8'), timedOut });
      });
    });
  }
}
