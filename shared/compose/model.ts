// A validated stack file, merged from all -c files, before names are scoped to a stack.
// Fields that do not depend on the stack name are already in Engine API form.
import type { Pos } from './errors';
import type { VolumeMountSpec } from './mounts';
import type {
  ContainerSpec,
  EndpointPortConfig,
  HealthConfig,
  Labels,
  Placement,
  RestartPolicy,
  RollbackConfig,
  ServiceMode,
  TaskResources,
  UpdateConfig,
  Driver,
} from '../swarm/types';

export interface FileRefModel {
  pos: Pos;
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface ServiceNetworkModel {
  pos: Pos;
  name: string;
  aliases: string[];
  driverOpts?: Record<string, string>;
}

export interface ServiceModel {
  name: string;
  pos: Pos;
  image?: string;
  /** Container fields already in Engine form (Env, Mounts, Secrets, Configs are filled later). */
  container: ContainerSpec;
  /** environment merged over env_file entries; null values are looked up in the environment. */
  environment: Record<string, string | null>;
  envFiles: Array<{ pos: Pos; path: string }>;
  labels: Labels;
  mounts: Array<{ pos: Pos; spec: VolumeMountSpec }>;
  secrets: FileRefModel[];
  configs: FileRefModel[];
  /** Undefined: the stack's default network. */
  networks?: ServiceNetworkModel[];
  ports: EndpointPortConfig[];
  dependsOn: Array<{ pos: Pos; name: string }>;
  deployLabels: Labels;
  mode: ServiceMode;
  endpointMode?: 'vip' | 'dnsrr';
  resources: TaskResources;
  restartPolicy?: RestartPolicy;
  placement: Placement;
  updateConfig?: UpdateConfig;
  rollbackConfig?: RollbackConfig;
  logDriver?: Driver;
  healthcheck?: HealthConfig;
}

export interface ExternalRef {
  external: boolean;
  /** The explicit `name:` (or deprecated external.name). */
  name?: string;
}

export interface NetworkModel extends ExternalRef {
  pos: Pos;
  driver?: string;
  driverOpts?: Record<string, string>;
  ipam?: { driver?: string; subnets: string[] };
  internal?: boolean;
  attachable?: boolean;
  labels: Labels;
}

export interface VolumeModel extends ExternalRef {
  pos: Pos;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels: Labels;
}

export interface FileObjectModel extends ExternalRef {
  pos: Pos;
  kind: 'secret' | 'config';
  /** Path as written, and where it is written (errors reading it point there). */
  file?: { path: string; pos: Pos };
  labels: Labels;
  driver?: string;
  driverOpts?: Record<string, string>;
  templateDriver?: string;
}

export interface StackModel {
  version?: string;
  services: Map<string, ServiceModel>;
  networks: Map<string, NetworkModel>;
  volumes: Map<string, VolumeModel>;
  secrets: Map<string, FileObjectModel>;
  configs: Map<string, FileObjectModel>;
}
