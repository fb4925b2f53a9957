// The swarm objects as the Engine API (v1.50) sends them, reduced to what the CLI reads and
// writes. Field names are the API's (PascalCase); optional fields follow Go's omitempty, so a
// spec read from the daemon and sent back keeps every field the CLI does not know.
// (shared/swarm will hold the server's own types; these only need to match the JSON.)
import type { Mount } from '../opts/volumes';

export interface Version {
  Index: number;
}

export interface Meta {
  ID: string;
  Version: Version;
  CreatedAt?: string;
  UpdatedAt?: string;
}

export interface Driver {
  Name?: string;
  Options?: Record<string, string>;
}

// ---------------------------------------------------------------- swarm

export interface SwarmSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
  Orchestration?: { TaskHistoryRetentionLimit?: number } | null;
  Raft?: { SnapshotInterval?: number; KeepOldSnapshots?: number; LogEntriesForSlowFollowers?: number; ElectionTick?: number; HeartbeatTick?: number };
  Dispatcher?: { HeartbeatPeriod?: number } | null;
  CAConfig?: { NodeCertExpiry?: number; ExternalCAs?: unknown[]; SigningCACert?: string; SigningCAKey?: string; ForceRotate?: number } | null;
  TaskDefaults?: { LogDriver?: Driver };
  EncryptionConfig?: { AutoLockManagers?: boolean };
  [key: string]: unknown;
}

export interface Swarm extends Meta {
  Spec: SwarmSpec;
  JoinTokens?: { Worker: string; Manager: string };
  TLSInfo?: TLSInfo;
  [key: string]: unknown;
}

export interface TLSInfo {
  TrustRoot?: string;
  CertIssuerSubject?: string;
  CertIssuerPublicKey?: string;
}

/** POST /swarm/init body (docker sends every field). */
export interface SwarmInitRequest {
  ListenAddr: string;
  AdvertiseAddr: string;
  DataPathAddr: string;
  DataPathPort: number;
  ForceNewCluster: boolean;
  Spec: SwarmSpec;
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

// ---------------------------------------------------------------- nodes

export interface NodeSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
  Role?: string;
  Availability?: string;
  [key: string]: unknown;
}

export interface Node extends Meta {
  Spec: NodeSpec;
  Description?: {
    Hostname?: string;
    Platform?: { Architecture?: string; OS?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
    Engine?: { EngineVersion?: string; Labels?: Record<string, string> | null; Plugins?: Array<{ Type: string; Name: string }> | null };
    TLSInfo?: TLSInfo;
  };
  Status?: { State?: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string } | null;
}

// ---------------------------------------------------------------- services

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface ContainerSpec {
  Image?: string;
  Labels?: Record<string, string> | null;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Groups?: string[];
  Init?: boolean | null;
  StopSignal?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  StopGracePeriod?: number;
  /** Go marshals the field as "Healthcheck" (the spec says HealthCheck); docker sends this spelling. */
  Healthcheck?: HealthConfig;
  Hosts?: string[];
  DNSConfig?: { Nameservers?: string[]; Search?: string[]; Options?: string[] };
  Secrets?: Array<{ SecretName?: string; SecretID?: string; File?: { Name?: string } }> | null;
  Configs?: Array<{ ConfigName?: string; ConfigID?: string; File?: { Name?: string } }> | null;
  Isolation?: string;
  Sysctls?: Record<string, string>;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: Ulimit[];
  OomScoreAdj?: number;
  [key: string]: unknown;
}

export interface Placement {
  Constraints?: string[];
  Preferences?: Array<{ Spread?: { SpreadDescriptor: string } }>;
  MaxReplicas?: number;
  Platforms?: Array<{ Architecture?: string; OS?: string }>;
}

export interface RestartPolicy {
  Condition?: string;
  Delay?: number;
  MaxAttempts?: number;
  Window?: number;
}

export interface NetworkAttachmentConfig {
  Target?: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string>;
}

export interface TaskSpec {
  ContainerSpec?: ContainerSpec;
  Resources?: {
    Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
    Reservations?: { NanoCPUs?: number; MemoryBytes?: number; GenericResources?: unknown[] };
  };
  RestartPolicy?: RestartPolicy;
  Placement?: Placement;
  Networks?: NetworkAttachmentConfig[];
  LogDriver?: Driver;
  ForceUpdate?: number;
  Runtime?: string;
  [key: string]: unknown;
}

export interface UpdateConfig {
  Parallelism: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio: number;
  Order: string;
}

export interface PortConfig {
  Name?: string;
  Protocol?: string;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: string;
}

export interface ServiceMode {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
}

export interface ServiceSpec {
  Name?: string;
  Labels?: Record<string, string> | null;
  TaskTemplate: TaskSpec;
  Mode: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  Networks?: NetworkAttachmentConfig[];
  EndpointSpec?: { Mode?: string; Ports?: PortConfig[] };
  [key: string]: unknown;
}

export interface Service extends Meta {
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: { Spec?: ServiceSpec['EndpointSpec']; Ports?: PortConfig[] | null; VirtualIPs?: Array<{ NetworkID?: string; Addr?: string }> };
  UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string; Message?: string } | null;
  ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number; CompletedTasks?: number } | null;
  JobStatus?: { JobIteration?: Version; LastExecution?: string } | null;
}

// ---------------------------------------------------------------- tasks

export interface Task extends Meta {
  Name?: string;
  Labels?: Record<string, string>;
  Spec: TaskSpec;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  Status: {
    Timestamp?: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
    PortStatus?: { Ports?: PortConfig[] | null };
  };
  DesiredState: string;
  JobIteration?: Version;
}
