// The manager's side of NodeCA (proto/ca.proto). Serve it with addNodeCAService on a port
// whose TLS takes optional client certificates (joiners have none yet).
//
// With a store (the normal case), the CA lives in the cluster object (state.ts): the root
// nodes trust, the CA that signs (the new root during a rotation, with its cross-signed copy
// attached), the certificate expiry of the spec. A renewing or watching node must still have
// its Node object: a removed node's certificate gets nothing (NOT_FOUND, as from the dispatcher). This service is also the one
// writer of a node's Description.TLSInfo, from what the node reports when it opens its watch.
// Without a store (tests of the transport), the root it was given signs everything.
import { X509Certificate } from 'node:crypto';
import { invalid, ShoalError } from '../../shared/errors';
import { logger, type Logger } from '../../shared/log';
import type { Node, NodeDescription, TLSInfo } from '../../shared/swarm';
import {
  requirePeerIdentity,
  type CallContext,
  type GetRootCACertificateResponse,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
  type NodeCAHandlers,
  type NodeCertificateState,
  type NodeIdentity,
  type NodeRole,
  type RenewNodeCertificateRequest,
  type RenewNodeCertificateResponse,
  type WatchNodeCertificateRequest,
} from '../../shared/rpc';
import { buildCertificatePath, issuerInfoOf, parseCertificates, type IssuerInfo } from '../../shared/rpc/pki';
import type { ClusterStore } from '../store';
import type { DataKey } from '../../shared/crypto/seal';
import { changeNode, notRegistered } from '../dispatcher/nodes';
import { nodeCertExpiryMs } from './config';
import { CAStateFollower } from './follow';
import { newSwarmId, SWARM_ID_RE } from './ids';
import { DEFAULT_NODE_CERT_EXPIRY_MS, type RootCA } from './rootca';
import { CASigners, signingCert, samePem, type CACluster, type StoredRootCA } from './state';
import { matchJoinToken, type JoinTokens } from './tokens';

/** What a joiner told us besides its key. */
export interface NodeJoinInfo {
  /** Advertise address as sent (host or host:port); may be empty. */
  addr: string;
  /** The NodeDescription the joiner sent (parsed JSON), if any; its TLSInfo is what it was just given. */
  description: unknown;
  /** True when the node ID is one the joiner asked for (re-joining) rather than a fresh one. */
  requestedNodeId: boolean;
  /** The address the joiner's connection came from, host:port as grpc-js reports it (Docker's Node.Status.Addr when addr is empty). */
  remote: string;
}

export interface NodeCAServiceOptions {
  /** The root this manager has on disk: it signs while the store holds no CA (and without a store). */
  rootCA: RootCA;
  clusterId: string;
  /** The current tokens (they rotate; read them per call, e.g. from the Cluster object). */
  joinTokens: () => JoinTokens | Promise<JoinTokens>;
  /**
   * Record the node (e.g. create its Node object). Runs only after the token and the CSR
   * were accepted and the certificate was signed; if it throws, the joiner gets that error
   * and no certificate. It must refuse a requested ID that belongs to another live node.
   */
  registerNode: (nodeId: string, role: NodeRole, info: NodeJoinInfo) => Promise<void>;
  /**
   * The cluster store: the CA and the certificate expiry come from the cluster object, nodes'
   * roles from their Spec, and nodes' reports go to their Description.TLSInfo.
   */
  store?: ClusterStore;
  /** The cluster data key, which opens the CA keys the store keeps sealed. */
  dataKey?: () => DataKey | undefined;
  /** Overrides SwarmSpec.CAConfig.NodeCertExpiry (ms); without a store the default is 90 days. */
  nodeCertExpiryMs?: () => number | Promise<number>;
  /**
   * Overrides the role a renewing node gets (with a store: its Node's Spec.Role, so that
   * promote/demote take effect at renewal). Throw to refuse.
   */
  renewalRole?: (peer: NodeIdentity) => NodeRole | Promise<NodeRole>;
  /** Default newSwarmId. */
  newNodeId?: () => string;
  log?: Logger;
}

function parseDescription(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid('invalid description: not JSON', e);
  }
}

