// The manager's side of NodeCA (proto/ca.proto). Serve it with addNodeCAService on a port
// whose TLS takes optional client certificates (joiners have none yet).
import { invalid, ShoalError } from '../../shared/errors';
import { logger } from '../../shared/log';
import {
  requirePeerIdentity,
  type CallContext,
  type GetRootCACertificateResponse,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
  type NodeCAHandlers,
  type NodeIdentity,
  type NodeRole,
  type RenewNodeCertificateRequest,
  type RenewNodeCertificateResponse,
} from '../../shared/rpc';
import { newSwarmId, SWARM_ID_RE } from './ids';
import { DEFAULT_NODE_CERT_EXPIRY_MS, type RootCA } from './rootca';
import { matchJoinToken, type JoinTokens } from './tokens';

const log = logger('ca');

/** What a joiner told us besides its key. */
export interface NodeJoinInfo {
  /** Advertise address as sent (host or host:port); may be empty. */
  addr: string;
  /** The NodeDescription the joiner sent (parsed JSON), if any. */
  description: unknown;
  /** True when the node ID is one the joiner asked for (re-joining) rather than a fresh one. */
  requestedNodeId: boolean;
  /** The address the joiner's connection came from, host:port as grpc-js reports it (Docker's Node.Status.Addr when addr is empty). */
  remote: string;
}

export interface NodeCAServiceOptions {
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
  /** SwarmSpec.CAConfig.NodeCertExpiry in ms; default 90 days. */
  nodeCertExpiryMs?: () => number | Promise<number>;
  /**
   * The role a renewing node gets (its desired role: promote/demote take effect at renewal).
   * Throw to refuse (e.g. NOT_FOUND for a removed node). Default: the role it has.
   */
  renewalRole?: (peer: NodeIdentity) => NodeRole | Promise<NodeRole>;
  /** Default newSwarmId. */
  newNodeId?: () => string;
}

function parseDescription(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid('invalid description: not JSON', e);
  }
}

export class NodeCAService implements NodeCAHandlers {
  constructor(private readonly opts: NodeCAServiceOptions) {}

  private async expiryMs(): Promise<number> {
    return (await this.opts.nodeCertExpiryMs?.()) ?? DEFAULT_NODE_CERT_EXPIRY_MS;
  }

  async getRootCACertificate(): Promise<GetRootCACertificateResponse> {
    return { certificate: this.opts.rootCA.certPem };
  }

  async issueNodeCertificate(req: IssueNodeCertificateRequest, ctx: CallContext): Promise<IssueNodeCertificateResponse> {
    // The token decides everything else: check it before reading the rest of the request.
    const role = matchJoinToken(req.token, await this.opts.joinTokens());
    const requested = req.nodeId !== '';
    if (requested && !SWARM_ID_RE.test(req.nodeId)) throw invalid(`invalid node_id ${JSON.stringify(req.nodeId)}: want 25 lowercase base-36 characters`);
    const description = parseDescription(req.description);
    const nodeId = requested ? req.nodeId : (this.opts.newNodeId ?? newSwarmId)();
    const issued = await this.opts.rootCA.issue(req.csr, { nodeId, role, clusterId: this.opts.clusterId, addr: req.addr || undefined, expiryMs: await this.expiryMs() });
    await this.opts.registerNode(nodeId, role, { addr: req.addr, description, requestedNodeId: requested, remote: ctx.remote });
    log.info({ nodeId, role, remote: ctx.remote, notAfter: issued.notAfter }, 'node joined: certificate issued');
    return { nodeId, certificateChain: issued.chainPem };
  }

  async renewNodeCertificate(req: RenewNodeCertificateRequest, ctx: CallContext): Promise<RenewNodeCertificateResponse> {
    const peer = requirePeerIdentity(ctx.peer);
    if (peer.clusterId !== this.opts.clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${peer.nodeId} belongs to cluster ${peer.clusterId}`);
    const role = this.opts.renewalRole ? await this.opts.renewalRole(peer) : peer.role;
    const issued = await this.opts.rootCA.issue(req.csr, { nodeId: peer.nodeId, role, clusterId: peer.clusterId, addr: req.addr || undefined, expiryMs: await this.expiryMs() });
    log.info({ nodeId: peer.nodeId, role, notAfter: issued.notAfter }, 'node certificate renewed');
    return { certificateChain: issued.chainPem };
  }
}
