import { promises as fs, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ShoalError, errorMessage } from '../../../shared/errors';
import type { OciRuntime } from './oci';
import { spawnFast, type FastChild } from '../../../shared/sys/spawn';
import { removeFile, tryReadSmallFile } from '../../../shared/sys/files';

/** The runtime refused to create or exec the process; `message` is its stderr. */
export class RuntimeCreateError extends ShoalError {
  constructor(readonly runtimeMessage: string, readonly status?: number) {
    super('INTERNAL', runtimeMessage.trim());
  }
}

/** Reads conmon's sync-pipe messages: one JSON object per line ({"data": N, "message"?: "..."}). */
class SyncReader {
  private buf = '';
  private queue: Array<{ data: number; message?: string }> = [];
  private waiters: Array<(m: { data: number; message?: string } | undefined) => void> = [];
  private ended = false;

  constructor(stream: Readable) {
    stream.on('data', (b: Buffer) => {
      this.buf += b.toString();
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        try {
          this.push(JSON.parse(line));
        } catch {
          this.push({ data: -1, message: `conmon sent an unreadable message: ${line}` });
        }
      }
    });
    const end = () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private push(m: { data: number; message?: string }): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  /** The next message, or undefined once conmon closed the pipe. */
  next(): Promise<{ data: number; message?: string } | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((r) => this.waiters.push(r));
  }
}

export interface ConmonPaths {
  conmon: string;
  /** --exit-dir: conmon writes <exitDir>/<container id> with the exit code. */
  exitDir: string;
  /** --socket-dir-path: short symlinks to bundles, so attach socket paths fit sun_path. */
  socketDir: string;
}

export interface ConmonCreateOptions {
  id: string;
  /** Short unique name for the attach symlink (-u). */
  cuuid: string;
  name: string;
  runtime: OciRuntime;
  bundle: string; // holds config.json; conmon puts attach, ctl, winsz, pidfile, oom, exit here
  logPath: string;
  stdin: boolean;
  leaveStdinOpen: boolean;
  terminal: boolean;
}

function spawnConmon(paths: ConmonPaths, args: string[], attachPipes: boolean, cwd: string): { child: FastChild; stderr: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3' };
  if (attachPipes) {
    env._OCI_STARTPIPE = '4';
    env._OCI_ATTACHPIPE = '5';
  }
  // detached: conmon must not share shoald's session, so it outlives a daemon restart.
  // cwd: conmon drops an "oom" marker in its working directory; keep it in the bundle.
  const child = spawnFast(paths.conmon, args, { stdio: ['ignore', 'ignore', 'out', 'out', ...(attachPipes ? (['in', 'out'] as const) : [])], env, detached: true, cwd, ref: false });
  let err = '';
  (child.stdio[2] as Readable).on('data', (b: Buffer) => (err += b.toString()));
  return { child, stderr: () => err };
}

function baseArgs(paths: ConmonPaths, o: { id: string; cuuid: string; name?: string; runtime: OciRuntime; bundle: string; stdin: boolean; terminal: boolean }): string[] {
  const args = ['--api-version', '1', '-c', o.id, '-u', o.cuuid, '-r', o.runtime.path, '-b', o.bundle, '-p', join(o.bundle, 'pidfile'), '-P', join(o.bundle, 'conmon.pid'), '--socket-dir-path', paths.socketDir];
  if (o.name) args.push('-n', o.name);
  for (const a of o.runtime.globalArgs) args.push('--runtime-arg', a);
  if (o.stdin) args.push('-i');
  if (o.terminal) args.push('-t');
  return args;
}

/**
 * Create the container under a new conmon (runtime `create`, not yet started). Resolves with
 * the container's init pid once the runtime has created it; the caller then attaches and
 * runs `<runtime> start`. conmon double-forks: it keeps stdio, the log and the exit code
 * whatever happens to shoald.
 */
