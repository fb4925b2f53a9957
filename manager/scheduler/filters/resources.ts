// A task's CPU, memory and generic resource reservations must fit what its node has left.
import { nodeCount, type Filter } from './filter';
import { resourceAmounts } from '../types';

export const resourcesFilter: Filter = {
  name: 'resources',
  reason: 'resources',
  appliesTo: (task) => {
    const r = task.Spec?.Resources?.Reservations;
    return !!(r && (r.NanoCPUs || r.MemoryBytes || r.GenericResources?.length));
  },
  check: (task, info) => {
    const r = task.Spec?.Resources?.Reservations;
    if (!r) return true;
    const free = info.available;
    if ((r.NanoCPUs ?? 0) > free.nanoCPUs || (r.MemoryBytes ?? 0) > free.memoryBytes) return false;
    if (!r.GenericResources?.length) return true;
    for (const [kind, n] of resourceAmounts(r).generic) if (n > (free.generic.get(kind) ?? 0)) return false;
    return true;
  },
  explain: (count) => `insufficient resources on ${nodeCount(count)}`,
};
