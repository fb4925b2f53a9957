// A level-triggered wake-up for one waiting stream: wakes that come while nobody waits are
// remembered (once), so a stream that was busy sending still sees that something changed.
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  wake(): void {
    this.pending = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** true once woken (at once if woken since the last wait), false when the signal aborts first. */
  async wait(signal: AbortSignal): Promise<boolean> {
    if (!this.pending && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          if (this.waiter === done) this.waiter = undefined;
          resolve();
        };
        this.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.pending = false;
    return true;
  }
}
