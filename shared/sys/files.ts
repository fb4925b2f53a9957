// Reading the small files the daemon looks at on every container start and exit (pid files,
// exit codes, cgroup counters) with one synchronous call each. They are in the page cache, in
// tmpfs or in cgroupfs, so the call does not wait on a disk; the promise API would take four
// thread-pool round trips (open, stat, read, close) for each.
import { readFileSync, type Dirent } from 'node:fs';
import { readdir, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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

/**
 * Remove a file or symlink; a missing one is fine. One unlink, where fs.rm with `force` first
 * stats the path and then removes it through its recursive machinery.
 */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Remove a directory that holds only files (a runtime's state directory): its entries unlinked
 * side by side, then the directory. Anything else inside it, or a missing directory, falls back
 * to fs.rm, whose recursive walk stats every entry first.
 */
export async function removeFlatDir(dir: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    if (entries.some((e) => e.isDirectory())) throw new Error('not flat');
    await Promise.all(entries.map((e) => removeFile(join(dir, e.name))));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}
