// The contract every scheduler filter meets, so that the pipeline can run them in order and say
// why nodes were turned down.
import type { NodeInfo } from '../nodeinfo';
import type { TaskView } from '../types';

export interface Filter {
  readonly name: string;
  /**
   * Filters with the same reason are counted together in the explanation (a down node and a
   * drained node are both "not available for new tasks" to the user).
   */
  readonly reason: string;
  /** False when the task asks nothing of this filter, so the pipeline can skip it. */
  appliesTo(task: TaskView): boolean;
  /** The node can take the task as far as this filter is concerned. */
  check(task: TaskView, node: NodeInfo): boolean;
  /** Why `count` nodes failed this filter, as the user reads it. */
  explain(count: number): string;
}

/** "1 node" / "3 nodes". */
export const nodeCount = (n: number): string => `${n} node${n === 1 ? '' : 's'}`;
