// RaftMembership (proto/raft.proto): message types, a typed client, and how a server registers
// an implementation. The implementation lives in manager/raft.
import { RpcClient, type UnaryCallOptions } from './client';
import { methodDefinition, type RpcServer, type UnaryHandler } from './server';

export interface JoinRaftRequest {
  advertiseAddr: string;
  grpcPort: number;
}

export interface JoinRaftResponse {
  initialCluster: Record<string, string>;
  memberId: string;
  caCertificate: string;
  caKey: string;
  dataKey: Buffer;
  busToken: string;
  natsRoutes: string[];
  managers: string[];
  /** Empty while autolock is off. */
  unlockKey: Buffer;
}

export interface RaftMembershipHandlers {
  /** Called only with a verified peer (ctx.peer is set). */
  join: UnaryHandler<JoinRaftRequest, JoinRaftResponse>;
}

export function addRaftMembershipService(server: RpcServer, impl: RaftMembershipHandlers): void {
  server.addService('raft', impl, { peerRequired: 'all' });
}

const md = {
  join: methodDefinition<JoinRaftRequest, JoinRaftResponse>('raft', 'Join'),
};

export class RaftMembershipClient {
  constructor(private readonly rpc: RpcClient) {}

  join(req: JoinRaftRequest, opts?: UnaryCallOptions): Promise<JoinRaftResponse> {
    return this.rpc.unary(md.join, req, opts);
  }
}
