import type { Readable, Writable } from 'node:stream';
import { ShoalError, errorMessage, type ErrorCode } from './errors';
import { spawnFast, type FastChild } from './sys/spawn';

export interface RunOptions {
  input?: string | Buffer;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Error code to raise when the command exits non-zero (default INTERNAL). */
  errorCode?: ErrorCode;
  /** Exit codes that count as success. */
  okCodes?: number[];
  /**
   * Wraps the spawn itself, which happens synchronously (posix_spawn, see shared/sys/spawn): the child inherits what the calling
   * thread has at that moment (a network namespace entered just for it, see shared/sys).
   * Input is written only after the wrapper returns.
   */
  spawnIn?: <T>(spawnChild: () => T) => T;
  /** Descriptors the child inherits as fds 3, 4, ... */
  extraFds?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandError extends ShoalError {
  constructor(
    code: ErrorCode,
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(code, `${command}: ${stderr.trim().split('\n').slice(-3).join('; ') || `exit status ${exitCode}`}`);
  }
}

/** Run a command to completion and collect its output; a failing exit is a typed error. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ShoalError('CANCELLED', `${cmd}: cancelled before it started`));
      return;
    }
    const start = () => spawnFast(cmd, args, { stdio: ['in', 'out', 'out', ...(opts.extraFds ?? [])], env: opts.env ?? process.env, cwd: opts.cwd });
    let child: FastChild;
    try {
      child = opts.spawnIn ? opts.spawnIn(start) : start();
    } catch (e) {
      reject(new ShoalError('INTERNAL', `${cmd}: ${errorMessage(e)}`, { cause: e }));
      return;
    }
    const stdin = child.stdio[0] as Writable;
    const stdout = child.stdio[1] as Readable;
    const stderr = child.stdio[2] as Readable;
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    stderr.on('data', (b: Buffer) => err.push(b));
    // The result once the process is gone and both outputs are drained.
    const drained = (r: Readable) => new Promise<void>((done) => (r.readableEnded || r.destroyed ? done() : r.once('close', () => done())));
    void Promise.all([child.exited, drained(stdout), drained(stderr)]).then(([st]) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) {
        reject(new ShoalError('CANCELLED', `${cmd}: cancelled`));
        return;
      }
      const res = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: st.code ?? 128 };
      const ok = opts.okCodes ?? [0];
      if (st.signal === null && ok.includes(res.code)) resolve(res);
      else reject(new CommandError(opts.errorCode ?? 'INTERNAL', [cmd, ...args.slice(0, 3)].join(' '), res.code, res.stderr || (st.signal ? `killed by ${st.signal}` : '')));
    });
    stdin.on('error', () => undefined);
    stdin.end(opts.input ?? '');
  });
}
