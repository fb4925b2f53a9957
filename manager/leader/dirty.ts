// Collect, then reconcile (DESIGN principle 4): events mark keys dirty, and the keys marked
// during a short window are handed to the reconciler together, once each. One run at a time;
// keys marked while a run is under way wait for the next window. A failed run puts its keys
// back and tries again after a back-off, so a store outage costs retries, not lost work.
import type { Clock, TimerHandle } from './clock';

export interface DirtyQueueOptions<K> {
  clock: Clock;
  /** Reconciles a batch of keys (each once, in the order first marked). */
  run: (keys: K[]) => Promise<void>;
  /** How long after the first mark the batch is taken (default 5 ms). */
  windowMs?: number;
  /** First retry delay after a failed run (default 200 ms), doubling up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Told about every failed run; the keys are retried anyway. */
  onError?: (err: unknown, keys: K[]) => void;
}

export class DirtyQueue<K> {
  private dirty = new Set<K>();
  private timer: TimerHandle | undefined;
  private timerAt = 0;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private readonly waiters: Array<() => void> = [];
  private readonly windowMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly opts: DirtyQueueOptions<K>) {
    this.windowMs = opts.windowMs ?? 2;
    this.backoffMs = opts.backoffMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
  }

  /** Keys waiting for the next run. */
  get size(): number {
    return this.dirty.size;
  }

  has(key: K): boolean {
    return this.dirty.has(key);
  }

  mark(key: K): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.arm(this.windowMs);
  }

  markAll(keys: Iterable<K>): void {
    if (this.stopped) return;
    for (const k of keys) this.dirty.add(k);
    if (this.dirty.size) this.arm(this.windowMs);
  }

  /** Resolves once nothing is dirty and no run is under way (tests, benchmarks, shutdown). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** No more runs; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.dirty.clear();
    await this.running;
    this.settle();
  }

  private isIdle(): boolean {
    return this.stopped || (this.dirty.size === 0 && !this.running && !this.timer);
  }

  /** Takes the batch in `ms` unless a run is due sooner or one is under way (it re-arms itself). */
  private arm(ms: number): void {
    if (this.running || this.stopped) return;
    const at = this.opts.clock.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimer(() => this.fire(), ms);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    if (this.dirty.size === 0) {
      this.settle();
      return;
    }
    const keys = [...this.dirty];
    this.dirty = new Set();
    this.running = this.runBatch(keys);
  }

  private async runBatch(keys: K[]): Promise<void> {
    let delay = this.windowMs;
    try {
      await this.opts.run(keys);
      this.failures = 0;
    } catch (e) {
      this.failures++;
      delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (this.failures - 1));
      if (!this.stopped) for (const k of keys) this.dirty.add(k);
      this.opts.onError?.(e, keys);
    } finally {
      this.running = undefined;
    }
    if (this.dirty.size && !this.stopped) this.arm(delay);
    else this.settle();
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const w of this.waiters.splice(0)) w();
  }
}
