// The task reaper: tasks whose service is gone. Live ones are told to go (desired REMOVE,
// which an agent treats as shut down, then remove the container); those that can no longer
// run (ended, never assigned, or on a node that left) are deleted. The planner decides
// (planRemovedService); this loop applies it. History of existing services is trimmed to
// TaskHistoryRetentionLimit in the orchestrator's pass, where the planner also keeps the
// tasks its restart policy still counts. Containers' network attachments (tasks of no service)
// are their nodes' to end; they are deleted here only when their node has left.
import { errorMessage } from '../../shared/errors';
import { isNetworkAttachment, type Node, type Task } from '../../shared/swarm';
import type { BatchOp } from '../store';
import type { Change } from '../leader/cache';
import { commitOps, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';
import { actionsToOps } from '../orchestrator/apply';
import { planRemovedService } from '../orchestrator/plan';

/** Key of the pass over network attachments whose node has left. */
const ATTACHMENTS = '\0attachments';

export class TaskReaper extends ReconcileLoop {
  constructor(opts: LoopOptions) {
    super('task-reaper', ['tasks', 'services', 'nodes'], opts);
  }

  /** Keys are the IDs of services that are gone but still have tasks. */
  protected keysFor(c: Change): Iterable<string> {
    switch (c.kind) {
      case 'services':
        return c.after ? [] : [c.id];
      case 'tasks': {
        const t = (c.after ?? c.before) as Task;
        if (isNetworkAttachment(t)) return c.after && !this.cache.get('nodes', t.NodeID ?? '') ? [ATTACHMENTS] : [];
        return this.orphaned(t.ServiceID) && c.after ? [t.ServiceID] : [];
      }
      case 'nodes':
        // A node that left makes its tasks dead; one that went down changes nothing here.
        return c.after ? [] : this.allKeys();
      default:
        return [];
    }
  }

  protected *allKeys(): Iterable<string> {
    for (const id of this.cache.serviceIdsWithTasks()) if (this.orphaned(id)) yield id;
    yield ATTACHMENTS;
  }

  /** A service is gone (tasks of no service are network attachments, not orphans). */
  private orphaned(serviceId: string): boolean {
    return !!serviceId && !this.cache.get('services', serviceId);
  }

  /** Deletes of the network attachments whose node is no longer in the cluster. */
  private attachmentsOfGoneNodes(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const t of this.cache.tasksOfService('')) {
      if (isNetworkAttachment(t) && !this.cache.get('nodes', t.NodeID ?? '')) ops.push({ op: 'delete', kind: 'tasks', id: t.ID, version: t.Version?.Index });
    }
    return ops;
  }

  protected async reconcile(ids: string[]): Promise<void> {
    const now = this.clock.now();
    const nodes = [...this.cache.all<Node>('nodes')];
    const lookup = { task: (id: string) => this.cache.get<Task>('tasks', id), service: () => undefined };
    const ops: BatchOp[] = [];
    for (const id of ids) {
      if (id === ATTACHMENTS) {
        ops.push(...this.attachmentsOfGoneNodes());
        continue;
      }
      if (!this.orphaned(id)) continue;
      try {
        ops.push(...actionsToOps(planRemovedService([...this.cache.tasksOfService(id)], nodes, now), lookup, now).ops);
      } catch (e) {
        this.log.error({ service: id, err: errorMessage(e) }, 'cannot plan the removal of a deleted service\'s tasks');
      }
    }
    if (!ops.length) return;
    const out = await commitOps(this.store, ops, this.cache);
    for (const f of out.failed) this.log.error({ err: f.error.message }, 'cannot remove task of a deleted service');
    if (out.stale.length) {
      await rereadStale(this.store, this.cache, out.stale);
      this.queue.markAll(this.allKeys());
    }
    this.log.debug({ services: ids.length, writes: out.committed, stale: out.stale.length }, 'reaped');
  }
}
