// AssignmentsMessage -> what the executor takes (pure). Objects arrive as Docker API JSON.
import { invalid } from '../../../shared/errors';
import type { AssignmentChange, AssignmentKind, AssignmentsMessage } from '../../../shared/rpc';
import type { Task } from '../../../shared/swarm';
import type { AssignedDependencies, AssignedObject, AssignmentChanges } from './executor';

const KINDS: AssignmentKind[] = ['task', 'network', 'secret', 'config'];
const DEP_FIELD = { network: 'networks', secret: 'secrets', config: 'configs' } as const;

function item(ch: AssignmentChange, i: number): { kind: AssignmentKind; object: AssignedObject } {
  const kind = ch.item ?? KINDS.find((k) => typeof ch[k] === 'string' && ch[k] !== '');
  const json = kind ? ch[kind] : undefined;
  if (!kind || !json) throw invalid(`assignment change ${i} carries no task, network, secret or config`);
  let object: unknown;
  try {
    object = JSON.parse(json);
  } catch {
    throw invalid(`assignment change ${i}: the ${kind} is not JSON`);
  }
  const id = (object as { ID?: unknown } | null)?.ID;
  if (typeof id !== 'string' || id === '') throw invalid(`assignment change ${i}: the ${kind} has no ID`);
  return { kind, object: object as AssignedObject };
}

const emptyDeps = (): AssignedDependencies => ({ networks: [], secrets: [], configs: [] });

export function decodeChanges(msg: Pick<AssignmentsMessage, 'changes'>): AssignmentChanges {
  const out: AssignmentChanges = { updated: [], removed: [], dependencies: { updated: emptyDeps(), removed: { networks: [], secrets: [], configs: [] } } };
  msg.changes.forEach((ch, i) => {
    const { kind, object } = item(ch, i);
    const remove = ch.action === 'REMOVE';
    if (kind === 'task') {
      if (remove) out.removed.push(object.ID);
      else out.updated.push(object as unknown as Task);
    } else if (remove) out.dependencies.removed[DEP_FIELD[kind]].push(object.ID);
    else out.dependencies.updated[DEP_FIELD[kind]].push(object);
  });
  return out;
}

/** A COMPLETE message's set; a REMOVE in it is a protocol error. */
export function decodeComplete(msg: Pick<AssignmentsMessage, 'changes'>): { tasks: Task[]; dependencies: AssignedDependencies } {
  const c = decodeChanges(msg);
  if (c.removed.length || Object.values(c.dependencies.removed).some((ids) => ids.length)) throw invalid('a COMPLETE assignment set cannot remove anything');
  return { tasks: c.updated, dependencies: c.dependencies.updated };
}
