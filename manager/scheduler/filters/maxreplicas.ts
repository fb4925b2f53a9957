// Placement.MaxReplicas caps the active tasks of one service per node (0: no cap).
import type { Filter } from './filter';

export const maxReplicasFilter: Filter = {
  name: 'maxreplicas',
  reason: 'maxreplicas',
  appliesTo: (task) => (task.Spec?.Placement?.MaxReplicas ?? 0) > 0,
  check: (task, info) => {
    const max = task.Spec?.Placement?.MaxReplicas ?? 0;
    return max <= 0 || info.serviceTasks(task.ServiceID ?? '') < max;
  },
  // Docker words this one without a node count.
  explain: () => 'max replicas per node limit exceed',
};
