// Only nodes whose manager-observed state is READY take new tasks (not down, disconnected, unknown).
import { nodeCount, type Filter } from './filter';

export const unavailableExplain = (count: number): string => `${nodeCount(count)} not available for new tasks`;

export const readyFilter: Filter = {
  name: 'ready',
  reason: 'unavailable',
  appliesTo: () => true,
  check: (_task, info) => info.node.Status?.State === 'ready',
  explain: unavailableExplain,
};
