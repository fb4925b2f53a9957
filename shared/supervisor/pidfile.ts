// The pid file a supervisor keeps for its child, and the clean-up of a child that outlived a
// crashed parent: such an orphan still holds its ports and data directory, so the next start
// would collide with it. It is ours only if /proc/PID/cmdline is exactly the recorded command.
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJson, writeJsonAtomic } from '../fsutil';

export interface PidRecord {
  pid: number;
  command: string;
  args: string[];
  startedAt: string;
}

export async function writePidFile(path: string, rec: PidRecord): Promise<void> {
  await writeJsonAtomic(path, rec);
}

export async function readPidFile(path: string): Promise<PidRecord | undefined> {
  try {
    const rec = await readJson<PidRecord>(path);
    if (!rec || !Number.isInteger(rec.pid) || rec.pid <= 1 || typeof rec.command !== 'string' || !Array.isArray(rec.args)) return undefined;
    return rec;
  } catch {
    return undefined; // a torn or foreign file is not a record of ours
  }
}

export async function removePidFile(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}

/** argv of a live process, or undefined when it is gone (a zombie counts as gone). */
export async function processArgv(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised comm, which may itself hold spaces
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return undefined;
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** True when the live process `pid` runs exactly `command args`. */
export async function isSameProcess(rec: PidRecord): Promise<boolean> {
  const argv = await processArgv(rec.pid);
  if (!argv) return false;
  const want = [rec.command, ...rec.args];
  return argv.length === want.length && argv.every((a, i) => a === want[i]);
}

/** Wait until the process is gone; true if it went within `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if ((await processArgv(pid)) === undefined) return true;
    if (Date.now() >= until) return false;
    await sleep(25);
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Kill the orphan a pid file names, if that PID still runs the recorded command: SIGTERM, then
 * SIGKILL after `graceMs`. Returns the PID it killed, or undefined when there was none.
 */
export async function killOrphan(path: string, graceMs: number): Promise<number | undefined> {
  const rec = await readPidFile(path);
  if (!rec || rec.pid === process.pid || !(await isSameProcess(rec))) return undefined;
  signalPid(rec.pid, 'SIGTERM');
  if (!(await waitGone(rec.pid, graceMs))) {
    signalPid(rec.pid, 'SIGKILL');
    await waitGone(rec.pid, 5000);
  }
  return rec.pid;
}
