import { readyFilter } from './ready';
import { availabilityFilter } from './availability';
import { resourcesFilter } from './resources';
import { constraintsFilter } from './constraints';
import { platformFilter } from './platform';
import { hostPortsFilter } from './hostports';
import { maxReplicasFilter } from './maxreplicas';
import type { Filter } from './filter';

export type { Filter } from './filter';
export { readyFilter, availabilityFilter, resourcesFilter, constraintsFilter, platformFilter, hostPortsFilter, maxReplicasFilter };

/** The filters in the order the pipeline runs them; a node is counted under the first it fails. */
export const defaultFilters: readonly Filter[] = [
  readyFilter,
  availabilityFilter,
  resourcesFilter,
  constraintsFilter,
  platformFilter,
  hostPortsFilter,
  maxReplicasFilter,
];
