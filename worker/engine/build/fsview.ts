// Path resolution inside a tree that stands for a root filesystem (a build context, an image's
// merged view, a layer being written over it): symlinks resolve against that root, never the
// host's, and ".." stops at the root, as Docker's FollowSymlinkInScope does.

import { promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../../../shared/errors';

const MAX_LINKS = 255;

/** lstat `rel` in the first of `roots` that has it (upper layers first). */
export async function lstatIn(roots: string[], rel: string): Promise<{ root: string; stat: Stats } | undefined> {
  for (const root of roots) {
    try {
      return { root, stat: await fs.lstat(join(root, rel)) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
  }
  return undefined;
}

/**
 * Resolve `path` within the stacked `roots` as if they were "/": returns the resolved path
 * relative to the root ("" for the root itself, else "a/b"). Missing components are kept
 * lexically; `followLast` says whether a final symlink is followed.
 */
export async function resolveInScope(roots: string[], path: string, followLast = true): Promise<string> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    if (pending.length === 0 && !followLast) {
      resolved = candidate;
      break;
    }
    const hit = await lstatIn(roots, candidate.join('/'));
    if (hit?.stat.isSymbolicLink()) {
      if (++hops > MAX_LINKS) throw invalid(`too many levels of symbolic links resolving ${path}`);
      const target = await fs.readlink(join(hit.root, candidate.join('/')));
      if (target.startsWith('/')) resolved = [];
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    resolved = candidate;
  }
  return resolved.join('/');
}
