// Where the managers are, read off the Raft group: each member's peer URL gives its host and
// etcd peer port, and a manager's other ports sit at fixed offsets from it (membership/state
// portsFor). Voters only, reachable ones, the leader first.
import { joinHostPort } from '../etcd/urls';
import { portsFor, PORT_OFFSETS } from '../membership/state';
import type { RaftView } from './quorum';

export interface ManagerEndpoints {
  nodeId: string;
  leader: boolean;
  /** gRPC (CA, dispatcher), host:port. */
  grpc: string;
  /** NATS client URL. */
  natsUrl: string;
  /** NATS route address, host:port. */
  natsRoute: string;
}

export function managerPeersOf(view: RaftView, opts: { reachableOnly?: boolean } = {}): ManagerEndpoints[] {
  const out: ManagerEndpoints[] = [];
  for (const m of view.members) {
    if (!m.name || m.learner || m.peerUrls.length === 0) continue;
    if (opts.reachableOnly !== false && !m.reachable) continue;
    const u = new URL(m.peerUrls[0]);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const ports = portsFor(Number(u.port) - PORT_OFFSETS.etcdPeer);
    out.push({
      nodeId: m.name,
      leader: m.name === view.leader,
      grpc: joinHostPort(host, ports.grpc),
      natsUrl: `nats://${joinHostPort(host, ports.natsClient)}`,
      natsRoute: joinHostPort(host, ports.natsCluster),
    });
  }
  return out.sort((a, b) => Number(b.leader) - Number(a.leader) || (a.nodeId < b.nodeId ? -1 : 1));
}
