// The lab's state file (/run/shoal-lab/<name>/state.json), the lock that serialises its
// writers, and the reservation of a lab's subnet index among labs side by side.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { conflict, errorMessage, internal, notFound } from '../../shared/errors';
import { labDirs, MAX_INDEX, RUN_ROOT, type LabPlan, type PlannedHost } from './plan';
import { processAlive } from './procs';

export interface HostState extends PlannedHost {
  /** The supervised process (shoald, or docker-registry on reg), as started: argv after nsenter. */
  argv: string[];
  pid?: number;
  /** Link to the lab bridge is down (`lab cut`). */
  cut: boolean;
}

export interface LabState extends Omit<LabPlan, 'hosts'> {
  version: 1;
  createdAt: string;
  /** 'creating' until every host is up (and the cluster formed); `down` handles both. */
  phase: 'creating' | 'up';
  standalone: boolean;
  logLevel: string;
  /** "<reg address>:5000" when the lab has a registry. */
  registry?: string;
  hosts: HostState[];
}

export async function readState(name: string): Promise<LabState> {
  const { stateFile } = labDirs(name);
  let text: string;
  try {
    text = await fs.readFile(stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`no lab named '${name}' is up (no ${stateFile})`);
    throw e;
  }
  try {
    return JSON.parse(text) as LabState;
  } catch (e) {
    throw internal(`lab state ${stateFile} is not valid JSON: ${errorMessage(e)}`);
  }
}

/** Write atomically (rename), so a reader never sees half a file. */
export async function writeState(s: LabState): Promise<void> {
  const tmp = `${s.stateFile}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
  await fs.rename(tmp, s.stateFile);
}

/** Names of the labs with a state directory. */
export async function listLabs(): Promise<string[]> {
  const entries = await fs.readdir(RUN_ROOT, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/**
 * Run `fn` holding the lab's lock: a file created exclusively holding our pid. A lock whose
 * holder died is taken over.
 */
export async function withLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const file = join(labDirs(name).runDir, '.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.writeFile(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`no lab named '${name}' is up`);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(await fs.readFile(file, 'utf8').catch(() => ''));
      if (holder && holder !== process.pid && !processAlive(holder)) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw conflict(`lab '${name}' is busy: another lab command (pid ${holder}) holds ${file}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(file, { force: true });
  }
}

const SUBNETS = join(RUN_ROOT, '.subnets');

/**
 * Reserve the lowest free subnet index for a lab: a file created exclusively per index, naming
 * the lab. The caller holds the lab's state directory, so a reservation naming this lab, or a lab
 * without a state directory, is stale and taken over. `usable(i)` lets the caller skip indexes
 * the machine already uses (a bridge or a route of that name or subnet).
 */
export async function reserveIndex(name: string, usable: (index: number) => Promise<boolean>): Promise<number> {
  await fs.mkdir(SUBNETS, { recursive: true });
  for (let i = 1; i <= MAX_INDEX; i++) {
    const file = join(SUBNETS, String(i));
    if (!(await claim(file, name))) continue;
    if (await usable(i)) return i;
    await fs.rm(file, { force: true });
  }
  throw conflict(`no free lab subnet: all of 10.99.1.0/24 to 10.99.${MAX_INDEX}.0/24 are taken`);
}

async function claim(file: string, name: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, name, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
    if (owner === name) return true;
    // An empty file is a claim being written right now.
    if (owner === '' || (await fs.stat(labDirs(owner).runDir).then(() => true, () => false))) return false;
    await fs.rm(file, { force: true });
  }
  return false;
}

export async function releaseIndex(name: string, index: number): Promise<void> {
  const file = join(SUBNETS, String(index));
  const owner = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
  if (owner === name) await fs.rm(file, { force: true });
  await fs.rmdir(SUBNETS).catch(() => undefined);
  await fs.rmdir(RUN_ROOT).catch(() => undefined);
}
