// From a plan's actions to store operations: the thin "apply" half of a reconciler (DESIGN
// principle 5). Every write compares on the version the plan read, and goes through the
// shared transition functions (setDesiredState for tasks). A batch may touch an object once,
// so actions on the same object are folded: a delete beats a desired-state change, desired
// states keep the furthest, and service actions apply one after the other to one write.
import { setDesiredState, stateRank, type Service, type Task } from '../../shared/swarm';
import { rollbackService } from '../spec';
import type { BatchOp } from '../store';
import type { PlanAction } from './plan';

export interface ApplyLookup {
  task(id: string): Task | undefined;
  service(id: string): Service | undefined;
}

export interface Translation {
  ops: BatchOp[];
  /** The earliest wakeAt of the actions, if any. */
  wakeAt?: number;
  /** Actions dropped because their object is gone or changed since the plan read it. */
  skipped: number;
}

export function actionsToOps(actions: readonly PlanAction[], lookup: ApplyLookup, now: number): Translation {
  const tasks = new Map<string, BatchOp>();
  const services = new Map<string, { original: Service; next: Service }>();
  const creates: BatchOp[] = [];
  let wakeAt: number | undefined;
  let skipped = 0;

  for (const a of actions) {
    switch (a.type) {
      case 'create':
        creates.push({ op: 'create', kind: 'tasks', object: a.task });
        break;
      case 'setDesired': {
        const prior = tasks.get(a.taskId);
        if (prior?.op === 'delete') break;
        const base = prior?.op === 'update' ? (prior.object as Task) : lookup.task(a.taskId);
        if (!base || (a.version !== undefined && base.Version?.Index !== a.version)) {
          skipped++;
          break;
        }
        if (stateRank(a.desired) <= stateRank(base.DesiredState)) break;
        tasks.set(a.taskId, { op: 'update', kind: 'tasks', object: setDesiredState(base, a.desired, now) });
        break;
      }
      case 'delete': {
        const cur = lookup.task(a.taskId);
        const version = a.version ?? cur?.Version?.Index;
        if (!cur || (version !== undefined && cur.Version?.Index !== version)) {
          skipped++;
          break;
        }
        tasks.set(a.taskId, { op: 'delete', kind: 'tasks', id: a.taskId, version });
        break;
      }
      case 'updateStatus':
      case 'rollback': {
        let entry = services.get(a.serviceId);
        if (!entry) {
          const cur = lookup.service(a.serviceId);
          if (!cur || (a.version !== undefined && cur.Version?.Index !== a.version)) {
            skipped++;
            break;
          }
          entry = { original: cur, next: cur };
          services.set(a.serviceId, entry);
        }
        if (a.type === 'updateStatus') entry.next = { ...entry.next, UpdateStatus: a.status, UpdatedAt: new Date(now).toISOString() };
        else if (entry.next.PreviousSpec) entry.next = rollbackService(entry.next, now, { automatic: true, message: a.message });
        else skipped++; // nothing to roll back to (the planner pauses instead; a stale plan may not)
        break;
      }
      case 'wakeAt':
        wakeAt = wakeAt === undefined ? a.at : Math.min(wakeAt, a.at);
        break;
    }
  }
  const serviceOps: BatchOp[] = [...services.values()].filter((e) => e.next !== e.original).map(({ next }) => ({ op: 'update', kind: 'services', object: next }));
  return { ops: [...serviceOps, ...tasks.values(), ...creates], wakeAt, skipped };
}
