// The swarm object model as the Docker Engine API (v1.50) carries it in JSON: PascalCase
// fields, durations in integer nanoseconds, sizes in bytes, timestamps as RFC 3339 strings.
// Fields the API makes optional stay optional; the few that every stored object has (ID,
// Spec, a task's Status and DesiredState) are required so code need not guard them.

export type Labels = Record<string, string>;

export interface ObjectVersion {
  Index?: number;
}

/** Name and options of a driver (log driver, volume driver). */
export interface Driver {
  Name?: string;
  Options?: Record<string, string>;
}

export interface Platform {
  Architecture?: string;
  OS?: string;
}

// ---------------------------------------------------------------------------------------
// Nodes

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';
export type Reachability = 'unknown' | 'unreachable' | 'reachable';

export interface NodeSpec {
  Name?: string;
  Labels?: Labels;
  Role?: NodeRole;
  Availability?: NodeAvailability;
}

export interface GenericResource {
  NamedResourceSpec?: { Kind?: string; Value?: string };
  DiscreteResourceSpec?: { Kind?: string; Value?: number };
}

/** Resources a node advertises or a task reserves. */
export interface ResourceObject {
  NanoCPUs?: number;
  MemoryBytes?: number;
  GenericResources?: GenericResource[];
}

/** Resource limits of a task's container. */
export interface Limit {
  NanoCPUs?: number;
  MemoryBytes?: number;
  Pids?: number;
}

export interface EngineDescription {
  EngineVersion?: string;
  Labels?: Labels;
  Plugins?: Array<{ Type?: string; Name?: string }>;
}

export interface TLSInfo {
  TrustRoot?: string;
  CertIssuerSubject?: string;
  CertIssuerPublicKey?: string;
}

/** What the node's agent reports about itself. */
export interface NodeDescription {
  Hostname?: string;
  Platform?: Platform;
  Resources?: ResourceObject;
  Engine?: EngineDescription;
  TLSInfo?: TLSInfo;
}

/** The node's state as the managers see it. */
export interface NodeStatus {
  State?: NodeState;
  Message?: string;
  Addr?: string;
}

export interface ManagerStatus {
  Leader?: boolean;
  Reachability?: Reachability;
  Addr?: string;
}

export interface Node {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: NodeSpec;
  Description?: NodeDescription;
  Status?: NodeStatus;
  ManagerStatus?: ManagerStatus | null;
}

// ---------------------------------------------------------------------------------------
// Swarm (cluster)

export interface ExternalCA {
  Protocol?: 'cfssl';
  URL?: string;
  Options?: Record<string, string>;
  CACert?: string;
}

export interface SwarmSpec {
  Name?: string;
  Labels?: Labels;
  Orchestration?: {
    /** Historic tasks kept per slot (replicated) or node (global); negative keeps all. */
    TaskHistoryRetentionLimit?: number;
  } | null;
  Raft?: {
    SnapshotInterval?: number;
    KeepOldSnapshots?: number;
    LogEntriesForSlowFollowers?: number;
    ElectionTick?: number;
    HeartbeatTick?: number;
  };
  Dispatcher?: {
    /** Nanoseconds between an agent's heartbeats. */
    HeartbeatPeriod?: number;
  } | null;
  CAConfig?: {
    /** Nanoseconds node certificates are valid for. */
    NodeCertExpiry?: number;
    ExternalCAs?: ExternalCA[];
    SigningCACert?: string;
    SigningCAKey?: string;
    ForceRotate?: number;
  } | null;
  EncryptionConfig?: { AutoLockManagers?: boolean };
  TaskDefaults?: { LogDriver?: Driver };
}

export interface JoinTokens {
  Worker?: string;
  Manager?: string;
}

/** GET /info's view of the swarm (no join tokens). */
export interface ClusterInfo {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: SwarmSpec;
  TLSInfo?: TLSInfo;
  RootRotationInProgress?: boolean;
  DataPathPort?: number;
  DefaultAddrPool?: string[];
  SubnetSize?: number;
}

/** GET /swarm: the cluster object with its join tokens. */
export interface Swarm extends ClusterInfo {
  JoinTokens?: JoinTokens;
}

/** The one cluster object the store keeps (swarmkit's name for it). */
export type Cluster = Swarm;

// ---------------------------------------------------------------------------------------
// Task specs

export interface HealthConfig {
  /** [] inherit, ["NONE"], ["CMD", ...args], ["CMD-SHELL", command]. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
export type BindPropagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

export interface Mount {
  Target?: string;
  Source?: string;
  Type?: MountType;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: BindPropagation;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Labels;
    DriverConfig?: Driver;
    Subpath?: string;
  };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: {
    SizeBytes?: number;
    Mode?: number;
    Options?: string[][];
  };
  /** Cluster volume options; shoal keeps them as given. */
  ClusterOptions?: Record<string, unknown>;
}

