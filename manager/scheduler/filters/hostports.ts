// Two host-mode tasks cannot publish the same port and protocol on one node.
import { nodeCount, type Filter } from './filter';
import { hostPorts } from '../types';

export const hostPortsFilter: Filter = {
  name: 'hostports',
  reason: 'hostports',
  appliesTo: (task) => hostPorts(task).length > 0,
  check: (task, info) => hostPorts(task).every((p) => !info.hostPortUsed(p)),
  explain: (count) => `host-mode port already in use on ${nodeCount(count)}`,
};
