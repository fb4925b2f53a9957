// A sealed in-memory copy of a file (memfd_create(2) with F_SEAL_*): nobody, root included, can
// write to it again, and it goes away with the process that holds it.
import { readFileSync, writeSync, closeSync } from 'node:fs';
import { lazyFuncs } from './libc';
import { lastErrno, syscallError } from './syscalls';

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const F_ADD_SEALS = 1033;
/** SEAL, SHRINK, GROW, WRITE: the set runc and crun require of a copy of themselves. */
export const WRITE_SEALS = 0x1 | 0x2 | 0x4 | 0x8;

interface Bound {
  memfdCreate: (name: string, flags: number) => number;
  fcntl: (fd: number, cmd: number, ...rest: unknown[]) => number;
}

const bind = lazyFuncs<Bound>({
  memfdCreate: 'int memfd_create(const char *name, unsigned int flags)',
  fcntl: 'int fcntl(int fd, int cmd, ...)',
});

/** A sealed memfd holding `file`'s bytes; the caller keeps the descriptor (close-on-exec). */
export function sealedCopy(file: string, name: string): number {
  const b = bind();
  const data = readFileSync(file);
  const fd = b.memfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw syscallError('memfd_create', lastErrno(), name);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    if (b.fcntl(fd, F_ADD_SEALS, 'int', WRITE_SEALS) !== 0) throw syscallError('fcntl', lastErrno(), `F_ADD_SEALS ${name}`);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
