import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ShoalError, type ErrorCode } from './errors';

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
   * Wraps the spawn itself, which forks synchronously: the child inherits what the calling
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
    // The first three are pipes whatever follows them, so the streams are there.
    const start = () =>
      spawn(cmd, args, {
        stdio: ['pipe', 'pipe', 'pipe', ...(opts.extraFds ?? [])],
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        signal: opts.signal,
      }) as ChildProcessWithoutNullStreams;
    let child: ReturnType<typeof start>;
    try {
      child = opts.spawnIn ? opts.spawnIn(start) : start();
    } catch (e) {
      reject(e);
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new ShoalError(opts.signal?.aborted ? 'CANCELLED' : 'INTERNAL', `${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (code, sig) => {
      const res = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128 };
      const ok = opts.okCodes ?? [0];
      if (sig === null && ok.includes(res.code)) resolve(res);
      else reject(new CommandError(opts.errorCode ?? 'INTERNAL', [cmd, ...args.slice(0, 3)].join(' '), res.code, res.stderr || (sig ? `killed by ${sig}` : '')));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
