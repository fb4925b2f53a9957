// crun re-executes itself from a read-only copy of its binary on every create and exec, so that
// a container can never reach the host's runtime binary for writing through /proc/<pid>/exe
// (CVE-2019-5736). Each time that costs a bind mount, a lazy unmount, a second exec and its
// dynamic linking: 3.3 ms of a 14 ms `crun create` measured here. crun skips all that when its
// /proc/self/exe is already a sealed memfd (cloned_binary.c, is_self_cloned), which is what it
// would have made: so the daemon makes that copy once and runs crun from it by its /proc path.
import { statSync } from 'node:fs';
import { sealedCopy } from '../../../shared/sys/memfd';

const copies = new Map<string, { ino: number; path: string }>();

/**
 * The path to run `binary` by: /proc/<daemon>/fd/<n> of a sealed copy, made once per process
 * (and again if the file was replaced since, by a package upgrade).
 */
export function sealedRuntimeBinary(binary: string): string {
  const { ino } = statSync(binary);
  const known = copies.get(binary);
  if (known?.ino === ino) return known.path;
  const fd = sealedCopy(binary, `shoal:${binary}`);
  const path = `/proc/${process.pid}/fd/${fd}`;
  copies.set(binary, { ino, path });
  return path;
}
