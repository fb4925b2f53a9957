// TLS for node-to-node gRPC. Trust is the cluster root CA and nothing else: a server is
// checked for being a manager of this cluster (OU/O of its certificate) instead of for a
// hostname, because node certificates name node IDs, not the addresses nodes are reached at.
import { ChannelCredentials, credentials, experimental, ServerCredentials, type ServerUnaryCall } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { ShoalError } from '../errors';
import { identityFromSubject, ROLE_OU, type NodeIdentity, type NodeRole } from './pki';
import { credentialsStoreDir, followNodeCredentials } from './certstore';

/** A node's TLS material, all PEM. `certPem` is the node certificate followed by any intermediates. */
export interface NodeCredentials {
  keyPem: string;
  certPem: string;
  caPem: string;
}

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * The node's current credentials, as a grpc-js certificate provider: servers and channels
 * built on it pick up a renewed certificate (update()) for every new connection, without
 * a restart. One made from credentials that loadNodeCredentials read also follows that
 * store: a later saveNodeCredentials there updates it (see certstore.ts).
 */
export class TlsIdentity implements experimental.CertificateProvider {
  private creds: NodeCredentials;
  private readonly caListeners = new Set<CaListener>();
  private readonly idListeners = new Set<IdentityListener>();

  constructor(creds: NodeCredentials) {
    this.creds = creds;
    const dir = credentialsStoreDir(creds);
    if (dir) followNodeCredentials(dir, this);
  }

  get current(): NodeCredentials {
    return this.creds;
  }

  /** Use these credentials for new connections; the same ones again change nothing. */
  update(creds: NodeCredentials): void {
    const c = this.creds;
    if (c.keyPem === creds.keyPem && c.certPem === creds.certPem && c.caPem === creds.caPem) return;
    this.creds = creds;
    for (const l of this.caListeners) l(this.caUpdate());
    for (const l of this.idListeners) l(this.idUpdate());
  }

  private caUpdate() {
    return { caCertificate: Buffer.from(this.creds.caPem) };
  }

  private idUpdate() {
    return { certificate: Buffer.from(this.creds.certPem), privateKey: Buffer.from(this.creds.keyPem) };
  }

  // The first update is delivered on a microtask: grpc-js server credentials subscribe here
  // before they register their own watcher, so a synchronous call would be lost.
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    queueMicrotask(() => this.caListeners.has(l) && l(this.caUpdate()));
  }

  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }

  addIdentityCertificateListener(l: IdentityListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => this.idListeners.has(l) && l(this.idUpdate()));
  }

  removeIdentityCertificateListener(l: IdentityListener): void {
    this.idListeners.delete(l);
  }
}

/**
 * Server credentials from the node's identity. 'require': the TLS handshake refuses a client
 * without a certificate from the cluster CA. 'optional': such clients get through (to join),
 * and each method decides whether it needs a peer identity (see CallContext.peer).
 */
export function serverCredentials(identity: TlsIdentity, clientCerts: 'require' | 'optional'): ServerCredentials {
  return experimental.createCertificateProviderServerCredentials(identity, identity, clientCerts === 'require');
}

function field(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A checkServerIdentity that accepts a server whose certificate (already verified against
 * the cluster root) has the given role and, when known, the cluster ID. The hostname is not
 * checked on purpose (see the header).
 */
export function checkServerRole(role: NodeRole = 'manager', clusterId?: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const ou = field(cert?.subject?.OU);
    if (ou !== ROLE_OU[role]) return new Error(`the server's certificate is not a ${ROLE_OU[role]} certificate (OU=${ou ?? 'none'})`);
    const o = field(cert.subject.O);
    if (clusterId !== undefined && o !== clusterId) return new Error(`the server belongs to cluster ${o ?? 'none'}, not ${clusterId}`);
    return undefined;
  };
}

/** mTLS client credentials: present the node certificate, accept only a manager of the cluster. */
export function clientCredentials(identity: TlsIdentity, opts: { clusterId?: string; serverRole?: NodeRole } = {}): ChannelCredentials {
  return experimental.createCertificateProviderChannelCredentials(identity, identity, {
    checkServerIdentity: checkServerRole(opts.serverRole ?? 'manager', opts.clusterId),
  });
}

/** No client certificate; the server must hold a manager certificate from this root (joining, after pinning). */
export function pinnedCredentials(caPem: string, opts: { clusterId?: string } = {}): ChannelCredentials {
  return credentials.createSsl(Buffer.from(caPem), null, null, { checkServerIdentity: checkServerRole('manager', opts.clusterId) });
}

/**
 * Encrypted but trusting nobody: only for fetching the root CA certificate, which the caller
 * then checks against the digest its join token pins.
 */
export function untrustedCredentials(): ChannelCredentials {
  return credentials.createSsl(null, null, null, { rejectUnauthorized: false });
}

/**
 * The verified identity of the client of a server call, or undefined when it showed no
 * certificate the cluster CA issued (grpc-js reports a peer certificate only when the TLS
 * layer authorized it against the root).
 */
export function peerIdentity(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): NodeIdentity | undefined {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  const id = cert ? identityFromSubject(cert.subject) : undefined;
  if (id && cert?.raw) Object.defineProperty(id, 'certificate', { value: cert.raw, enumerable: false });
  return id;
}

/** The peer, or PERMISSION_DENIED when there is none or it lacks one of the roles. */
export function requirePeerIdentity(peer: NodeIdentity | undefined, roles?: NodeRole[]): NodeIdentity {
  if (!peer) throw new ShoalError('PERMISSION_DENIED', 'a node certificate issued by the cluster CA is required');
  if (roles && !roles.includes(peer.role)) throw new ShoalError('PERMISSION_DENIED', `node ${peer.nodeId} is a ${peer.role}; this needs a ${roles.join(' or ')}`);
  return peer;
}
