// The options of one etcd member compiled into a fully specified config (DESIGN principle 8),
// and that config rendered as etcd 3.4 flags.
import { join } from 'node:path';
import { invalid } from '../../shared/errors';
import { parseListenUrl, parseUrl } from './urls';

/** etcd's limits the store sizes its transactions by. */
export const DEFAULT_MAX_TXN_OPS = 2048;
export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export interface EtcdMemberOptions {
  /** Member name, unique in the cluster (the manager's node ID). */
  name: string;
  /** shoald's data root; the member's data goes to <dataRoot>/swarm/etcd unless dataDir is set. */
  dataRoot: string;
  dataDir?: string;
  /** Where supervisor files (pid, log) go; default <dataRoot>/swarm/run. */
  stateDir?: string;
  /** URLs to serve clients on, e.g. http://127.0.0.1:2379 (IP addresses). */
  clientUrls: string[];
  /** URLs other members and clients reach this one by; default clientUrls. */
  advertiseClientUrls?: string[];
  /** The peer (Raft) URL this member listens on and advertises, e.g. http://10.0.0.1:2380. */
  peerUrl: string;
  /** Listen address for peers when it differs from peerUrl (e.g. http://0.0.0.0:2380). */
  listenPeerUrl?: string;
  /** name -> peer URL of every member at bootstrap; default just this member. */
  initialCluster?: Record<string, string>;
  /** 'new' to bootstrap a cluster, 'existing' to join one (after addMember). Default 'new'. */
  initialClusterState?: 'new' | 'existing';
  /** Keeps separately bootstrapped clusters apart; default "shoal". */
  clusterToken?: string;
  /** Raft heartbeat (default 50 ms) and election timeout (default 500 ms, at least 5 heartbeats). */
  heartbeatMs?: number;
  electionMs?: number;
  /** Raft entries between snapshots (default 10000; etcd's own is 100000). */
  snapshotCount?: number;
  /** Operations one transaction may hold (default 2048, for the scheduler's batch commits). */
  maxTxnOps?: number;
  /** Largest request in bytes (default 8 MiB). */
  maxRequestBytes?: number;
  /** History kept for resuming watches, e.g. "10m" (periodic compaction; default 10m). */
  autoCompactionRetention?: string;
  /** Backend quota in bytes (default 2 GiB, etcd's default). */
  quotaBackendBytes?: number;
  /**
   * Mutual TLS for clients and peers: every URL is then https, and only holders of a
   * certificate from the side's `caFile` get in. etcd reads the certificate and key at each
   * handshake (a renewal saved over the same paths is picked up) but the CA file only at start.
   */
  tls?: { client: EtcdTlsFiles; peer: EtcdTlsFiles };
  /** Start this once as a one-member cluster on the data it has (recovery after losing quorum for good). */
  forceNewCluster?: boolean;
}

export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface EtcdMemberConfig {
  name: string;
  dataDir: string;
  stateDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrl: string;
  advertisePeerUrl: string;
  initialCluster: Record<string, string>;
  initialClusterState: 'new' | 'existing';
  clusterToken: string;
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  autoCompactionRetention: string;
  quotaBackendBytes: number;
  tls?: { client: EtcdTlsFiles; peer: EtcdTlsFiles };
  forceNewCluster: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function wholeNumber(field: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`etcd ${field} ${JSON.stringify(v)} must be a whole number from ${min} to ${max}`);
  return v;
}

function urlList(field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(`etcd ${field} must list at least one URL`);
  return v as string[];
}

