export { Allocator, ALLOCATED_MESSAGE, noNetworks, needsAllocation, type AllocatorOptions, type AttachFn } from './allocator';
