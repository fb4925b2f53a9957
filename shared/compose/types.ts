// What a stack deploy creates, in Docker Engine API form, for the deployer to apply.
import type { NetworkCreateRequest } from '../net/request';
import type { Driver, Labels, ServiceSpec } from '../swarm/types';
import type { StackWarning } from './warnings';

/** POST /secrets/create body. Data is base64, as the API carries it. */
export interface SecretSpec {
  Name: string;
  Labels?: Labels;
  Data?: string;
  Driver?: Driver;
  Templating?: Driver;
}

/** POST /configs/create body. */
export interface ConfigSpec {
  Name: string;
  Labels?: Labels;
  Data?: string;
  Templating?: Driver;
}

export interface PlannedService {
  /** The service's name in the file ("web"); spec.Name is the scoped name ("app_web"). */
  shortName: string;
  name: string;
  spec: ServiceSpec;
  /** Scoped names of the services whose tasks must be running (and healthy) first. */
  dependsOn: string[];
}

export interface PlannedNetwork {
  /** The key in the file ("default", "front"). */
  key: string;
  /** The network's name in the cluster ("app_front", or the external / explicit name). */
  name: string;
  /** External networks must exist already (and be swarm-scoped); nothing is created. */
  external: boolean;
  /** POST /networks/create body (Name included), for networks the stack owns. */
  create?: NetworkCreateRequest;
}

export interface PlannedVolume {
  key: string;
  /** The volume's name on a node ("app_data", or the external / explicit name). */
  name: string;
  external: boolean;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Labels;
}

export interface PlannedSecret {
  key: string;
  name: string;
  external: boolean;
  /** Absent for external secrets. */
  spec?: SecretSpec;
}

export interface PlannedConfig {
  key: string;
  name: string;
  external: boolean;
  spec?: ConfigSpec;
}

/** Everything a `stack deploy NAME` creates or uses, sorted by name. */
export interface StackPlan {
  namespace: string;
  services: PlannedService[];
  /** Networks the services use (only those), including `<stack>_default` when one uses it. */
  networks: PlannedNetwork[];
  /** Named volumes the services mount. */
  volumes: PlannedVolume[];
  /** Every secret and config the file defines, as docker creates them all. */
  secrets: PlannedSecret[];
  configs: PlannedConfig[];
  warnings: StackWarning[];
}
