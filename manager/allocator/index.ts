export { Allocator, ALLOCATED_MESSAGE, needsAllocation, type AllocatorOptions } from './allocator';
export { serviceNetworks, taskNetworks, vipNetworks, endpointFor, publishesIngress } from './plan';
