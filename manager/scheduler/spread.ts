// Spreading one group of identical tasks: a tree with one level per spread preference (a branch
// per label value, nodes without the label in a branch of their own) and, at each leaf, a heap
// of the nodes that pass the filters, fewest tasks of the service first, then fewest tasks, then
// node ID. Each level shares the tasks so that its branches end up as even as they can.
import { labelGetter } from './constraints';
import { MinHeap } from './heap';
import type { NodeInfo, NodeInfoSet } from './nodeinfo';
import type { TaskChecks } from './pipeline';
import type { PlacementView } from './types';

interface Candidate {
  info: NodeInfo;
  serviceTasks: number;
  tasks: number;
}

const better = (a: Candidate, b: Candidate): boolean =>
  a.serviceTasks !== b.serviceTasks ? a.serviceTasks < b.serviceTasks : a.tasks !== b.tasks ? a.tasks < b.tasks : a.info.rank < b.info.rank;

export interface Branch {
  /** Active tasks of the service on every node under this branch, eligible or not. */
  tasks: number;
  /** Sub-branches by label value, in value order; absent on a leaf. */
  children?: Array<{ value: string; branch: Branch }>;
  /** A leaf's eligible nodes. */
  heap?: MinHeap<Candidate>;
}

interface Building {
  tasks: number;
  next?: Map<string, Building>;
  /** A leaf's best candidates so far, worst on top. */
  kept?: MinHeap<Candidate>;
}

const worse = (a: Candidate, b: Candidate) => better(b, a);

/**
 * Builds the tree over the set's nodes (in ID order) for a group of `n` tasks; nodes failing `checks` count towards
 * their branch's tasks but are not candidates. A leaf keeps only its `n` best nodes: n
 * placements can never reach past them, because until all n are used up one of them is
 * still at least as good as any node left out.
 */
export function buildTree(set: NodeInfoSet, n: number, placement: PlacementView | undefined, checks: TaskChecks): Branch {
  const serviceId = checks.task.ServiceID ?? '';
  // A new service has no tasks anywhere: no need to ask each node.
  const anyTasks = set.serviceTasks(serviceId) > 0;
  // A descriptor that names no label is skipped, as swarm does (the API rejects it up front).
  const levels = (placement?.Preferences ?? []).map((p) => labelGetter(p.Spread?.SpreadDescriptor ?? '')).filter((g) => g !== undefined);
  const root: Building = { tasks: 0 };
  for (const info of set.all()) {
    const count = anyTasks ? info.serviceTasks(serviceId) : 0;
    let b = root;
    for (const get of levels) {
      b.tasks += count;
      const value = get(info.node) ?? '';
      b.next ??= new Map();
      let child = b.next.get(value);
      if (!child) b.next.set(value, (child = { tasks: 0 }));
      b = child;
    }
    b.tasks += count;
    const kept = (b.kept ??= new MinHeap(worse));
    if (n <= 0) continue;
    const total = info.activeTasksCount;
    if (kept.size < n) {
      if (checks.passes(info)) kept.push({ info, serviceTasks: count, tasks: total });
      continue;
    }
    // Compare before filtering: a node that would not make the cut needs no checks.
    const worst = kept.peek()!;
    const beats = count !== worst.serviceTasks ? count < worst.serviceTasks : total !== worst.tasks ? total < worst.tasks : info.rank < worst.info.rank;
    if (beats && checks.passes(info)) kept.replaceTop({ info, serviceTasks: count, tasks: total });
  }
  return finish(root);
}

function finish(b: Building): Branch {
  if (!b.next) return { tasks: b.tasks, heap: new MinHeap(better, b.kept?.take() ?? []) };
  const children = [...b.next.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([value, child]) => ({ value, branch: finish(child) }));
  return { tasks: b.tasks, children };
}

/**
 * Shares `n` tasks among branches holding `counts` tasks so that the totals come out as even as
 * possible: the emptiest branches are filled up to a common level first; units left over go to
 * the earliest branches (value order) among those at that level.
 */
export function waterfill(counts: readonly number[], n: number): number[] {
  const out = counts.map(() => 0);
  if (n <= 0 || !counts.length) return out;
  const order = counts.map((_, i) => i).sort((a, b) => counts[a] - counts[b] || a - b);
  // Take in branches, emptiest first, while raising all taken ones to the next one's count fits in n.
  let m = 1;
  let sum = counts[order[0]];
  while (m < order.length && counts[order[m]] * m - sum <= n) sum += counts[order[m++]];
  const level = Math.floor((n + sum) / m);
  let extra = n + sum - level * m;
  const taken = order.slice(0, m).sort((a, b) => a - b);
  for (const i of taken) {
    out[i] = level - counts[i];
    if (extra > 0) {
      out[i]++;
      extra--;
    }
  }
  return out;
}

/** Places up to `n` tasks under `branch` through `assign`; returns how many it placed. */
export function placeOn(branch: Branch, n: number, checks: TaskChecks, assign: (node: NodeInfo) => void): number {
  let placed = 0;
  if (branch.heap) {
    const heap = branch.heap;
    while (placed < n && heap.size) {
      const c = heap.pop()!;
      assign(c.info);
      placed++;
      // The placement may have used up the node (resources, host port, max replicas).
      if (checks.passes(c.info)) {
        c.serviceTasks = c.info.serviceTasks(checks.task.ServiceID ?? '');
        c.tasks = c.info.activeTasksCount;
        heap.push(c);
      }
    }
  } else {
    const open = branch.children!.map((c) => c.branch);
    while (placed < n && open.length) {
      const share = waterfill(
        open.map((b) => b.tasks),
        n - placed,
      );
      // A branch that takes fewer than its share is full; the rest is shared again among the others.
      const full = new Set<Branch>();
      open.forEach((b, i) => {
        if (!share[i]) return;
        const got = placeOn(b, share[i], checks, assign);
        placed += got;
        if (got < share[i]) full.add(b);
      });
      if (!full.size) break;
      for (let i = open.length - 1; i >= 0; i--) if (full.has(open[i])) open.splice(i, 1);
    }
  }
  branch.tasks += placed;
  return placed;
}
