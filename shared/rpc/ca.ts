// NodeCA (proto/ca.proto): message types, a typed client, and how a server registers an
// implementation. The implementation itself lives in manager/ca.
import { RpcClient, type StreamCallOptions, type UnaryCallOptions } from './client';
import { methodDefinition, type RpcServer, type StreamHandler, type UnaryHandler } from './server';

export type GetRootCACertificateRequest = Record<string, never>;

export interface GetRootCACertificateResponse {
  /** PEM */
  certificate: string;
}

export interface IssueNodeCertificateRequest {
  /** SWMTKN-1-<CA digest>-<secret> */
  token: string;
  /** PKCS#10 PEM; its subject is ignored. */
  csr: string;
  /** A node ID to keep (re-joining); empty: the CA picks one. */
  nodeId: string;
  /** Advertise address, host or host:port. */
  addr: string;
  /** NodeDescription JSON; may be empty. */
  description: string;
}

export interface IssueNodeCertificateResponse {
  nodeId: string;
  /** PEM: node certificate, then any intermediates. */
  certificateChain: string;
}

export interface RenewNodeCertificateRequest {
  csr: string;
  /** Empty: keep the address in the current certificate. */
  addr: string;
}

export interface RenewNodeCertificateResponse {
  /** PEM: node certificate, then any intermediates. */
  certificateChain: string;
  /** PEM: the root(s) to trust from now on; empty: keep the current ones. */
  trustRoot: string;
}

export interface WatchNodeCertificateRequest {
  /** PEM: the root(s) the caller trusts now (reported as its TLSInfo.TrustRoot). */
  trustRoot: string;
}

/** What a node should hold; it renews at once when it holds something else. */
export interface NodeCertificateState {
  trustRoot: string;
  /** Standard base64 of the signing CA's raw subject (DER). */
  issuerSubject: string;
  /** Standard base64 of the signing CA's SubjectPublicKeyInfo (DER). */
  issuerPublicKey: string;
  role: 'manager' | 'worker';
  rotating: boolean;
}

export interface NodeCAHandlers {
  getRootCACertificate: UnaryHandler<GetRootCACertificateRequest, GetRootCACertificateResponse>;
  issueNodeCertificate: UnaryHandler<IssueNodeCertificateRequest, IssueNodeCertificateResponse>;
  /** Called only with a verified peer (ctx.peer is set). */
  renewNodeCertificate: UnaryHandler<RenewNodeCertificateRequest, RenewNodeCertificateResponse>;
  /** Called only with a verified peer (ctx.peer is set). */
  watchNodeCertificate: StreamHandler<WatchNodeCertificateRequest, NodeCertificateState>;
}

/** Serve NodeCA: joining needs no client certificate, renewal and the watch do. */
export function addNodeCAService(server: RpcServer, impl: NodeCAHandlers): void {
  server.addService('ca', impl, { peerRequired: ['renewNodeCertificate', 'watchNodeCertificate'] });
}

const md = {
  getRoot: methodDefinition<GetRootCACertificateRequest, GetRootCACertificateResponse>('ca', 'GetRootCACertificate'),
  issue: methodDefinition<IssueNodeCertificateRequest, IssueNodeCertificateResponse>('ca', 'IssueNodeCertificate'),
  renew: methodDefinition<RenewNodeCertificateRequest, RenewNodeCertificateResponse>('ca', 'RenewNodeCertificate'),
  watch: methodDefinition<WatchNodeCertificateRequest, NodeCertificateState>('ca', 'WatchNodeCertificate'),
};

export class NodeCAClient {
  constructor(private readonly rpc: RpcClient) {}

  getRootCACertificate(opts?: UnaryCallOptions): Promise<GetRootCACertificateResponse> {
    return this.rpc.unary(md.getRoot, {}, opts);
  }

  issueNodeCertificate(req: Partial<IssueNodeCertificateRequest> & Pick<IssueNodeCertificateRequest, 'token' | 'csr'>, opts?: UnaryCallOptions): Promise<IssueNodeCertificateResponse> {
    return this.rpc.unary(md.issue, { nodeId: '', addr: '', description: '', ...req }, opts);
  }

  renewNodeCertificate(req: Partial<RenewNodeCertificateRequest> & Pick<RenewNodeCertificateRequest, 'csr'>, opts?: UnaryCallOptions): Promise<RenewNodeCertificateResponse> {
    return this.rpc.unary(md.renew, { addr: '', ...req }, opts);
  }

  watchNodeCertificate(req: WatchNodeCertificateRequest, opts?: StreamCallOptions): AsyncGenerator<NodeCertificateState, void, undefined> {
    return this.rpc.stream(md.watch, req, opts);
  }
}
