// The manager's side of RaftMembership.Join: a node whose certificate and Node record both say
// "manager" is added to the etcd group as a learner and handed what every manager holds (the
// CA, the data key, the bus secret). The learner becomes a voter once it has caught up (see
// reconcile.ts), so a joiner that never starts cannot cost the group its quorum.
import type { Etcd3 } from 'etcd3';
import { isIP } from 'node:net';
import { ShoalError, invalid } from '../../shared/errors';
import { logger } from '../../shared/log';
import type { Node } from '../../shared/swarm';
import { requirePeerIdentity, type CallContext, type JoinRaftRequest, type JoinRaftResponse, type RaftMembershipHandlers } from '../../shared/rpc';
import { addMember, listMembers, removeMember } from '../etcd';
import { joinHostPort } from '../etcd/urls';
import type { ClusterStore } from '../store';
import { portsFor } from '../membership/state';

const log = logger('raft-join');

export interface ManagerAddrs {
  /** gRPC addresses (host:port) of the managers, the caller's excluded. */
  grpc: string[];
  /** NATS route addresses (host:port) of the managers, the caller's excluded. */
  natsRoutes: string[];
}

export interface RaftJoinOptions {
  store: ClusterStore;
  /** A client of this manager's etcd member (membership changes go through it). */
  etcd: Etcd3;
  clusterId: string;
  /** http or https: the scheme every member's peer URL uses. */
  peerScheme: 'http' | 'https';
  ca: () => { certPem: string; keyPem: string };
  dataKey: () => Buffer | undefined;
  /** The swarm's unlock key while autolock is on. */
  unlockKey: () => Promise<Buffer | undefined>;
  busToken: string;
  managers: (except: string) => Promise<ManagerAddrs>;
}

/** The etcd peer URL of a manager advertised at `host` with gRPC port `grpcPort`. */
export function peerUrlOf(scheme: 'http' | 'https', host: string, grpcPort: number): string {
  return `${scheme}://${joinHostPort(host, portsFor(grpcPort).etcdPeer)}`;
}

export class RaftJoinService implements RaftMembershipHandlers {
  constructor(private readonly opts: RaftJoinOptions) {}

  async join(req: JoinRaftRequest, ctx: CallContext): Promise<JoinRaftResponse> {
    const peer = requirePeerIdentity(ctx.peer, ['manager']);
    if (peer.clusterId !== this.opts.clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${peer.nodeId} belongs to cluster ${peer.clusterId}`);
    const node = await this.opts.store.get<Node & { ID: string }>('nodes', peer.nodeId);
    if (!node || node.Spec.Role !== 'manager') throw new ShoalError('PERMISSION_DENIED', `node ${peer.nodeId} is not a manager of this swarm`);
    if (!isIP(req.advertiseAddr)) throw invalid(`invalid advertise address ${JSON.stringify(req.advertiseAddr)}: want an IP address`);
    const key = this.opts.dataKey();
    if (!key) throw new ShoalError('UNAVAILABLE', 'this manager has no cluster data key to hand on; join through another manager');
    const peerUrl = peerUrlOf(this.opts.peerScheme, req.advertiseAddr, req.grpcPort);
    // A node joining again (its last start failed, or it left with its data wiped) replaces its old member.
    const old = (await listMembers(this.opts.etcd)).find((m) => m.name === peer.nodeId || m.peerUrls.includes(peerUrl));
    if (old) {
      log.info({ nodeId: peer.nodeId, member: old.id }, 'replacing the etcd member of a re-joining manager');
      await removeMember(this.opts.etcd, old.id);
    }
    const added = await addMember(this.opts.etcd, peer.nodeId, peerUrl, { learner: true });
    const grpcAddr = joinHostPort(req.advertiseAddr, req.grpcPort);
    await this.opts.store.update<Node>('nodes', { ...node, ManagerStatus: { Addr: grpcAddr, Reachability: 'unknown', Leader: false }, UpdatedAt: new Date().toISOString() }, { force: true });
    const managers = await this.opts.managers(peer.nodeId);
    const ca = this.opts.ca();
    const unlockKey = (await this.opts.unlockKey()) ?? Buffer.alloc(0);
    log.info({ nodeId: peer.nodeId, member: added.id, peerUrl }, 'manager joined the raft group as a learner');
    return {
      initialCluster: added.initialCluster,
      memberId: added.id,
      caCertificate: ca.certPem,
      caKey: ca.keyPem,
      dataKey: key,
      busToken: this.opts.busToken,
      natsRoutes: managers.natsRoutes,
      managers: managers.grpc,
      unlockKey,
    };
  }
}
