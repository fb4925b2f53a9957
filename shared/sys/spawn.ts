// Starting a child process with posix_spawn(3) instead of Node's fork-and-exec. glibc's
// posix_spawn clones with CLONE_VM|CLONE_VFORK, so no page table is copied: it holds the
// daemon's main thread ~0.1 ms where child_process.spawn holds it 1.5-5 ms (more as the heap
// grows), and the daemon spawns on every container start. The child is made from the calling
// thread, so it is born in whatever namespace that thread is in at the time (see inNewNetns).
// Exits are collected with waitpid(WNOHANG) on SIGCHLD, for these pids only: libuv reaps its
// own children by pid as well, so neither takes the other's.
import { closeSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { constants as osc } from 'node:os';
import { lazyFuncs } from './libc';
import { lastErrno, syscallError } from './syscalls';

/** What the child gets at one descriptor: /dev/null, a pipe we write (`in`) or read (`out`), or one of our fds. */
export type StdioSpec = 'ignore' | 'in' | 'out' | number;

export interface FastSpawnOptions {
  /** Index i is the child's fd i. */
  stdio: StdioSpec[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A session of its own (setsid), so it outlives the daemon's process group. */
  detached?: boolean;
  /** Whether waiting for this child keeps Node's event loop alive (default true). */
  ref?: boolean;
}

export interface ExitStatus {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FastChild {
  pid: number;
  /** Our end of each `in`/`out` pipe, at the child's fd index; undefined elsewhere. */
  stdio: Array<Readable | Writable | undefined>;
  exited: Promise<ExitStatus>;
  kill(signal?: NodeJS.Signals | number): void;
}

interface Bound {
  spawnp: (pid: number[], file: string, fa: Buffer, attr: Buffer, argv: Array<string | null>, envp: Array<string | null>) => number;
  faInit: (fa: Buffer) => number;
  faDestroy: (fa: Buffer) => number;
  faDup2: (fa: Buffer, fd: number, newfd: number) => number;
  faOpen: (fa: Buffer, fd: number, path: string, oflag: number, mode: number) => number;
  faChdir: (fa: Buffer, path: string) => number;
  attrInit: (attr: Buffer) => number;
  attrDestroy: (attr: Buffer) => number;
  attrSetFlags: (attr: Buffer, flags: number) => number;
  attrSetSigmask: (attr: Buffer, set: Buffer) => number;
  attrSetSigdefault: (attr: Buffer, set: Buffer) => number;
  sigemptyset: (set: Buffer) => number;
  sigfillset: (set: Buffer) => number;
  pipe2: (fds: number[], flags: number) => number;
  waitpid: (pid: number, status: number[], options: number) => number;
}

const bind = lazyFuncs<Bound>({
  spawnp: 'int posix_spawnp(_Out_ int *pid, const char *file, void *fa, void *attr, const char **argv, const char **envp)',
  faInit: 'int posix_spawn_file_actions_init(void *fa)',
  faDestroy: 'int posix_spawn_file_actions_destroy(void *fa)',
  faDup2: 'int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)',
  faOpen: 'int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)',
  faChdir: 'int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)',
  attrInit: 'int posix_spawnattr_init(void *attr)',
  attrDestroy: 'int posix_spawnattr_destroy(void *attr)',
  attrSetFlags: 'int posix_spawnattr_setflags(void *attr, short flags)',
  attrSetSigmask: 'int posix_spawnattr_setsigmask(void *attr, void *set)',
  attrSetSigdefault: 'int posix_spawnattr_setsigdefault(void *attr, void *set)',
  sigemptyset: 'int sigemptyset(void *set)',
  sigfillset: 'int sigfillset(void *set)',
  pipe2: 'int pipe2(_Out_ int *fds, int flags)',
  waitpid: 'int waitpid(int pid, _Out_ int *status, int options)',
});

// glibc's flag values (spawn.h).
const SETSIGDEF = 0x04;
const SETSIGMASK = 0x08;
const SETSID = 0x80;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const ECHILD = 10;


/** posix_spawn's calls return the error number itself; the others -1 and errno. */
function ok(rc: number, call: string, detail: string): void {
  if (rc !== 0) throw syscallError(call, rc, detail);
}

// ---------------------------------------------------------------- reaping

const waiting = new Map<number, (s: ExitStatus) => void>();
const holding = new Set<number>(); // pids whose wait keeps the loop alive
let listening = false;
// Signal handles do not keep Node's loop alive; this timer does while a child runs, and it
// looks again now and then in case a SIGCHLD was merged with another and missed.
let keepalive: NodeJS.Timeout | undefined;

function decode(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(osc.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? null };
}

function reap(): void {
  const b = bind();
  for (const [pid, done] of waiting) {
    const st = [0];
    const rc = b.waitpid(pid, st, WNOHANG);
    if (rc === 0) continue; // still running
    waiting.delete(pid);
    holding.delete(pid);
    // ECHILD: someone else collected it; there is no status left to report.
    done(rc === pid ? decode(st[0]) : { code: lastErrno() === ECHILD ? null : 255, signal: null });
  }
  if (holding.size === 0) keepalive?.unref();
  if (waiting.size === 0 && listening) {
    process.off('SIGCHLD', reap);
    listening = false;
    clearInterval(keepalive);
    keepalive = undefined;
  }
}

function watch(pid: number, ref: boolean): Promise<ExitStatus> {
  const p = new Promise<ExitStatus>((resolve) => waiting.set(pid, resolve));
  if (!listening) {
    process.on('SIGCHLD', reap);
    listening = true;
    keepalive = setInterval(reap, 500);
  }
  if (ref) {
    holding.add(pid);
    keepalive?.ref();
  } else if (holding.size === 0) keepalive?.unref();
  // The child may already be gone, its SIGCHLD delivered before the listener: look once now.
  setImmediate(reap);
  return p;
}

// ---------------------------------------------------------------- spawning

function envList(env: NodeJS.ProcessEnv): Array<string | null> {
  const out: Array<string | null> = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out.push(`${k}=${v}`);
  out.push(null);
  return out;
}

/**
 * Start `file` (searched in PATH) with `args`. The child's signal mask is empty and every
 * signal has its default action (the daemon ignores SIGPIPE; children must not inherit that).
 * Failing to start (no such file, not executable) throws a SyscallError naming the file.
 */
export function spawnFast(file: string, args: string[], opts: FastSpawnOptions): FastChild {
  const b = bind();
  const fa = Buffer.alloc(256); // posix_spawn_file_actions_t is 80 bytes on x86-64, 128 on some ABIs
  const attr = Buffer.alloc(512); // posix_spawnattr_t is 336
  const sigs = Buffer.alloc(128);
  const ours: number[] = []; // parent ends, kept
  const theirs: number[] = []; // child ends, closed once the child has them
  const stdio: FastChild['stdio'] = [];
  ok(b.faInit(fa), 'posix_spawn_file_actions_init', file);
  ok(b.attrInit(attr), 'posix_spawnattr_init', file);
  try {
    for (let i = 0; i < opts.stdio.length; i++) {
      const s = opts.stdio[i];
      if (s === 'ignore') ok(b.faOpen(fa, i, '/dev/null', fsc.O_RDWR, 0), 'posix_spawn_file_actions_addopen', '/dev/null');
      else if (typeof s === 'number') ok(b.faDup2(fa, s, i), 'posix_spawn_file_actions_adddup2', `fd ${s}`);
      else {
        const fds = [0, 0];
        if (b.pipe2(fds, O_CLOEXEC) !== 0) throw syscallError('pipe2', lastErrno(), file);
        const [r, w] = fds;
        const child = s === 'in' ? r : w;
        const parent = s === 'in' ? w : r;
        theirs.push(child);
        ours.push(parent);
        ok(b.faDup2(fa, child, i), 'posix_spawn_file_actions_adddup2', `pipe to fd ${i}`);
        stdio[i] = new Socket({ fd: parent, readable: s === 'out', writable: s === 'in' });
      }
    }
    if (opts.cwd) ok(b.faChdir(fa, opts.cwd), 'posix_spawn_file_actions_addchdir_np', opts.cwd);
    b.sigemptyset(sigs);
    ok(b.attrSetSigmask(attr, sigs), 'posix_spawnattr_setsigmask', file);
    b.sigfillset(sigs);
    ok(b.attrSetSigdefault(attr, sigs), 'posix_spawnattr_setsigdefault', file);
    ok(b.attrSetFlags(attr, SETSIGDEF | SETSIGMASK | (opts.detached ? SETSID : 0)), 'posix_spawnattr_setflags', file);
    const pid = [0];
    const rc = b.spawnp(pid, file, fa, attr, [file, ...args, null], envList(opts.env ?? process.env));
    if (rc !== 0) throw syscallError('posix_spawn', rc, file);
    const exited = watch(pid[0], opts.ref ?? true);
    return {
      pid: pid[0],
      stdio,
      exited,
      kill: (signal = 'SIGTERM') => {
        if (!waiting.has(pid[0])) return; // reaped: the pid may belong to someone else by now
        try {
          process.kill(pid[0], signal);
        } catch {
          /* gone meanwhile */
        }
      },
    };
  } catch (e) {
    for (const s of stdio) s?.destroy();
    throw e;
  } finally {
    for (const fd of theirs) closeSync(fd);
    b.attrDestroy(attr);
    b.faDestroy(fa);
  }
}