export function compileEtcdConfig(o: EtcdMemberOptions): EtcdMemberConfig {
  const tls = o.tls;
  if (tls) {
    for (const side of ['client', 'peer'] as const) {
      for (const [k, v] of Object.entries(tls[side] ?? {})) if (typeof v !== 'string' || !v.startsWith('/')) throw invalid(`etcd tls.${side}.${k} "${String(v)}" must be an absolute path`);
      if (!tls[side]) throw invalid(`etcd tls.${side} is missing`);
    }
  }
  // With TLS every URL is https; without, http: a mix would leave some traffic in the clear.
  const SCHEMES = [tls ? 'https' : 'http'];
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw invalid(`etcd member name "${String(o.name)}" must be 1-63 letters, digits, '.', '_' or '-'`);
  if (typeof o.dataRoot !== 'string' || !o.dataRoot.startsWith('/')) throw invalid(`etcd dataRoot "${String(o.dataRoot)}" must be an absolute path`);
  if (o.dataDir !== undefined && !o.dataDir.startsWith('/')) throw invalid(`etcd dataDir "${o.dataDir}" must be an absolute path`);

  const listenClientUrls = urlList('clientUrls', o.clientUrls);
  const taken: Array<{ field: string; host: string; port: number }> = [];
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  const claim = (field: string, host: string, port: number) => {
    const prev = taken.find((t) => t.port === port && (t.host === host || wildcard(t.host) || wildcard(host)));
    if (prev) throw invalid(`etcd ${field} uses ${host}:${port}, already taken by ${prev.field}`);
    taken.push({ field, host, port });
  };
  listenClientUrls.forEach((u, i) => {
    const { host, port } = parseListenUrl(`etcd clientUrls[${i}]`, u, SCHEMES);
    claim(`clientUrls[${i}]`, host, port);
  });
  const advertiseClientUrls = o.advertiseClientUrls === undefined ? listenClientUrls : urlList('advertiseClientUrls', o.advertiseClientUrls);
  advertiseClientUrls.forEach((u, i) => parseUrl(`etcd advertiseClientUrls[${i}]`, u, SCHEMES));

  parseUrl('etcd peerUrl', o.peerUrl, SCHEMES);
  const listenPeerUrl = o.listenPeerUrl ?? o.peerUrl;
  const lp = parseListenUrl(o.listenPeerUrl === undefined ? 'etcd peerUrl' : 'etcd listenPeerUrl', listenPeerUrl, SCHEMES);
  claim('peerUrl', lp.host, lp.port);

  const initialCluster = o.initialCluster ?? { [o.name]: o.peerUrl };
  for (const [name, url] of Object.entries(initialCluster)) {
    if (!NAME.test(name)) throw invalid(`etcd initialCluster: member name "${name}" must be 1-63 letters, digits, '.', '_' or '-'`);
    parseUrl(`etcd initialCluster["${name}"]`, url, SCHEMES);
  }
  if (initialCluster[o.name] !== o.peerUrl) {
    throw invalid(`etcd initialCluster must map this member "${o.name}" to its peerUrl ${o.peerUrl} (found ${initialCluster[o.name] ?? 'nothing'})`);
  }
  const state = o.initialClusterState ?? 'new';
  if (state !== 'new' && state !== 'existing') throw invalid(`etcd initialClusterState "${String(state)}" must be "new" or "existing"`);

  const heartbeatMs = wholeNumber('heartbeatMs', o.heartbeatMs, 50, 10, 5000);
  const electionMs = wholeNumber('electionMs', o.electionMs, 500, 50, 50000);
  if (electionMs < 5 * heartbeatMs) throw invalid(`etcd electionMs (${electionMs}) must be at least 5 times heartbeatMs (${heartbeatMs})`);

  const retention = o.autoCompactionRetention ?? '10m';
  if (!/^\d+(ms|s|m|h)$/.test(retention) || /^0+[a-z]+$/.test(retention)) throw invalid(`etcd autoCompactionRetention "${retention}" must be a duration like 10m or 1h`);
  const token = o.clusterToken ?? 'shoal';
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(token)) throw invalid(`etcd clusterToken "${token}" must be 1-128 letters, digits, '.', '_' or '-'`);

  return {
    name: o.name,
    dataDir: o.dataDir ?? join(o.dataRoot, 'swarm', 'etcd'),
    stateDir: o.stateDir ?? join(o.dataRoot, 'swarm', 'run'),
    listenClientUrls: [...listenClientUrls],
    advertiseClientUrls: [...advertiseClientUrls],
    listenPeerUrl,
    advertisePeerUrl: o.peerUrl,
    initialCluster: { ...initialCluster },
    initialClusterState: state,
    clusterToken: token,
    heartbeatMs,
    electionMs,
    snapshotCount: wholeNumber('snapshotCount', o.snapshotCount, 10_000, 100, 10_000_000),
    maxTxnOps: wholeNumber('maxTxnOps', o.maxTxnOps, DEFAULT_MAX_TXN_OPS, 128, 100_000),
    maxRequestBytes: wholeNumber('maxRequestBytes', o.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 1024 * 1024, 64 * 1024 * 1024),
    autoCompactionRetention: retention,
    quotaBackendBytes: wholeNumber('quotaBackendBytes', o.quotaBackendBytes, 2 * 1024 ** 3, 64 * 1024 * 1024, 8 * 1024 ** 3),
    ...(tls ? { tls: { client: { ...tls.client }, peer: { ...tls.peer } } } : {}),
    forceNewCluster: o.forceNewCluster === true,
  };
}

/** The etcd 3.4 command line for a compiled config. */
export function etcdArgs(c: EtcdMemberConfig): string[] {
  return [
    `--name=${c.name}`,
    `--data-dir=${c.dataDir}`,
    `--listen-client-urls=${c.listenClientUrls.join(',')}`,
    `--advertise-client-urls=${c.advertiseClientUrls.join(',')}`,
    `--listen-peer-urls=${c.listenPeerUrl}`,
    `--initial-advertise-peer-urls=${c.advertisePeerUrl}`,
    `--initial-cluster=${Object.entries(c.initialCluster)
      .map(([n, u]) => `${n}=${u}`)
      .join(',')}`,
    `--initial-cluster-state=${c.initialClusterState}`,
    `--initial-cluster-token=${c.clusterToken}`,
    `--heartbeat-interval=${c.heartbeatMs}`,
    `--election-timeout=${c.electionMs}`,
    `--snapshot-count=${c.snapshotCount}`,
    `--max-txn-ops=${c.maxTxnOps}`,
    `--max-request-bytes=${c.maxRequestBytes}`,
    '--auto-compaction-mode=periodic',
    `--auto-compaction-retention=${c.autoCompactionRetention}`,
    `--quota-backend-bytes=${c.quotaBackendBytes}`,
    // clients ping every 5 s to notice a dead connection; allow it
    '--grpc-keepalive-min-time=1s',
    ...(c.tls
      ? [
          `--cert-file=${c.tls.client.certFile}`,
          `--key-file=${c.tls.client.keyFile}`,
          `--trusted-ca-file=${c.tls.client.caFile}`,
          '--client-cert-auth',
          `--peer-cert-file=${c.tls.peer.certFile}`,
          `--peer-key-file=${c.tls.peer.keyFile}`,
          `--peer-trusted-ca-file=${c.tls.peer.caFile}`,
          '--peer-client-cert-auth',
        ]
      : []),
    // A member cut off and back (its term raised by lonely elections) must not depose a healthy leader.
    '--pre-vote=true',
    ...(c.forceNewCluster ? ['--force-new-cluster'] : []),
    '--enable-v2=false',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}