export interface FileTarget {
  Name?: string;
  UID?: string;
  GID?: string;
  Mode?: number;
}

export interface SecretReference {
  File?: FileTarget;
  SecretID?: string;
  SecretName?: string;
}

export interface ConfigReference {
  File?: FileTarget;
  Runtime?: Record<string, unknown>;
  ConfigID?: string;
  ConfigName?: string;
}

export interface Privileges {
  CredentialSpec?: { Config?: string; File?: string; Registry?: string };
  SELinuxContext?: { Disable?: boolean; User?: string; Role?: string; Type?: string; Level?: string };
  Seccomp?: { Mode?: 'default' | 'unconfined' | 'custom'; Profile?: string };
  AppArmor?: { Mode?: 'default' | 'disabled' };
  NoNewPrivileges?: boolean;
}

export interface Ulimit {
  Name?: string;
  Soft?: number;
  Hard?: number;
}

export interface DNSConfig {
  Nameservers?: string[];
  Search?: string[];
  Options?: string[];
}

export interface ContainerSpec {
  Image?: string;
  Labels?: Labels;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Groups?: string[];
  Privileges?: Privileges;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  StopSignal?: string;
  /** Nanoseconds. */
  StopGracePeriod?: number;
  /** The spec spells it HealthCheck; Docker's JSON (and shoal) use Healthcheck. */
  Healthcheck?: HealthConfig;
  Hosts?: string[];
  DNSConfig?: DNSConfig;
  Secrets?: SecretReference[];
  OomScoreAdj?: number;
  Configs?: ConfigReference[];
  Isolation?: 'default' | 'process' | 'hyperv' | '';
  Init?: boolean | null;
  Sysctls?: Record<string, string>;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: Ulimit[];
}

export interface PluginSpec {
  Name?: string;
  Remote?: string;
  Disabled?: boolean;
  PluginPrivilege?: Array<{ Name?: string; Description?: string; Value?: string[] }>;
}

export type RestartCondition = 'none' | 'on-failure' | 'any';

export interface RestartPolicy {
  Condition?: RestartCondition;
  /** Nanoseconds between a task's end and its replacement. */
  Delay?: number;
  /** Restarts allowed (within Window if set); 0 is unlimited. */
  MaxAttempts?: number;
  /** Nanoseconds; 0 is unbounded. */
  Window?: number;
}

export interface PlacementPreference {
  Spread?: { SpreadDescriptor?: string };
}

export interface Placement {
  Constraints?: string[];
  Preferences?: PlacementPreference[];
  /** Replicas of the service per node; 0 is unlimited. */
  MaxReplicas?: number;
  Platforms?: Platform[];
}

export interface NetworkAttachmentConfig {
  Target?: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string>;
}

export interface TaskResources {
  Limits?: Limit;
  Reservations?: ResourceObject;
}

export interface TaskSpec {
  PluginSpec?: PluginSpec;
  ContainerSpec?: ContainerSpec;
  NetworkAttachmentSpec?: { ContainerID?: string };
  Resources?: TaskResources;
  RestartPolicy?: RestartPolicy;
  Placement?: Placement;
  /** A counter: raising it makes every task out of date (docker service update --force). */
  ForceUpdate?: number;
  Runtime?: string;
  Networks?: NetworkAttachmentConfig[];
  LogDriver?: Driver;
}

// ---------------------------------------------------------------------------------------
// Services

export interface ServiceMode {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
}

export type FailureAction = 'continue' | 'pause' | 'rollback';
export type UpdateOrder = 'stop-first' | 'start-first';

export interface UpdateConfig {
  /** Tasks updated at once; 0 is all of them. */
  Parallelism?: number;
  /** Nanoseconds between one task's update and the next on the same lane. */
  Delay?: number;
  FailureAction?: FailureAction;
  /** Nanoseconds an updated task is watched for failure after it starts running. */
  Monitor?: number;
  /** Fraction (0..1) of updated tasks that may fail before FailureAction applies. */
  MaxFailureRatio?: number;
  Order?: UpdateOrder;
}

