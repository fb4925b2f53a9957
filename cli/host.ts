import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadTlsFiles, type TlsFiles, type TlsMaterial } from '../shared/api/tls';

export const DEFAULT_HOST = 'unix:///run/shoal/shoal.sock';

export class HostError extends Error {}

/** The daemon address: -H/--host, else SHOAL_HOST, else DOCKER_HOST, else the default socket. */
export function resolveHost(flag: string | undefined, env: Record<string, string | undefined>, tls = false): string {
  const raw = [flag, env.SHOAL_HOST, env.DOCKER_HOST].find((v) => v !== undefined && v.trim() !== '') ?? DEFAULT_HOST;
  return normalizeHost(raw.trim(), tls ? 2376 : 2375);
}

/** unix:///path, /path, tcp://host[:port] (port 2375 by default, 2376 with TLS as docker's), http://host:port. */
export function normalizeHost(h: string, defaultPort = 2375): string {
  if (h.startsWith('unix://')) {
    if (h.length <= 'unix://'.length) throw new HostError(`unable to parse shoal host '${h}'`);
    return h;
  }
  if (h.startsWith('/')) return `unix://${h}`;
  const m = /^(tcp|http):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(h);
  if (m) {
    const port = m[3] ?? String(defaultPort);
    if (Number(port) > 65535) throw new HostError(`unable to parse shoal host '${h}': invalid port`);
    return `tcp://${m[2]}:${port}`;
  }
  throw new HostError(`unable to parse shoal host '${h}': expected unix:///path or tcp://host:port`);
}

/** The global TLS flags, the docker CLI's names. */
export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/**
 * Which TLS files a tcp:// connection uses. `ca`, when set, is the only trust for the server's
 * certificate; `cert`/`key` given by flag must load, while the defaults (in the cert
 * directory) are sent only if they exist, as the docker CLI does.
 */
export interface TlsChoice {
  verify: boolean;
  ca?: string;
  cert: string;
  key: string;
  /** cert and key are the directory's defaults, not flags. */
  defaultPair: boolean;
}

/**
 * The docker CLI's rules: --tlsverify or a non-empty DOCKER_TLS_VERIFY turns on TLS with the
 * server checked against --tlscacert (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem);
 * --tls or DOCKER_TLS alone checks the server against the system's CAs. Undefined: plain HTTP.
 */
export function resolveTls(flags: TlsFlags, env: Record<string, string | undefined>, home = homedir()): TlsChoice | undefined {
  const verify = flags.tlsverify === true || !!env.DOCKER_TLS_VERIFY;
  if (!verify && !flags.tls && !env.DOCKER_TLS) {
    const given = (['tlscacert', 'tlscert', 'tlskey'] as const).find((k) => flags[k] !== undefined);
    if (given) throw new HostError(`--${given} takes effect only with --tlsverify (or --tls)`);
    return undefined;
  }
  const dir = env.DOCKER_CERT_PATH || join(home, '.docker');
  return {
    verify,
    ca: flags.tlscacert ?? (verify ? join(dir, 'ca.pem') : undefined),
    cert: flags.tlscert ?? join(dir, 'cert.pem'),
    key: flags.tlskey ?? join(dir, 'key.pem'),
    defaultPair: flags.tlscert === undefined && flags.tlskey === undefined,
  };
}

/** Read the chosen files; a missing or bad file is one line naming its flag. */
export function loadClientTls(choice: TlsChoice, exists: (path: string) => boolean = existsSync): TlsMaterial {
  const files: TlsFiles = { tlscacert: choice.ca };
  if (!choice.defaultPair || exists(choice.cert)) files.tlscert = choice.cert;
  if (!choice.defaultPair || exists(choice.key)) files.tlskey = choice.key;
  return loadTlsFiles(files);
}