export async function conmonCreate(paths: ConmonPaths, o: ConmonCreateOptions, timeoutMs = 60_000): Promise<{ pid: number; conmonPid: number }> {
  await Promise.all([
    fs.mkdir(paths.exitDir, { recursive: true }),
    fs.mkdir(paths.socketDir, { recursive: true }),
    removeFile(join(paths.exitDir, o.id)),
    removeFile(join(o.bundle, 'oom')),
    removeFile(join(o.bundle, 'exit')),
  ]);
  const args = [
    ...baseArgs(paths, o),
    '-l', `k8s-file:${o.logPath}`,
    '--exit-dir', paths.exitDir,
    '--persist-dir', o.bundle,
    ...(o.stdin && o.leaveStdinOpen ? ['--leave-stdin-open'] : []),
  ];
  const { child, stderr } = spawnConmon(paths, args, false, o.bundle);
  const sync = new SyncReader(child.stdio[3] as Readable);
  const exited = child.exited.then((st) => st.code);
  let timer: NodeJS.Timeout | undefined;
  try {
    const msg = await Promise.race([
      sync.next(),
      new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new ShoalError('INTERNAL', `conmon did not report the container created within ${timeoutMs / 1000}s`)), timeoutMs))),
    ]);
    if (!msg) {
      const code = await exited;
      throw new RuntimeCreateError(stderr().trim() || `conmon exited with status ${code} before creating the container`);
    }
    if (msg.data < 0) throw new RuntimeCreateError(msg.message ?? 'the runtime failed to create the container', msg.data);
    await exited;
    // Unknown (0): exit handling then goes by the exit file and the runtime's state.
    return { pid: msg.data, conmonPid: Number(tryReadSmallFile(join(o.bundle, 'conmon.pid'))?.trim() ?? 0) };
  } finally {
    if (timer) clearTimeout(timer);
    (child.stdio[3] as Readable).destroy();
    (child.stdio[2] as Readable).destroy();
  }
}

export interface ConmonExecOptions {
  containerId: string;
  cuuid: string;
  runtime: OciRuntime;
  /** The exec session's own directory: process.json, pidfile, its attach socket. */
  bundle: string;
  processFile: string;
  stdin: boolean;
  terminal: boolean;
  /** Wait for the caller to attach before the process runs, so no output is lost. */
  attach: boolean;
}

/** One exec session under conmon: its attach socket, its pid, and its exit code. */
export class ConmonExec {
  private constructor(
    private readonly child: FastChild,
    private readonly sync: SyncReader,
    private readonly stderr: () => string,
  ) {}

  static async spawn(paths: ConmonPaths, o: ConmonExecOptions): Promise<ConmonExec> {
    await fs.mkdir(paths.socketDir, { recursive: true });
    const args = [...baseArgs(paths, { id: o.containerId, cuuid: o.cuuid, runtime: o.runtime, bundle: o.bundle, stdin: o.stdin, terminal: o.terminal }), '-l', 'none', '--exec', '--exec-process-spec', o.processFile];
    if (o.attach) args.push('--exec-attach');
    const { child, stderr } = spawnConmon(paths, args, o.attach, o.bundle);
    const ex = new ConmonExec(child, new SyncReader(child.stdio[3] as Readable), stderr);
    if (o.attach) {
      // conmon blocks on a first start message before it forks at all.
      (child.stdio[4] as Writable).write('0');
    }
    return ex;
  }

  /** Resolves when the attach socket exists (attach mode only). */
  async attachReady(): Promise<void> {
    const pipe = this.child.stdio[5] as Readable;
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(new RuntimeCreateError(this.stderr().trim() || 'conmon exited before its attach socket was ready'));
      };
      const cleanup = () => {
        pipe.off('data', onData);
        pipe.off('end', onEnd);
        pipe.off('close', onEnd);
      };
      pipe.on('data', onData);
      pipe.on('end', onEnd);
      pipe.on('close', onEnd);
    });
  }

  /** Let the process run (attach mode: after the caller connected to the attach socket). */
  release(): void {
    const start = this.child.stdio[4] as Writable | undefined;
    if (start) {
      start.write('0');
      start.end();
    }
  }

  /** The exec'd process pid, or a RuntimeCreateError (e.g. executable not found). */
  async started(): Promise<number> {
    const m = await this.sync.next();
    if (!m) throw new RuntimeCreateError(this.stderr().trim() || 'conmon exited before the exec started');
    if (m.data < 0) throw new RuntimeCreateError(m.message ?? 'the runtime failed to exec the process', m.data);
    return m.data;
  }

  /** The exit code (128+N for a signal), once the process has exited and its output is drained. */
  async exited(): Promise<number> {
    const m = await this.sync.next();
    this.dispose();
    if (!m) return -1;
    return m.data;
  }

  dispose(): void {
    for (const s of this.child.stdio) s?.destroy();
  }
}

/** Ask conmon to resize the container's (or exec's) pty: "1 <height> <width>" on the ctl fifo. */
export async function resizeTerminal(bundle: string, height: number, width: number): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(join(bundle, 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    await fh.write(`1 ${height} ${width}\n`);
  } catch (e) {
    throw new ShoalError('FAILED_PRECONDITION', `cannot resize the terminal: ${errorMessage(e)}`);
  } finally {
    await fh?.close();
  }
}

/** Whether a process is alive (signal 0). */
export function processAlive(pid: number): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
