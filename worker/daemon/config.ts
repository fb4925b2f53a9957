import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { invalid, errorMessage } from '../../shared/errors';
import { parseHost, type Listener } from '../../shared/api';

/** Daemon options as the user gives them: flags and a daemon.json-style file, dockerd's key names. */
export interface DaemonOptions {
  'data-root'?: string;
  'exec-root'?: string;
  hosts?: string[];
  'log-level'?: string;
  'default-runtime'?: string;
  bridge?: string;
  bip?: string;
  'cgroup-parent'?: string;
  'node-name'?: string;
}

/** The fully specified configuration every component reads. */
export interface DaemonConfig {
  dataRoot: string;
  /** Runtime state (sockets, runtime state, netns files); must differ per daemon on one machine. */
  execRoot: string;
  listeners: Listener[];
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  runtime: 'crun' | 'runc';
  /** Name of the default bridge device and its gateway CIDR. */
  bridge: { name: string; cidr: string };
  /** Prefix of every container cgroup path ("/shoal" -> /shoal/<id>). */
  cgroupParent: string;
  nodeName: string;
}

const KNOWN_KEYS = new Set(['data-root', 'exec-root', 'hosts', 'log-level', 'default-runtime', 'bridge', 'bip', 'cgroup-parent', 'node-name']);
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export async function readConfigFile(path: string): Promise<DaemonOptions> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw invalid(`cannot read config file ${path}: ${errorMessage(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`config file ${path} is not valid JSON: ${errorMessage(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(`config file ${path}: expected a JSON object`);
  const unknown = Object.keys(parsed).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length) throw invalid(`config file ${path}: unknown option(s): ${unknown.join(', ')}`);
  return parsed as DaemonOptions;
}

/** Merge file and flags (a key given in both is a conflict, as in dockerd) and fill in defaults. */
export function compileConfig(flags: DaemonOptions, file: DaemonOptions = {}): DaemonConfig {
  const both = Object.keys(flags).filter((k) => flags[k as keyof DaemonOptions] !== undefined && file[k as keyof DaemonOptions] !== undefined);
  if (both.length) throw invalid(`the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  const o: DaemonOptions = { ...file, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
  const dataRoot = o['data-root'] ?? '/var/lib/shoal';
  const execRoot = o['exec-root'] ?? '/run/shoal';
  const hosts = o.hosts && o.hosts.length ? o.hosts : [`unix://${join(execRoot, 'shoal.sock')}`];
  const level = o['log-level'] ?? 'info';
  if (!LEVELS.includes(level)) throw invalid(`invalid log level '${level}': expected one of ${LEVELS.join(', ')}`);
  const runtime = o['default-runtime'] ?? 'crun';
  if (runtime !== 'crun' && runtime !== 'runc') throw invalid(`unknown runtime '${runtime}': expected crun or runc`);
  const bip = o.bip ?? '172.17.0.1/16';
  if (!/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|30)$/.test(bip)) throw invalid(`invalid bip '${bip}': expected an address with prefix such as 172.17.0.1/16`);
  const bridge = o.bridge ?? 'shoal0';
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw invalid(`invalid bridge name '${bridge}' (at most 15 characters)`);
  return {
    dataRoot,
    execRoot,
    listeners: hosts.map(parseHost),
    logLevel: level as DaemonConfig['logLevel'],
    runtime,
    bridge: { name: bridge, cidr: bip },
    cgroupParent: o['cgroup-parent'] ?? '/shoal',
    nodeName: o['node-name'] ?? require('node:os').hostname(),
  };
}
