// The seams between the engine's modules. Each module implements its side and
// consumes only these shapes from the others, so they can be built and tested apart.
// Field names follow the Docker Engine API (../shared/spec) where one exists.

/** The "config" section of an OCI/Docker image config. */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  Shell?: string[];
  OnBuild?: string[] | null;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number; // ns
  Timeout?: number; // ns
  Retries?: number;
  StartPeriod?: number; // ns
  StartInterval?: number; // ns
}

/** An image ready to run: its config and the unpacked layer directories, lowest first. */
export interface ResolvedImage {
  id: string; // "sha256:<config digest>"
  config: ImageRuntimeConfig;
  layerDirs: string[];
}

/** Implemented by the image store (worker/engine/images). */
export interface ImageResolver {
  /** Resolve a name, name:tag, name@digest, full or short ID. NOT_FOUND "No such image: REF". */
  resolveForRun(ref: string): Promise<ResolvedImage>;
}

/** Implemented by the image store: turn a container's overlay upper dir into a new image. */
export interface LayerCommitter {
  commitUpperDir(opts: {
    upperDir: string;
    parentImageId?: string; // undefined for FROM scratch
    config: ImageRuntimeConfig;
    createdBy: string; // history entry
    comment?: string;
    author?: string;
    /** Add no layer (metadata-only step), just a history entry. */
    emptyLayer?: boolean;
    tags?: string[];
  }): Promise<string /* image id */>;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}
export type PortMap = Record<string, PortBinding[] | null>; // "80/tcp" -> bindings

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DNSNames?: string[] | null;
}

export interface NetworkSetupRequest {
  containerId: string;
  name: string; // container name without the leading slash
  hostname: string;
  /** HostConfig.NetworkMode: "default" | "bridge" | "host" | "none" | "container:<id>" | <network name or id>. */
  networkMode: string;
  endpointsConfig: Record<string, EndpointSettings>;
  portBindings: PortMap;
  publishAll: boolean;
  exposedPorts: string[]; // "80/tcp"
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[]; // "name:ip"
}

export interface NetworkSetupResult {
  /** A netns to join (bind-mounted file). undefined: host netns ("host") or a new empty one ("none"). */
  netnsPath?: string;
  /** true when the container shares the host's network namespace. */
  hostNetwork: boolean;
  /** Docker inspect NetworkSettings.Networks. */
  networks: Record<string, EndpointSettings>;
  /** Docker inspect NetworkSettings.Ports. */
  ports: PortMap;
  /** Contents for the container's /etc/hosts and /etc/resolv.conf. */
  hosts: string;
  resolvConf: string;
}

/** Implemented by worker/network. Idempotent: setup after a crash replaces what was half-made. */
export interface ContainerNetworking {
  setup(req: NetworkSetupRequest, signal?: AbortSignal): Promise<NetworkSetupResult>;
  teardown(containerId: string): Promise<void>;
  connect(containerId: string, network: string, endpoint: EndpointSettings): Promise<NetworkSetupResult>;
  disconnect(containerId: string, network: string, force: boolean): Promise<NetworkSetupResult>;
}

export interface MountRequest {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** Implemented by worker/engine/volumes. */
export interface VolumeResolver {
  /** Create the named (or, with no name, anonymous) volume if missing; return its host path and name. */
  acquire(name: string | undefined, containerId: string, labels?: Record<string, string>): Promise<{ name: string; path: string }>;
  /** The container no longer uses these volumes; anonymous ones go when `removeAnonymous`. */
  release(containerId: string, names: string[], removeAnonymous: boolean): Promise<void>;
}
