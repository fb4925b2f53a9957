// What a node remembers of its swarm membership, across daemon restarts: identity, role and
// where the managers are. Certificates live beside it (shared/rpc certstore).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../shared/fsutil';
import { removeLiveDir } from '../../shared/keys';
import { invalid, errorMessage } from '../../shared/errors';

export interface SwarmPorts {
  /** gRPC (CA and dispatcher), the port of --listen-addr (Docker's 2377). */
  grpc: number;
  etcdClient: number;
  etcdPeer: number;
  natsClient: number;
  natsCluster: number;
}

export interface SwarmState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  /** host:port the manager listens on (manager only). */
  listenAddr: string;
  /** Address other nodes reach this one by (no port). */
  advertiseAddr: string;
  /** Managers' gRPC addresses (host:port), refreshed from the dispatcher. */
  managers: string[];
  /** Ports of this manager's services (manager only). */
  ports?: SwarmPorts;
  /** Shared secret of the cluster's NATS bus. */
  busToken?: string;
  /** Other managers' NATS route addresses (host:port), for this manager's server to join theirs. */
  natsRoutes?: string[];
  createdAt: string;
}

/** Where a manager's other services sit above its gRPC port: 2377 gives etcd 2379/2380 as usual. */
export const PORT_OFFSETS = { etcdClient: 2, etcdPeer: 3, natsClient: 4, natsCluster: 5 } as const;

export function portsFor(grpc: number): SwarmPorts {
  if (!Number.isInteger(grpc) || grpc < 1 || grpc > 65530) throw invalid(`invalid listen port ${grpc}: the manager also needs the five ports above it`);
  const o = PORT_OFFSETS;
  return { grpc, etcdClient: grpc + o.etcdClient, etcdPeer: grpc + o.etcdPeer, natsClient: grpc + o.natsClient, natsCluster: grpc + o.natsCluster };
}

export const swarmDir = (dataRoot: string) => join(dataRoot, 'swarm');
const stateFile = (dataRoot: string) => join(swarmDir(dataRoot), 'state.json');

export async function loadSwarmState(dataRoot: string): Promise<SwarmState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(stateFile(dataRoot), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as SwarmState;
    if (!s.nodeId || !s.clusterId || (s.role !== 'manager' && s.role !== 'worker')) throw new Error('missing fields');
    return s;
  } catch (e) {
    throw invalid(`swarm state ${stateFile(dataRoot)} is unreadable (${errorMessage(e)}); run "docker swarm leave --force" to reset it`);
  }
}

export async function saveSwarmState(dataRoot: string, s: SwarmState): Promise<void> {
  await fs.mkdir(swarmDir(dataRoot), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(stateFile(dataRoot), s);
}

/** What only a manager keeps (its etcd member's data, the CA, the data key, its NATS config), removed on demotion. */
export async function forgetManagerState(dataRoot: string): Promise<void> {
  const dir = swarmDir(dataRoot);
  await Promise.all(['etcd', 'etcd-tls', 'ca', 'nats', 'data.key', 'data.key.sealed'].map((f) => fs.rm(join(dir, f), { recursive: true, force: true })));
}

/** Forget the swarm: state, certificates, and (on a manager) the etcd data and CA. */
export async function removeSwarmState(dataRoot: string): Promise<void> {
  await fs.rm(swarmDir(dataRoot), { recursive: true, force: true });
  await removeLiveDir(swarmDir(dataRoot));
}
