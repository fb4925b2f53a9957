// A binary min-heap: the scheduler takes the best node, places a task, and puts the node back
// with its new counts, so each placement costs O(log nodes) instead of a sort.

export class MinHeap<T> {
  private readonly items: T[];

  /** Builds the heap from `items` in O(n); the array is taken over. */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    items: T[] = [],
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Replaces the top item (cheaper than pop then push). */
  replaceTop(item: T): void {
    if (!this.items.length) this.items.push(item);
    else {
      this.items[0] = item;
      this.down(0);
    }
  }

  /** Hands over the items, in heap order, leaving the heap empty. */
  take(): T[] {
    return this.items.splice(0);
  }

  private up(i: number): void {
    const items = this.items;
    const x = items[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, items[p])) break;
      items[i] = items[p];
      i = p;
    }
    items[i] = x;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(items[c + 1], items[c])) c++;
      if (!this.less(items[c], x)) break;
      items[i] = items[c];
      i = c;
    }
    items[i] = x;
  }
}
