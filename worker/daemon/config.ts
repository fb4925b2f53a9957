import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { invalid, errorMessage } from '../../shared/errors';
import { parseHost, loadServerTls, type Listener, type TlsFiles } from '../../shared/api';

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
  /** Registries reached over plain http: host, host:port or an IPv4 CIDR (dockerd's key). */
  'insecure-registries'?: string[];
  /** Serve TLS on tcp:// hosts; implied by tlsverify, and not enough alone (see compileTls). */
  tls?: boolean;
  /** Serve TLS on tcp:// hosts and require client certificates signed by tlscacert. */
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
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
  /**
   * Registry domains (host or host:port) and IPv4 CIDRs reached over http; loopback ones always
   * are. compileConfig always sets it; optional so hand-built test configs need not.
   */
  insecureRegistries?: string[];
  /**
   * The PEM files of tcp:// listeners (absolute paths), set when tlsverify is on; clients must
   * present a certificate signed by tlscacert. loadListenerTls reads them into the listeners.
   */
  tls?: Required<TlsFiles>;
}

const KNOWN_KEYS = new Set(['data-root', 'exec-root', 'hosts', 'log-level', 'default-runtime', 'bridge', 'bip', 'cgroup-parent', 'node-name', 'insecure-registries', 'tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey']);
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

/**
 * Merge file and flags (a key given in both is a conflict, as in dockerd) and fill in defaults.
 * `certDir` holds the default TLS files (dockerd's: $DOCKER_CERT_PATH, else ~/.docker).
 */
export function compileConfig(flags: DaemonOptions, file: DaemonOptions = {}, certDir = defaultCertDir()): DaemonConfig {
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
  const listeners = hosts.map(parseHost);
  return {
    dataRoot,
    execRoot,
    listeners,
    logLevel: level as DaemonConfig['logLevel'],
    runtime,
    bridge: { name: bridge, cidr: bip },
    cgroupParent: o['cgroup-parent'] ?? '/shoal',
    nodeName: o['node-name'] ?? require('node:os').hostname(),
    insecureRegistries: compileInsecureRegistries(o['insecure-registries'] ?? []),
    tls: compileTls(o, listeners, certDir),
  };
}

export function defaultCertDir(env: Record<string, string | undefined> = process.env): string {
  return env.DOCKER_CERT_PATH || join(homedir(), '.docker');
}

/**
 * dockerd's TLS options, stricter on one point: a tcp:// host requires tlsverify (client
 * certificates), as anyone who reaches the API is root on the host. dockerd still lets `tls`
 * alone (HTTPS without client authentication) serve TCP; shoal refuses it: encryption without
 * authentication keeps the port open to everyone, and shoal has no other access control.
 * tlsverify implies tls; unset file paths default to ca.pem, cert.pem and key.pem in certDir.
 */
export function compileTls(o: DaemonOptions, listeners: Listener[], certDir: string): Required<TlsFiles> | undefined {
  for (const k of ['tls', 'tlsverify'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw invalid(`${k}: expected true or false`);
  for (const k of ['tlscacert', 'tlscert', 'tlskey'] as const) if (o[k] !== undefined && (typeof o[k] !== 'string' || !o[k])) throw invalid(`--${k}: expected a file path`);
  const verify = o.tlsverify === true;
  const tcp = listeners.find((l) => l.kind === 'tcp');
  if (tcp && !verify) {
    const why = o.tls ? '--tls alone encrypts but lets any client in' : 'without TLS anyone who reaches the port controls the host';
    throw invalid(`refusing to serve the API on tcp://${tcp.address} without --tlsverify (${why}): add --tlsverify with --tlscacert, --tlscert and --tlskey`);
  }
  if (!verify) {
    const given = (['tlscacert', 'tlscert', 'tlskey'] as const).find((k) => o[k] !== undefined);
    if (given) throw invalid(`--${given} takes effect only with --tlsverify`);
    return undefined;
  }
  return {
    tlscacert: resolve(o.tlscacert ?? join(certDir, 'ca.pem')),
    tlscert: resolve(o.tlscert ?? join(certDir, 'cert.pem')),
    tlskey: resolve(o.tlskey ?? join(certDir, 'key.pem')),
  };
}

/**
 * Read and check the TLS files and give them to every tcp:// listener. Called before the daemon
 * opens anything, so a bad file stops the start before it begins.
 */
export function loadListenerTls(config: DaemonConfig): DaemonConfig {
  if (!config.tls) return config;
  const tls = loadServerTls(config.tls);
  return { ...config, listeners: config.listeners.map((l) => (l.kind === 'tcp' ? { ...l, tls } : l)) };
}

const HOST_PORT = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/;

/**
 * Check each insecure-registry entry as dockerd does: a CIDR ("10.0.0.0/8") or a domain
 * ("reg.lan", "10.1.2.3:5000"); no scheme and no path. CIDRs keep their given form.
 */
export function compileInsecureRegistries(values: unknown): string[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw invalid('insecure-registries: expected a list of host[:port] or CIDR strings');
  const out: string[] = [];
  for (const raw of values as string[]) {
    const v = raw.trim();
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) throw invalid(`invalid insecure-registry '${raw}': give host[:port] or a CIDR, without a scheme`);
    if (v.includes('/')) {
      const m = /^((?:\d{1,3}\.){3}\d{1,3})\/(\d{1,2})$/.exec(v);
      if (!m || m[1].split('.').some((o) => Number(o) > 255) || Number(m[2]) > 32) throw invalid(`invalid insecure-registry '${raw}': expected an IPv4 CIDR such as 10.0.0.0/8, or host[:port]`);
    } else {
      const m = HOST_PORT.exec(v);
      if (!m || (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535))) throw invalid(`invalid insecure-registry '${raw}': expected host[:port] such as reg.lan:5000, or a CIDR`);
    }
    if (!out.includes(v)) out.push(v);
  }
  return out;
}
