// A small unbounded queue that several concurrent tasks write progress into and one
// consumer reads as an async iterator (pull and push report layers in parallel).

export class Channel<T> {
  private readonly items: T[] = [];
  private waiter?: () => void;
  private closed = false;
  private failure?: { error: unknown };

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake();
  }

  /** No more items; the iterator ends after draining (or throws `error` once drained). */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.items.length) yield this.items.shift()!;
      if (this.closed) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
