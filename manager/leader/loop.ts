// The skeleton every leader-only loop shares (DESIGN principles 2-4): a store watch (snapshot,
// then events) feeds an ObjectCache; each change marks keys dirty; dirty keys are reconciled
// once per short window; every key is marked again on a periodic resync and after a re-list.
// A loop's subclass says which keys a change dirties and how to reconcile a batch of them.
import type { Logger } from '../../shared/log';
import { logger } from '../../shared/log';
import { errorMessage } from '../../shared/errors';
import type { ClusterStore, Kind } from '../store';
import { ObjectCache, type Change } from './cache';
import { systemClock, type Clock, type TimerHandle } from './clock';
import { keepWatching } from './rewatch';
import { DirtyQueue } from './dirty';
import { WakeTimers } from './wake';

export interface LoopOptions {
  store: ClusterStore;
  /** Parent logger; the loop logs through a child with `loop: <name>` (default: logger('<name>')). */
  log?: Logger;
  clock?: Clock;
  /** Debounce window between the first dirty mark and the reconcile (default 5 ms). */
  windowMs?: number;
  /** Full resync period (default 30 s); 0 turns it off. */
  resyncMs?: number;
}

export interface Startable {
  /** Starts the loop; resolves once its first snapshot is loaded (or the signal aborts). */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops the loop and waits for the reconcile under way. */
  stop(): Promise<void>;
}

export abstract class ReconcileLoop implements Startable {
  protected readonly store: ClusterStore;
  protected readonly clock: Clock;
  protected readonly log: Logger;
  protected readonly cache: ObjectCache;
  protected readonly queue: DirtyQueue<string>;
  protected readonly wakes: WakeTimers<string>;
  private readonly resyncMs: number;
  private ctl: AbortController | undefined;
  private running: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private readonly revisionWaiters: Array<{ revision: number; resolve: () => void }> = [];

  constructor(
    readonly name: string,
    readonly kinds: Kind[],
    opts: LoopOptions,
  ) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ? opts.log.child({ loop: name }) : logger(name);
    this.resyncMs = opts.resyncMs ?? 30_000;
    this.cache = new ObjectCache(kinds);
    this.queue = new DirtyQueue<string>({
      clock: this.clock,
      windowMs: opts.windowMs ?? 2,
      run: (keys) => this.reconcile(keys),
      onError: (e, keys) => this.log.warn({ err: errorMessage(e), keys: keys.length }, 'reconcile failed; retrying'),
    });
    this.wakes = new WakeTimers(this.clock, (k) => this.queue.mark(k));
  }

  /** Keys a change to the cache makes dirty (watch events and re-lists; not this loop's own commits). */
  protected abstract keysFor(change: Change): Iterable<string>;
  /** Every key, for a resync. */
  protected abstract allKeys(): Iterable<string>;
  /** Reconciles a batch of dirty keys; throwing puts them back for a retry. */
  protected abstract reconcile(keys: string[]): Promise<void>;
  /** Called after the cache was (re)loaded from a snapshot, before any reconcile. */
  protected afterReset(_changes: Change[]): void {}

  async start(signal?: AbortSignal): Promise<void> {
    if (this.ctl) throw new Error(`${this.name} is already started`);
    const ctl = (this.ctl = new AbortController());
    const onAbort = () => void this.stop();
    if (signal?.aborted) ctl.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let ready!: () => void;
    const first = new Promise<void>((resolve) => (ready = resolve));
    if (ctl.signal.aborted) ready();
    else ctl.signal.addEventListener('abort', () => ready(), { once: true });
    this.running = this.follow(ctl.signal, ready).finally(() => signal?.removeEventListener('abort', onAbort));
    this.scheduleResync();
    await first;
  }

  async stop(): Promise<void> {
    const ctl = this.ctl;
    if (!ctl) return;
    ctl.abort();
    this.resyncTimer?.cancel();
    this.wakes.clear();
    await this.queue.stop();
    await this.running;
    this.wakeRevisionWaiters(true);
  }

  /** Resolves when nothing is dirty and no reconcile runs (wake-up timers may still be set). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** The store revision this loop's cache reflects (the last event or snapshot it applied). */
  get revision(): number {
    return this.cache.revision;
  }

  /**
   * Resolves once the loop has seen the store up to `revision` (a change to a kind it watches,
   * or it waits for the next one) and has reconciled what that dirtied; or when it stops.
   */
  async caughtUp(revision: number): Promise<void> {
    if (this.cache.revision < revision && !this.stopping) await new Promise<void>((resolve) => this.revisionWaiters.push({ revision, resolve }));
    await this.idle();
  }

  private wakeRevisionWaiters(all = false): void {
    if (!this.revisionWaiters.length) return;
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const w = this.revisionWaiters[i];
      if (all || w.revision <= this.cache.revision) {
        this.revisionWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  protected get stopping(): boolean {
    return this.ctl?.signal.aborted ?? true;
  }

  private follow(signal: AbortSignal, ready: () => void): Promise<void> {
    return keepWatching('watch', this.log, this.clock, signal, async (connected) => {
      const w = await this.store.watch(this.kinds, signal);
      connected();
      const changes = this.cache.reset(w.snapshot, w.revision);
      this.afterReset(changes);
      this.queue.markAll(this.allKeys());
      ready();
      this.wakeRevisionWaiters();
      for await (const ev of w.events) {
        const change = this.cache.applyEvent(ev);
        if (change) this.queue.markAll(this.keysFor(change));
        this.wakeRevisionWaiters();
      }
    });
  }

  private scheduleResync(): void {
    if (!this.resyncMs) return;
    this.resyncTimer = this.clock.setTimer(() => {
      if (this.stopping) return;
      this.queue.markAll(this.allKeys());
      this.scheduleResync();
    }, this.resyncMs);
  }
}