/** TLSInfo of a node holding a certificate from `issuer` and trusting `trustRoot`. */
export function nodeTLSInfo(trustRoot: string, issuer: IssuerInfo): TLSInfo {
  return { TrustRoot: trustRoot, CertIssuerSubject: issuer.subject, CertIssuerPublicKey: issuer.publicKey };
}

/** A node's trust root as reported: a few certificates, never more (it is stored in its Node object). */
const MAX_TRUST_ROOT_CHARS = 64 * 1024;

const sameTLSInfo = (a: TLSInfo | undefined, b: TLSInfo) => a?.TrustRoot === b.TrustRoot && a?.CertIssuerSubject === b.CertIssuerSubject && a?.CertIssuerPublicKey === b.CertIssuerPublicKey;

export class NodeCAService implements NodeCAHandlers {
  private readonly signers: CASigners;
  private readonly follower?: CAStateFollower;
  private readonly log: Logger;

  constructor(private readonly opts: NodeCAServiceOptions) {
    this.log = opts.log ?? logger('ca');
    this.signers = new CASigners(() => opts.dataKey?.());
    if (opts.store) this.follower = new CAStateFollower(opts.store, opts.clusterId, this.log);
  }

  private async cluster(): Promise<CACluster | undefined> {
    return this.opts.store?.get<CACluster & { ID: string }>('cluster', this.opts.clusterId);
  }

  /** The root nodes should trust. */
  private trustRoot(ca: StoredRootCA | undefined): string {
    return ca?.CACert ?? this.opts.rootCA.certPem;
  }

  private signer(ca: StoredRootCA | undefined): Promise<RootCA> {
    return ca ? this.signers.signer(ca) : Promise.resolve(this.opts.rootCA);
  }

  private async expiryMs(cluster: CACluster | undefined): Promise<number> {
    const fixed = await this.opts.nodeCertExpiryMs?.();
    if (fixed !== undefined) return fixed;
    return cluster ? nodeCertExpiryMs(cluster.Spec) : DEFAULT_NODE_CERT_EXPIRY_MS;
  }

