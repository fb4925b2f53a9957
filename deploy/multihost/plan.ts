// The lab's naming and address plan: pure functions from (lab name, subnet index, host counts)
// to every name, address, MAC and path the lab creates, so `down` can find each of them again.
import { join } from 'node:path';
import { stringify } from 'yaml';
import { invalid } from '../../shared/errors';

export type HostRole = 'manager' | 'worker' | 'registry';

/** Where the lab keeps runtime state (sockets, pids, logs) and persistent data. */
export const RUN_ROOT = '/run/shoal-lab';
export const LIB_ROOT = '/var/lib/shoal-lab';
/** Labs live in 10.99.<index>.0/24; the bridge is .1, hosts start at .11. */
export const SUBNET_PREFIX = '10.99';
export const FIRST_HOST_OCTET = 11;
export const MAX_INDEX = 254;
export const MAX_MANAGERS = 9;
export const MAX_WORKERS = 99;
export const REGISTRY_HOST = 'reg';
export const REGISTRY_PORT = 5000;
export const DEFAULT_LAB = 'lab';

const LAB_NAME = /^[a-z0-9][a-z0-9-]{0,19}$/;

export function checkLabName(name: string): string {
  if (!LAB_NAME.test(name)) throw invalid(`invalid lab name '${name}': use 1 to 20 lowercase letters, digits or '-', starting with a letter or digit`);
  return name;
}

export interface HostCounts {
  managers: number;
  workers: number;
  registry: boolean;
}

export function checkCounts(c: HostCounts, standalone: boolean): HostCounts {
  const int = (v: number, field: string, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw invalid(`invalid ${field} '${v}': expected a whole number from ${min} to ${max}`);
  };
  // A cluster needs a manager to init it; standalone hosts do not.
  int(c.managers, '--managers', standalone ? 0 : 1, MAX_MANAGERS);
  int(c.workers, '--workers', 0, MAX_WORKERS);
  if (c.managers + c.workers === 0) throw invalid('a lab needs at least one host: give --managers or --workers');
  return c;
}

export interface PlannedHost {
  name: string;
  role: HostRole;
  address: string;
  mac: string;
  /** Network namespace name (a file under /run/netns). */
  netns: string;
  /** The root-namespace end of the host's veth, a port of the lab bridge. */
  veth: string;
  /** shoald's exec root (holds its socket) or the registry's config directory. */
  runDir: string;
  dataRoot: string;
  log: string;
  /** shoald hosts only. */
  socket?: string;
  cgroupParent?: string;
}

export interface LabPlan {
  name: string;
  index: number;
  subnet: string;
  gateway: string;
  bridge: string;
  bridgeMac: string;
  /** Root-namespace nft table that keeps lab traffic from leaving the machine. */
  guardTable: string;
  runDir: string;
  libDir: string;
  stateFile: string;
  hosts: PlannedHost[];
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

export function labDirs(name: string): { runDir: string; libDir: string; stateFile: string } {
  const runDir = join(RUN_ROOT, name);
  return { runDir, libDir: join(LIB_ROOT, name), stateFile: join(runDir, 'state.json') };
}

/** Host names in address order: m1..mM, w1..wW, then reg. */
export function hostNames(c: HostCounts): Array<{ name: string; role: HostRole }> {
  return [
    ...Array.from({ length: c.managers }, (_, i) => ({ name: `m${i + 1}`, role: 'manager' as const })),
    ...Array.from({ length: c.workers }, (_, i) => ({ name: `w${i + 1}`, role: 'worker' as const })),
    ...(c.registry ? [{ name: REGISTRY_HOST, role: 'registry' as const }] : []),
  ];
}

export function planLab(name: string, index: number, c: HostCounts): LabPlan {
  checkLabName(name);
  if (!Number.isInteger(index) || index < 1 || index > MAX_INDEX) throw invalid(`invalid lab subnet index ${index}`);
  const { runDir, libDir, stateFile } = labDirs(name);
  const net = `${SUBNET_PREFIX}.${index}`;
  const hosts = hostNames(c).map(({ name: host, role }, i): PlannedHost => {
    const octet = FIRST_HOST_OCTET + i;
    const hostRun = join(runDir, host);
    const shoald = role !== 'registry';
    return {
      name: host,
      role,
      address: `${net}.${octet}`,
      mac: `02:73:6c:${hex2(index)}:01:${hex2(octet)}`,
      netns: `shoal-lab-${name}-${host}`,
      veth: `shl${index}-${host}`,
      runDir: hostRun,
      dataRoot: join(libDir, host),
      log: join(runDir, 'logs', `${host}.log`),
      ...(shoald ? { socket: join(hostRun, 'shoal.sock'), cgroupParent: `/shoal-lab-${name}-${host}` } : {}),
    };
  });
  return {
    name,
    index,
    subnet: `${net}.0/24`,
    gateway: `${net}.1`,
    bridge: `shlab${index}`,
    bridgeMac: `02:73:6c:${hex2(index)}:00:01`,
    guardTable: `shoal_lab_${index}`,
    runDir,
    libDir,
    stateFile,
    hosts,
  };
}

/** shoald's command line for a host (after `nsenter --net=...`). */
export function shoaldArgv(node: string, shoald: string, h: PlannedHost, subnet: string, logLevel: string): string[] {
  if (!h.socket || !h.cgroupParent) throw invalid(`host ${h.name} does not run shoald`);
  return [
    node,
    shoald,
    '--data-root', h.dataRoot,
    '--exec-root', h.runDir,
    '-H', `unix://${h.socket}`,
    '--cgroup-parent', h.cgroupParent,
    '--node-name', h.name,
    '--insecure-registry', subnet,
    '--log-level', logLevel,
  ];
}

/** docker-registry's configuration: filesystem storage under the host's data root, http on the host's address. */
export function registryConfig(h: PlannedHost, secret: string): string {
  return stringify({
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(h.dataRoot, 'storage') }, delete: { enabled: true } },
    http: { addr: `${h.address}:${REGISTRY_PORT}`, secret },
  });
}
