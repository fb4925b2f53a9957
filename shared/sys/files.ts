// Reading the small files the daemon looks at on every container start and exit (pid files,
// exit codes, cgroup counters) with one synchronous call each. They are in the page cache, in
// tmpfs or in cgroupfs, so the call does not wait on a disk; the promise API would take four
// thread-pool round trips (open, stat, read, close) for each.
import { readFileSync } from 'node:fs';

/** The file's text, or undefined when it does not exist; other errors throw. */
export function readSmallFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The file's text, or undefined when it cannot be read at all (missing, gone, unreadable). */
export function tryReadSmallFile(path: string): string | undefined {
  try {
    return readSmallFile(path);
  } catch {
    return undefined;
  }
}
