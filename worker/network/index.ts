export { NetworkManager, type NetworkManagerOptions, type NetworkCreateRequest } from './manager';
export { tableName } from './nft';
export { parsePublishSpec, wantedBindings, assignHostPorts, portsReport, type Binding } from './ports';
export { DEFAULT_POOLS } from '../../shared/net/ipam';

/** How the network routes find a container; the lead wires it to the containers module. */
export interface ContainerLookup {
  /** Resolve a container name or (short) ID. Throws NOT_FOUND "No such container: X". */
  resolve(nameOrId: string): Promise<{ id: string; name: string; running: boolean }>;
}