export interface RollbackConfig extends Omit<UpdateConfig, 'FailureAction'> {
  FailureAction?: Exclude<FailureAction, 'rollback'>;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';
export type PublishMode = 'ingress' | 'host';

export interface EndpointPortConfig {
  Name?: string;
  Protocol?: PortProtocol;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: PublishMode;
}

export interface EndpointSpec {
  Mode?: 'vip' | 'dnsrr';
  Ports?: EndpointPortConfig[];
}

export interface ServiceSpec {
  Name?: string;
  Labels?: Labels;
  TaskTemplate?: TaskSpec;
  Mode?: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: RollbackConfig;
  /** Deprecated since API 1.44 in favour of TaskTemplate.Networks (the validator moves it there). */
  Networks?: NetworkAttachmentConfig[];
  EndpointSpec?: EndpointSpec;
}

/** The spec's enum lists only the first three; Docker also reports the rollback states. */
export type UpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface UpdateStatus {
  State?: UpdateState;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

export interface ServiceStatus {
  RunningTasks?: number;
  DesiredTasks?: number;
  CompletedTasks?: number;
}

export interface JobStatus {
  /** Raised each time the job is (re-)executed; tasks carry the iteration they belong to. */
  JobIteration?: ObjectVersion;
  LastExecution?: string;
}

export interface ServiceEndpoint {
  Spec?: EndpointSpec;
  Ports?: EndpointPortConfig[];
  VirtualIPs?: Array<{ NetworkID?: string; Addr?: string }>;
}

export interface Service {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: ServiceSpec;
  /** The spec before the last update; rollback returns to it. */
  PreviousSpec?: ServiceSpec;
  Endpoint?: ServiceEndpoint;
  UpdateStatus?: UpdateStatus;
  /** Filled in by the API for GET /services?status=true. */
  ServiceStatus?: ServiceStatus;
  /** Job modes only. */
  JobStatus?: JobStatus;
}

// ---------------------------------------------------------------------------------------
// Networks (swarm scope)

export interface IPAMConfig {
  Subnet?: string;
  Gateway?: string;
  Range?: string;
}

export interface IPAMOptions {
  Driver?: Driver;
  Configs?: IPAMConfig[];
}

/** What the user asks for; the allocator fills in the network's subnet and VNI. */
export interface NetworkSpec {
  Name: string;
  Labels?: Labels;
  DriverConfiguration?: Driver;
  IPv6Enabled?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  /** The routing-mesh network; there is one, made at swarm init. */
  Ingress?: boolean;
  IPAMOptions?: IPAMOptions;
  Scope?: 'swarm';
}

export interface Network {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: NetworkSpec;
  /** The driver's allocation: the VXLAN ID (com.docker.network.driver.overlay.vxlanid_list). */
  DriverState?: Driver;
  /** The allocated subnet and gateway. */
  IPAMOptions?: IPAMOptions;
}

/** The overlay driver's option that carries a network's VXLAN ID, in Network.DriverState. */
export const VXLAN_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';

/**
 * One endpoint on a swarm network, as the dispatcher sends it to workers in the network's
 * Peers: where it is (the node's address, for VXLAN entries) and what it answers to (the node's
 * DNS: the service name, aliases, tasks.<service>, the VIP; the mesh: published ports).
 */
export interface NetworkPeer {
  IP: string;
  Node: string;
  /** A task's endpoint; absent for a node's own address on the ingress network. */
  Task?: string;
  /** A node's own ingress address: the node it is. */
  NodeID?: string;
  /** Ports the task's service publishes through the routing mesh (ingress network only). */
  Ports?: Array<{ Protocol: string; PublishedPort: number; TargetPort: number }>;
  Service?: string;
  Aliases?: string[];
  /** The service's address on this network (VIP mode); absent in dnsrr mode. */
  VIP?: string;
  /** RUNNING (so healthy, where there is a check): only these are answered for tasks.<service>. */
  Running: boolean;
}

// ---------------------------------------------------------------------------------------
// Tasks

export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

export interface ContainerStatus {
  ContainerID?: string;
  PID?: number;
  ExitCode?: number;
}

export interface TaskStatus {
  Timestamp?: string;
  State: TaskState;
  Message?: string;
  Err?: string;
  ContainerStatus?: ContainerStatus;
  PortStatus?: { Ports?: EndpointPortConfig[] };
}

/** A task's address on one network; Network is the network object (owned by the allocator). */
export interface NetworkAttachment {
  Network?: { ID?: string; [field: string]: unknown };
  Addresses?: string[];
}

export interface Task {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Name?: string;
  Labels?: Labels;
  Spec: TaskSpec;
  ServiceID: string;
  /** 1.. for replicated services, 0.. for replicated jobs, absent or 0 for global ones. */
  Slot?: number;
  /** Set by the scheduler, or at creation for global services. */
  NodeID?: string;
  AssignedGenericResources?: GenericResource[];
  /** Written only by the task's observers (allocator, scheduler, agent), through transitionTask. */
  Status: TaskStatus;
  /** Written only by the orchestrator: running (ready while waiting), then shutdown or remove. */
  DesiredState: TaskState;
  /** Job modes only: the service's JobIteration the task was created for. */
  JobIteration?: ObjectVersion;
  NetworksAttachments?: NetworkAttachment[];
  /**
   * Copied from the service when the task is made (as swarmkit does), so a worker can name the
   * container and publish host ports without reading the service.
   */
  ServiceAnnotations?: { Name?: string; Labels?: Labels };
  Endpoint?: ServiceEndpoint;
}
