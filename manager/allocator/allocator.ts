// The allocator (minimal for now): every new task whose orchestrator still wants it gets its
// network attachments, then moves NEW -> PENDING through the task state machine, so the
// scheduler sees it. Overlay IPAM, service VIPs and published ports come later through the
// one seam here, `attach`, called once per task before the state change.
import { transitionTask, isDesiredAlive, type Task } from '../../shared/swarm';
import { errorMessage } from '../../shared/errors';
import type { BatchOp } from '../store';
import type { Change } from '../leader/cache';
import { commitOps, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';

/** Docker's status message for a task that has its resources and waits for a node. */
export const ALLOCATED_MESSAGE = 'pending task scheduling';

/**
 * Gives a task its network attachments (Task.NetworksAttachments); returns the task to store.
 * Throwing leaves the task NEW, to be tried again on the next resync.
 */
export type AttachFn = (task: Task) => Task | Promise<Task>;

/** No networks are allocated yet: tasks keep what they have. */
export const noNetworks: AttachFn = (task) => task;

export interface AllocatorOptions extends LoopOptions {
  attach?: AttachFn;
}

/** A task the allocator should move on: observed NEW, still wanted. */
export function needsAllocation(t: Task | undefined): t is Task {
  return !!t && t.Status.State === 'new' && isDesiredAlive(t.DesiredState);
}

export class Allocator extends ReconcileLoop {
  private readonly attach: AttachFn;

  constructor(opts: AllocatorOptions) {
    super('allocator', ['tasks'], opts);
    this.attach = opts.attach ?? noNetworks;
  }

  protected keysFor(c: Change): Iterable<string> {
    return needsAllocation(c.after as Task | undefined) ? [c.id] : [];
  }

  protected *allKeys(): Iterable<string> {
    for (const t of this.cache.all<Task>('tasks')) if (needsAllocation(t)) yield t.ID;
  }

  protected async reconcile(ids: string[]): Promise<void> {
    const ops: BatchOp[] = [];
    for (const id of ids) {
      const task = this.cache.get<Task>('tasks', id);
      if (!needsAllocation(task)) continue;
      let attached: Task;
      try {
        attached = await this.attach(task);
      } catch (e) {
        this.log.warn({ task: id, err: errorMessage(e) }, 'cannot allocate task resources; it stays new');
        continue;
      }
      ops.push({ op: 'update', kind: 'tasks', object: transitionTask(attached, { State: 'pending', Message: ALLOCATED_MESSAGE }, this.clock.now()) });
    }
    if (!ops.length) return;
    const out = await commitOps(this.store, ops, this.cache);
    for (const f of out.failed) this.log.error({ task: f.op.op === 'update' ? f.op.object.ID : undefined, err: f.error.message }, 'cannot store allocated task');
    if (out.stale.length) {
      // Changed since read (a new desired state, say): plan those again from their current version.
      await rereadStale(this.store, this.cache, out.stale);
      for (const s of out.stale) if (s.op.op === 'update') this.queue.mark(s.op.object.ID);
    }
    this.log.debug({ allocated: out.committed, stale: out.stale.length }, 'allocated tasks');
  }
}
