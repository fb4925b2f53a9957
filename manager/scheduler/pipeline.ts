// Runs the filters that matter for one task against nodes, and turns the nodes' failures into the
// message the user sees on a task that stays pending.
import { defaultFilters, type Filter } from './filters';
import type { NodeInfo } from './nodeinfo';
import type { TaskView } from './types';

export const NO_SUITABLE_NODE = 'no suitable node';

/** The filters of a pipeline narrowed to one task (and every task with the same placement). */
export class TaskChecks {
  constructor(
    readonly task: TaskView,
    private readonly filters: readonly Filter[],
  ) {}

  /** The first filter the node fails, or undefined when it can take the task. */
  firstFailure(node: NodeInfo): Filter | undefined {
    for (const f of this.filters) if (!f.check(this.task, node)) return f;
    return undefined;
  }

  passes(node: NodeInfo): boolean {
    return this.firstFailure(node) === undefined;
  }

  /**
   * Docker's pending-task message: `no suitable node (insufficient resources on 3 nodes; 1 node
   * not available for new tasks)`. Each node counts once, under the first filter it fails;
   * reasons are listed from the most nodes to the fewest.
   */
  explain(nodes: Iterable<NodeInfo>): string {
    const counts = new Map<string, { filter: Filter; count: number; order: number }>();
    for (const n of nodes) {
      const f = this.firstFailure(n);
      if (!f) continue;
      const c = counts.get(f.reason);
      if (c) c.count++;
      else counts.set(f.reason, { filter: f, count: 1, order: this.filters.indexOf(f) });
    }
    if (!counts.size) return NO_SUITABLE_NODE;
    const parts = [...counts.values()].sort((a, b) => b.count - a.count || a.order - b.order).map((c) => c.filter.explain(c.count));
    return `${NO_SUITABLE_NODE} (${parts.join('; ')})`;
  }
}

export class Pipeline {
  constructor(private readonly filters: readonly Filter[] = defaultFilters) {}

  /** Only the filters that apply to the task run; the rest would pass every node anyway. */
  forTask(task: TaskView): TaskChecks {
    return new TaskChecks(task, this.filters.filter((f) => f.appliesTo(task)));
  }
}
