// Only nodes the operator left active take new tasks; pause and drain keep them off.
import type { Filter } from './filter';
import { unavailableExplain } from './ready';

export const availabilityFilter: Filter = {
  name: 'availability',
  reason: 'unavailable',
  appliesTo: () => true,
  check: (_task, info) => (info.node.Spec?.Availability ?? 'active') === 'active',
  explain: unavailableExplain,
};
