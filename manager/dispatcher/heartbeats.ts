// Heartbeat expiry bookkeeping: one deadline per node, no timers. The dispatcher owns the one
// timer and asks which nodes expired; the clock is injected so the logic is tested without waiting.

export class HeartbeatTracker {
  private readonly deadlines = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A heartbeat, a new session or a fresh start: the node must beat again within graceMs. Returns the new deadline. */
  beat(nodeId: string, graceMs: number): number {
    const at = this.now() + graceMs;
    this.deadlines.set(nodeId, at);
    return at;
  }

  /** Bring a watched node's deadline forward to within graceMs (never later). Returns the deadline, or undefined when not watched. */
  shorten(nodeId: string, graceMs: number): number | undefined {
    const cur = this.deadlines.get(nodeId);
    if (cur === undefined) return undefined;
    const at = Math.min(cur, this.now() + graceMs);
    this.deadlines.set(nodeId, at);
    return at;
  }

  has(nodeId: string): boolean {
    return this.deadlines.has(nodeId);
  }

  /** Stop watching a node (it was removed from the cluster). */
  remove(nodeId: string): void {
    this.deadlines.delete(nodeId);
  }

  /** The nodes whose deadline has passed, oldest first; they are no longer watched. */
  expire(): string[] {
    const now = this.now();
    const late = [...this.deadlines].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [id] of late) this.deadlines.delete(id);
    return late.map(([id]) => id);
  }

  /** The earliest deadline, or undefined when no node is watched. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const at of this.deadlines.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  get size(): number {
    return this.deadlines.size;
  }
}
