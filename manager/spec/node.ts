// Node spec validation for POST /nodes/{id}/update. Docker's CLI sends the whole spec back;
// a Role or Availability left out keeps its current value instead of Go's zero value (which
// would silently demote a manager or reactivate a drained node). Labels left out mean none:
// that is how the CLI's JSON says the last label was removed.

import type { NodeSpec } from '../../shared/swarm';
import { SpecChecker } from './schema';

const c: SpecChecker = new SpecChecker('invalid node spec');

export function validateNodeSpec(input: unknown, current?: NodeSpec): NodeSpec {
  const spec = c.object<NodeSpec>(input, '', {
    Name: c.string,
    Labels: c.stringMap,
    Role: c.oneOf('worker', 'manager'),
    Availability: c.oneOf('active', 'pause', 'drain'),
  });
  const name = spec.Name ?? current?.Name;
  return {
    ...(name !== undefined ? { Name: name } : {}),
    Labels: spec.Labels ?? {},
    Role: spec.Role ?? current?.Role ?? 'worker',
    Availability: spec.Availability ?? current?.Availability ?? 'active',
  };
}
