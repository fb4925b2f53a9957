export { clusterNetworks, type ClusterNetworks } from './api';
export { compileNetworkCreate, wantsSwarmNetwork } from './spec';
export { createNetwork, removeNetwork, findNetwork, servicesUsing } from './objects';
export { swarmNetworkJson, networkFacts } from './present';
export * from './ipam';
