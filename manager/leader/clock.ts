// Time as the reconcile loops see it: injected so unit tests drive debounce windows and
// wake-ups without waiting, and the loops never sleep.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs fn once after ms (never before); cancel() before then and it never runs. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // Node's timers take at most 2^31-1 ms; a later wake-up re-arms when that one fires.
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    return { cancel: () => clearTimeout(t) };
  },
};

/** Resolves after ms on `clock`, or at once when `signal` aborts (never rejects). */
export function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      t.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = clock.setTimer(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
