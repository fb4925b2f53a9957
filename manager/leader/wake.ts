// One wake-up timer per key: a planner says "plan again at T" (a restart delay, an update's
// delay or monitor period) and the loop marks the key dirty then, instead of sleeping.
import type { Clock, TimerHandle } from './clock';

export class WakeTimers<K> {
  private readonly timers = new Map<K, { at: number; handle: TimerHandle }>();

  constructor(
    private readonly clock: Clock,
    private readonly wake: (key: K) => void,
  ) {}

  /** The key's wake-up time, replacing any earlier one; undefined cancels it. */
  set(key: K, at: number | undefined): void {
    const cur = this.timers.get(key);
    if (cur && cur.at === at) return;
    cur?.handle.cancel();
    this.timers.delete(key);
    if (at === undefined) return;
    this.arm(key, at);
  }

  /** When the key will be woken, if at all. */
  get(key: K): number | undefined {
    return this.timers.get(key)?.at;
  }

  get size(): number {
    return this.timers.size;
  }

  clear(): void {
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
  }

  private arm(key: K, at: number): void {
    const handle = this.clock.setTimer(() => {
      if (this.timers.get(key)?.handle !== handle) return;
      // A timer capped by the platform's maximum delay fires early: wait on.
      if (this.clock.now() < at) return this.arm(key, at);
      this.timers.delete(key);
      this.wake(key);
    }, at - this.clock.now());
    this.timers.set(key, { at, handle });
  }
}
