// The swarm objects as the Engine API (v1.50) sends them. The object types are shared/swarm's
// (the server's own); this file only names them as the CLI does and adds the request bodies the
// CLI alone sends. Unknown fields of a spec read from the daemon survive being sent back because
// the CLI edits the parsed JSON in place, not because the types list them.
export type {
  ObjectVersion as Version,
  Driver,
  SwarmSpec,
  Swarm,
  TLSInfo,
  NodeSpec,
  Node,
  HealthConfig,
  Ulimit,
  ContainerSpec,
  Placement,
  RestartPolicy,
  NetworkAttachmentConfig,
  TaskSpec,
  UpdateConfig,
  RollbackConfig,
  EndpointPortConfig as PortConfig,
  ServiceMode,
  ServiceSpec,
  Service,
  Task,
} from '../../shared/swarm/types';
import type { Labels, SwarmSpec } from '../../shared/swarm/types';

/** Go marshals a nil map as null: specs from the daemon, and the zero specs docker sends, may carry Labels: null. */
export type WithNullLabels<T extends { Labels?: Labels }> = Omit<T, 'Labels'> & { Labels?: Labels | null };

/** POST /swarm/init body (docker sends every field). */
export interface SwarmInitRequest {
  ListenAddr: string;
  AdvertiseAddr: string;
  DataPathAddr: string;
  DataPathPort: number;
  ForceNewCluster: boolean;
  Spec: WithNullLabels<SwarmSpec>;
  AutoLockManagers: boolean;
  Availability: string;
  DefaultAddrPool: string[];
  SubnetSize: number;
}

/** POST /swarm/join body. */
export interface SwarmJoinRequest {
  ListenAddr: string;
  AdvertiseAddr: string;
  DataPathAddr: string;
  RemoteAddrs: string[];
  JoinToken: string;
  Availability: string;
}

/** The swarm part of GET /info. */
export interface SwarmInfo {
  NodeID?: string;
  NodeAddr?: string;
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
}
