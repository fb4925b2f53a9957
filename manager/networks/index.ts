export { clusterNetworks, type ClusterNetworks } from './api';
export { compileNetworkCreate, wantsSwarmNetwork, VXLAN_OPTION } from './spec';
export { createNetwork, removeNetwork, findNetwork, servicesUsing } from './objects';
export { swarmNetworkJson, networkFacts } from './present';
export * from './ipam';
