// A few Linux system calls made directly from the daemon through koffi (libc FFI), where
// spawning mount(8), umount(8) or unshare(1) per container cost a fork and an exec each:
// 4-8 ms apiece on the test machines against well under 1 ms for the call itself.
// Calls are synchronous on the calling (main) thread. That matters for setns/unshare: they
// change the namespace of the calling thread only, which is what inNewNetns and inNetns rely on.
import { openSync, closeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { ShoalError, type ErrorCode } from '../errors';
import { libc } from './libc';

export const MS_BIND = 0x1000;
export const MNT_DETACH = 0x2;
export const CLONE_NEWNET = 0x40000000;

/** A failed system call: `errno` is the symbolic name (EBUSY, EINVAL...). */
export class SyscallError extends ShoalError {
  constructor(
    readonly syscall: string,
    readonly errno: string,
    detail: string,
    text: string,
  ) {
    super(errnoCode(errno), `${syscall}(${detail}): ${text}`);
  }
}

function errnoCode(errno: string): ErrorCode {
  if (errno === 'ENOENT') return 'NOT_FOUND';
  if (errno === 'EPERM' || errno === 'EACCES') return 'PERMISSION_DENIED';
  if (errno === 'EBUSY') return 'CONFLICT';
  if (errno === 'EINVAL') return 'INVALID_ARGUMENT';
  return 'INTERNAL';
}

interface Libc {
  mount: (source: string | null, target: string, fstype: string | null, flags: number, data: string | null) => number;
  umount2: ((target: string, flags: number) => number) & { async: (target: string, flags: number, done: (err: unknown, rc: number) => void) => void };
  unshare: (flags: number) => number;
  setns: (fd: number, nstype: number) => number;
  socket: (domain: number, type: number, protocol: number) => number;
  ioctl: (fd: number, request: number, arg: Buffer) => number;
  close: (fd: number) => number;
  strerror: (errno: number) => string;
  errno: () => number;
}

let bound: Libc | undefined;

/** Bind the calls on first use, so a daemon that never mounts anything never loads the FFI. */
function load(): Libc {
  if (bound) return bound;
  const { koffi, lib } = libc();
  bound = {
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)') as Libc['mount'],
    umount2: lib.func('int umount2(const char *target, int flags)') as Libc['umount2'],
    unshare: lib.func('int unshare(int flags)') as Libc['unshare'],
    setns: lib.func('int setns(int fd, int nstype)') as Libc['setns'],
    socket: lib.func('int socket(int domain, int type, int protocol)') as Libc['socket'],
    ioctl: lib.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)') as Libc['ioctl'],
    close: lib.func('int close(int fd)') as Libc['close'],
    strerror: lib.func('const char *strerror(int errnum)') as Libc['strerror'],
    errno: () => koffi.errno(),
  };
  return bound;
}

/** The typed error for error number `errnum` from `syscall`. */
export function syscallError(syscall: string, errnum: number, detail: string): SyscallError {
  // Lower case, as the daemon's other messages: "invalid argument", "device or resource busy".
  return new SyscallError(syscall, getSystemErrorName(-errnum), detail, load().strerror(errnum).toLowerCase());
}

/** errno as the last FFI call left it. */
export function lastErrno(): number {
  return load().errno();
}

function check(rc: number, syscall: string, detail: string): void {
  if (rc !== 0) throw syscallError(syscall, lastErrno(), detail);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(load().mount(source, target, fstype, flags, data), 'mount', `${fstype ?? 'bind'} on ${target}`);
}

export function umount(target: string, flags = 0): void {
  check(load().umount2(target, flags), 'umount', target);
}

/**
 * umount(2) on a libuv thread instead of the calling one. Unmounting an overlay syncs its upper
 * filesystem, which is the whole disk's dirty data: 0.4 ms on a quiet disk, 40-150 ms measured
 * here under another process's writes, and the daemon's main thread must not wait for that.
 * A failure is repeated synchronously (failing is quick), to report it with this thread's errno.
 */
export function umountAsync(target: string, flags = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    load().umount2.async(target, flags, (err, rc) => {
      if (err) return reject(err);
      if (rc === 0) return resolve();
      try {
        umount(target, flags);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** ioctl(2) with an in/out buffer (struct ifreq and the like). */
export function ioctl(fd: number, request: number, arg: Buffer, detail: string): void {
  check(load().ioctl(fd, request, arg), 'ioctl', detail);
}

/** A datagram socket for interface ioctls, in the calling thread's network namespace; closed after `fn`. */
export function withControlSocket<T>(fn: (fd: number) => T): T {
  const c = load();
  const AF_INET = 2;
  const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
  const fd = c.socket(AF_INET, SOCK_DGRAM_CLOEXEC, 0);
  check(fd < 0 ? fd : 0, 'socket', 'AF_INET');
  try {
    return fn(fd);
  } finally {
    c.close(fd);
  }
}

let home: number | undefined;

/**
 * A descriptor of the daemon's own network namespace, opened once. Children that must put
 * something back into it (a veth's host end) get it as an inherited fd: naming the daemon by
 * its pid would race with the main thread's short stays in other namespaces.
 */
export function homeNetnsFd(): number {
  home ??= openSync('/proc/thread-self/ns/net', 'r');
  return home;
}

/**
 * Run `fn` with the calling thread in a new network namespace, bound to `nsPath` (an existing,
 * empty file) so it outlives the thread's stay in it. The thread always returns to its own
 * namespace before this returns. Processes `fn` spawns are born in the new namespace.
 */
export function inNewNetns<T>(nsPath: string, fn: () => T): T {
  const c = load();
  const back = homeNetnsFd();
  check(c.unshare(CLONE_NEWNET), 'unshare', 'CLONE_NEWNET');
  try {
    mount('/proc/thread-self/ns/net', nsPath, null, MS_BIND);
    return fn();
  } finally {
    // Failing to get back would leave the daemon itself in the container's namespace.
    check(c.setns(back, CLONE_NEWNET), 'setns', 'back to the daemon namespace');
  }
}

/** Run `fn` with the calling thread inside the network namespace bound at `nsPath`. */
export function inNetns<T>(nsPath: string, fn: () => T): T {
  const c = load();
  const back = homeNetnsFd();
  const target = openSync(nsPath, 'r');
  try {
    check(c.setns(target, CLONE_NEWNET), 'setns', nsPath);
    try {
      return fn();
    } finally {
      check(c.setns(back, CLONE_NEWNET), 'setns', 'back to the daemon namespace');
    }
  } finally {
    closeSync(target);
  }
}
