// Processes the lab supervises: started detached inside a host's network namespace, found
// again by PID (checked against /proc/PID/cmdline before any signal), and ended.
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync, promises as fs, openSync, closeSync } from 'node:fs';
import { ShoalError, unavailable } from '../../shared/errors';

export const netnsPath = (netns: string) => `/run/netns/${netns}`;

/** Alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/**
 * Whether PID is the process we started with `argv`: its command line ends with argv (it reads
 * `nsenter --net=... -- argv` for the instant before nsenter executes the program).
 */
export function isOurs(pid: number | undefined, argv: string[]): pid is number {
  if (!pid || !processAlive(pid)) return false;
  const cl = cmdline(pid);
  if (!cl || cl.length < argv.length) return false;
  const tail = cl.slice(cl.length - argv.length);
  return tail.every((a, i) => a === argv[i]);
}

/**
 * Start argv inside the network namespace, detached (own session, output appended to `log`),
 * so it outlives the lab command. nsenter --net only switches the network namespace (no
 * private mount namespace, unlike `ip netns exec`), and it executes argv in place: the PID it
 * returns is the program's.
 */
export function spawnInNetns(netns: string, argv: string[], log: string, cwd: string): number {
  const fd = openSync(log, 'a');
  try {
    const child = spawn('nsenter', [`--net=${netnsPath(netns)}`, '--', ...argv], { detached: true, stdio: ['ignore', fd, fd], cwd, env: daemonEnv() });
    child.on('error', () => undefined);
    child.unref();
    if (!child.pid) throw unavailable(`cannot start ${argv[0]} in ${netns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The environment of supervised daemons: ours, minus what points clients at some daemon. */
function daemonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DOCKER_HOST', 'SHOAL_HOST', 'SHOAL_LAB']) delete env[k];
  return env;
}

export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; processAlive(pid); delay = Math.min(delay * 2, 200)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** SIGKILL and wait until it is gone. */
export async function killNow(pid: number): Promise<void> {
  signal(pid, 'SIGKILL');
  if (!(await waitGone(pid, 10_000))) throw new ShoalError('INTERNAL', `process ${pid} did not end after SIGKILL`);
}

/** SIGTERM, then SIGKILL after the grace period. */
export async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs)) return;
  await killNow(pid);
}

/** PIDs of every process whose network namespace is `netns` (all of them ours: we made it). */
export async function pidsInNetns(netns: string): Promise<number[]> {
  let ino: number;
  try {
    ino = (await fs.stat(netnsPath(netns))).ino;
  } catch {
    return [];
  }
  const want = `net:[${ino}]`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === want && processAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return out;
}

/** SIGKILL every process in the namespace and wait for them. */
export async function killNetnsProcesses(netns: string): Promise<void> {
  const pids = await pidsInNetns(netns);
  for (const p of pids) signal(p, 'SIGKILL');
  const left = [];
  for (const p of pids) if (!(await waitGone(p, 10_000))) left.push(p);
  if (left.length) throw new ShoalError('INTERNAL', `processes ${left.join(', ')} in ${netns} did not end after SIGKILL`);
}

/** The last lines of a log file, for error messages. */
export async function logTail(path: string, lines = 15): Promise<string> {
  const text = await fs.readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