  private peer(ctx: CallContext): NodeIdentity {
    const peer = requirePeerIdentity(ctx.peer);
    if (peer.clusterId !== this.opts.clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${peer.nodeId} belongs to cluster ${peer.clusterId}`);
    return peer;
  }

  /** The peer's Node object (NOT_FOUND when it was removed); undefined without a store. */
  private async liveNode(nodeId: string): Promise<Node | undefined> {
    if (!this.opts.store) return undefined;
    const node = await this.opts.store.get<Node & { ID: string }>('nodes', nodeId);
    if (!node) throw notRegistered(nodeId);
    return node;
  }

  async getRootCACertificate(): Promise<GetRootCACertificateResponse> {
    return { certificate: this.trustRoot((await this.cluster())?.RootCA) };
  }

  async issueNodeCertificate(req: IssueNodeCertificateRequest, ctx: CallContext): Promise<IssueNodeCertificateResponse> {
    // The token decides everything else: check it before reading the rest of the request.
    const role = matchJoinToken(req.token, await this.opts.joinTokens());
    let requested = req.nodeId !== '';
    if (requested && !SWARM_ID_RE.test(req.nodeId)) throw invalid(`invalid node_id ${JSON.stringify(req.nodeId)}: want 25 lowercase base-36 characters`);
    // A removed node's ID is never handed out again, so its old certificate stays dead.
    if (requested && this.opts.store && !(await this.opts.store.get('nodes', req.nodeId))) {
      this.log.info({ requested: req.nodeId }, 'a joiner asked for the ID of a node that is not in the swarm: it gets a new one');
      requested = false;
    }
    const description = parseDescription(req.description);
    const nodeId = requested ? req.nodeId : (this.opts.newNodeId ?? newSwarmId)();
    const cluster = await this.cluster();
    const signer = await this.signer(cluster?.RootCA);
    const issued = await signer.issue(req.csr, { nodeId, role, clusterId: this.opts.clusterId, addr: req.addr || undefined, expiryMs: await this.expiryMs(cluster) });
    // With a store this service owns nodes' TLSInfo: a new node holds what it was just given.
    const described = typeof description === 'object' && description !== null ? (description as NodeDescription) : {};
    const info = this.opts.store ? { ...described, TLSInfo: nodeTLSInfo(this.trustRoot(cluster?.RootCA), signer.issuer) } : description;
    await this.opts.registerNode(nodeId, role, { addr: req.addr, description: info, requestedNodeId: requested, remote: ctx.remote });
    this.log.info({ nodeId, role, remote: ctx.remote, notAfter: issued.notAfter }, 'node joined: certificate issued');
    return { nodeId, certificateChain: issued.chainPem };
  }

  async renewNodeCertificate(req: RenewNodeCertificateRequest, ctx: CallContext): Promise<RenewNodeCertificateResponse> {
    const peer = this.peer(ctx);
    const node = await this.liveNode(peer.nodeId);
    const role = this.opts.renewalRole ? await this.opts.renewalRole(peer) : (node?.Spec?.Role ?? peer.role);
    const cluster = await this.cluster();
    const signer = await this.signer(cluster?.RootCA);
    const issued = await signer.issue(req.csr, { nodeId: peer.nodeId, role, clusterId: peer.clusterId, addr: req.addr || undefined, expiryMs: await this.expiryMs(cluster) });
    this.log.info({ nodeId: peer.nodeId, role, notAfter: issued.notAfter }, 'node certificate renewed');
    return { certificateChain: issued.chainPem, trustRoot: this.trustRoot(cluster?.RootCA) };
  }

  async *watchNodeCertificate(req: WatchNodeCertificateRequest, ctx: CallContext): AsyncGenerator<NodeCertificateState> {
    const peer = this.peer(ctx);
    if (!this.follower) {
      // Nothing ever changes here: say so once and keep the stream open.
      yield this.state(undefined, peer.role);
      await new Promise<void>((r) => (ctx.signal.aborted ? r() : ctx.signal.addEventListener('abort', () => r(), { once: true })));
      return;
    }
    await this.report(peer, req.trustRoot);
    let last = '';
    for await (const view of this.follower.views(ctx.signal)) {
      const node = view.nodes.get(peer.nodeId);
      if (!node) throw notRegistered(peer.nodeId);
      const state = this.state(view.cluster?.RootCA, node.Spec?.Role ?? peer.role);
      const fp = JSON.stringify(state);
      if (fp === last) continue;
      last = fp;
      yield state;
    }
  }

  private state(ca: StoredRootCA | undefined, role: NodeRole): NodeCertificateState {
    const issuer = issuerInfoOf(ca ? signingCert(ca) : this.opts.rootCA.certPem);
    return { trustRoot: this.trustRoot(ca), issuerSubject: issuer.subject, issuerPublicKey: issuer.publicKey, role, rotating: !!ca?.RootRotation };
  }

  /**
   * Record what the peer holds as its Description.TLSInfo: the issuer of the certificate it
   * presented in this very handshake, and the root it says it trusts (spelled as the
   * cluster's root when it is that one, so the docker CLI's string comparison matches).
   */
  private async report(peer: NodeIdentity, trustRoot: string): Promise<void> {
    if (trustRoot.length > MAX_TRUST_ROOT_CHARS || !/-----BEGIN CERTIFICATE-----/.test(trustRoot)) throw invalid(`invalid trust_root: want the PEM root certificate(s) the node trusts (at most ${MAX_TRUST_ROOT_CHARS} characters)`);
    await this.liveNode(peer.nodeId);
    const ca = (await this.cluster())?.RootCA;
    const known = [ca?.CACert, ca?.RootRotation?.CACert, this.opts.rootCA.certPem].filter((p): p is string => !!p);
    const trust = known.find((k) => samePem(k, trustRoot)) ?? trustRoot;
    let issuer: IssuerInfo | undefined;
    if (peer.certificate) {
      const path = buildCertificatePath(new X509Certificate(peer.certificate), [], known.flatMap((k) => parseCertificates(k)), new Date());
      if (typeof path !== 'string') issuer = issuerInfoOf(path[1].toString());
    }
    if (!issuer) {
      this.log.warn({ nodeId: peer.nodeId }, 'cannot tell which CA issued the certificate this node presented; its TLSInfo is left as it was');
      return;
    }
    const info = nodeTLSInfo(trust, issuer);
    const written = await changeNode(this.opts.store!, peer.nodeId, (n) => (sameTLSInfo(n.Description?.TLSInfo, info) ? undefined : { ...n, Description: { ...n.Description, TLSInfo: info } }));
    if (!written) throw notRegistered(peer.nodeId);
  }
}
