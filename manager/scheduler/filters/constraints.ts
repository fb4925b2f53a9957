// Placement constraints: every expression must hold on the node.
import { nodeCount, type Filter } from './filter';
import { cachedConstraints, nodeMatches } from '../constraints';

export const constraintsFilter: Filter = {
  name: 'constraints',
  reason: 'constraints',
  appliesTo: (task) => !!task.Spec?.Placement?.Constraints?.length,
  check: (task, info) => {
    const exprs = task.Spec?.Placement?.Constraints;
    return !exprs?.length || nodeMatches(cachedConstraints(exprs), info.node);
  },
  explain: (count) => `scheduling constraints not satisfied on ${nodeCount(count)}`,
};
