// nats-server options compiled into a full config (DESIGN principle 8) and rendered as the
// server's config file. JetStream stays off: the bus carries live events and logs only.
import { join } from 'node:path';
import { invalid } from '../../shared/errors';
import { joinHostPort, parseHostPort, parseUrl, type HostPort } from '../etcd/urls';

export interface NatsServerOptions {
  /** Server name, unique in the NATS cluster (the manager's node ID). */
  name: string;
  /** shoald's data root: config under <dataRoot>/swarm/nats, pid and log under <dataRoot>/swarm/run. */
  dataRoot: string;
  stateDir?: string;
  /** Client listen address HOST:PORT (default 127.0.0.1:4222). */
  listen?: string;
  /** Route (cluster) listen address HOST:PORT (default 127.0.0.1:6222). */
  clusterListen?: string;
  /** Other managers' route addresses, HOST:PORT or nats-route://HOST:PORT. */
  routes?: string[];
  /** Cluster name every manager's server shares (default "shoal"). */
  clusterName?: string;
  /**
   * Shared secret: clients must present it, and routes authenticate with it, so only cluster
   * members publish. Letters, digits, '.', '_', '~', '-'; 16 to 256 of them.
   */
  token?: string;
  /** Mutual TLS for clients and routes alike, with these files (re-read on reload: SIGHUP). */
  tls?: NatsTlsFiles;
}

export interface NatsTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface NatsServerConfig {
  serverName: string;
  configFile: string;
  stateDir: string;
  client: HostPort;
  cluster: { name: string; listen: HostPort; routes: HostPort[] };
  token?: string;
  tls?: NatsTlsFiles;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const TOKEN = /^[A-Za-z0-9._~-]{16,256}$/;

function route(i: number, r: unknown): HostPort {
  const field = `nats routes[${i}]`;
  if (typeof r === 'string' && r.includes('://')) {
    const { url, host, port } = parseUrl(field, r, ['nats-route', 'nats']);
    if (url.username || url.password) throw invalid(`${field}: "${r}" must not carry credentials (the token is added for you)`);
    return { host, port };
  }
  if (typeof r !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d+$/.test(r)) throw invalid(`${field}: "${String(r)}" must be HOST:PORT or nats-route://HOST:PORT`);
  const { host, port } = parseUrl(field, `nats-route://${r}`, ['nats-route']);
  return { host, port };
}

export function compileNatsConfig(o: NatsServerOptions): NatsServerConfig {
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw invalid(`nats server name "${String(o.name)}" must be 1-63 letters, digits, '.', '_' or '-'`);
  if (typeof o.dataRoot !== 'string' || !o.dataRoot.startsWith('/')) throw invalid(`nats dataRoot "${String(o.dataRoot)}" must be an absolute path`);
  const client = parseHostPort('nats listen', o.listen ?? '127.0.0.1:4222');
  const listen = parseHostPort('nats clusterListen', o.clusterListen ?? '127.0.0.1:6222');
  if (client.port === listen.port && (client.host === listen.host || [client.host, listen.host].some((h) => h === '0.0.0.0' || h === '::'))) {
    throw invalid(`nats listen and clusterListen both use ${joinHostPort(listen.host, listen.port)}`);
  }
  const routes = (o.routes ?? []).map((r, i) => route(i, r));
  routes.forEach((r, i) => {
    if (r.port === listen.port && r.host === listen.host) throw invalid(`nats routes[${i}] is this server's own cluster address`);
  });
  const name = o.clusterName ?? 'shoal';
  if (!NAME.test(name)) throw invalid(`nats clusterName "${name}" must be 1-63 letters, digits, '.', '_' or '-'`);
  if (o.token !== undefined && (typeof o.token !== 'string' || !TOKEN.test(o.token))) {
    throw invalid("nats token must be 16-256 letters, digits, '.', '_', '~' or '-'");
  }
  return {
    serverName: o.name,
    configFile: join(o.dataRoot, 'swarm', 'nats', 'nats-server.conf'),
    stateDir: o.stateDir ?? join(o.dataRoot, 'swarm', 'run'),
    client,
    cluster: { name, listen, routes },
    token: o.token,
    ...(o.tls ? { tls: checkTls(o.tls) } : {}),
  };
}

function checkTls(t: NatsTlsFiles): NatsTlsFiles {
  for (const [k, v] of Object.entries(t)) if (typeof v !== 'string' || !v.startsWith('/')) throw invalid(`nats tls.${k} "${String(v)}" must be an absolute path`);
  return { ...t };
}

/** A tls block: the server's own certificate, and client certificates required and checked. */
function tlsBlock(t: NatsTlsFiles, indent: string): string[] {
  const q = JSON.stringify;
  return [`${indent}tls {`, `${indent}  cert_file: ${q(t.certFile)}`, `${indent}  key_file: ${q(t.keyFile)}`, `${indent}  ca_file: ${q(t.caFile)}`, `${indent}  verify: true`, `${indent}  timeout: 2`, `${indent}}`];
}

const ROUTE_USER = 'shoal';

/** The config file text. Values are JSON strings, which the NATS config format reads as such. */
export function renderNatsConfig(c: NatsServerConfig): string {
  const q = JSON.stringify;
  const cred = c.token ? `${ROUTE_USER}:${c.token}@` : '';
  const lines = [
    '# written by shoald; changes are overwritten at the next start',
    `server_name: ${q(c.serverName)}`,
    `listen: ${q(joinHostPort(c.client.host, c.client.port))}`,
    'logtime: true',
  ];
  if (c.token) lines.push('authorization {', `  token: ${q(c.token)}`, '}');
  if (c.tls) lines.push(...tlsBlock(c.tls, ''));
  lines.push('cluster {', `  name: ${q(c.cluster.name)}`, `  listen: ${q(joinHostPort(c.cluster.listen.host, c.cluster.listen.port))}`);
  if (c.token) lines.push('  authorization {', `    user: ${q(ROUTE_USER)}`, `    password: ${q(c.token)}`, '  }');
  if (c.tls) lines.push(...tlsBlock(c.tls, '  '));
  lines.push(`  routes: [${c.cluster.routes.map((r) => q(`nats-route://${cred}${joinHostPort(r.host, r.port)}`)).join(', ')}]`, '}');
  return lines.join('\n') + '\n';
}

/** The URL a local client uses (a wildcard listen address is reached over loopback). */
export function natsClientUrl(c: NatsServerConfig): string {
  const host = c.client.host === '0.0.0.0' ? '127.0.0.1' : c.client.host === '::' ? '::1' : c.client.host;
  return `nats://${joinHostPort(host, c.client.port)}`;
}
