// What the manager runs while it leads: the orchestrator, allocator, scheduler, task reaper
// and the CA rotation reconciler.
// They never call each other; each watches the store and hands work on through it, so they
// start and stop together but in any order. The manager calls start() with its Leadership's
// signal when it wins the election; losing leadership (the signal aborting) stops them all.
import type { Logger } from '../../shared/log';
import { logger } from '../../shared/log';
import type { ClusterStore } from '../store';
import { Allocator } from '../allocator';
import { Orchestrator } from '../orchestrator';
import type { IdGen } from '../orchestrator/plan';
import { TaskReaper } from '../reaper';
import { SchedulerLoop } from '../scheduler/loop';
import { CARotationReconciler } from '../ca/reconciler';
import { systemClock, type Clock } from './clock';
import { SharedWatchStore } from './hub';
import type { LoopOptions, ReconcileLoop } from './loop';

export interface LeaderComponentsOptions {
  store: ClusterStore;
  log?: Logger;
  clock?: Clock;
  /** Debounce window of every loop (default 5 ms). */
  windowMs?: number;
  /** Full resync period of every loop (default 30 s). */
  resyncMs?: number;
  /** Task IDs for the orchestrator (default: swarm IDs). */
  newId?: IdGen;
  /** Store operations per scheduler batch (default 1000). */
  schedulerChunk?: number;
}

export class LeaderComponents {
  readonly orchestrator: Orchestrator;
  readonly allocator: Allocator;
  readonly scheduler: SchedulerLoop;
  readonly reaper: TaskReaper;
  readonly caRotation: CARotationReconciler;
  /** The one watch the loops share. */
  private readonly hub: SharedWatchStore;
  private readonly log: Logger;
  private started = false;

  constructor(opts: LeaderComponentsOptions) {
    this.log = opts.log ?? logger('leader');
    this.hub = new SharedWatchStore(opts.store, ['services', 'tasks', 'nodes', 'cluster', 'networks', 'ipam'], this.log.child({ loop: 'watch' }), opts.clock ?? systemClock);
    const base: LoopOptions = { store: this.hub, log: opts.log, clock: opts.clock, windowMs: opts.windowMs, resyncMs: opts.resyncMs };
    this.orchestrator = new Orchestrator({ ...base, newId: opts.newId });
    this.allocator = new Allocator(base);
    this.scheduler = new SchedulerLoop({ ...base, chunk: opts.schedulerChunk });
    this.reaper = new TaskReaper(base);
    this.caRotation = new CARotationReconciler(base);
  }

  private get loops(): ReconcileLoop[] {
    return [this.orchestrator, this.allocator, this.scheduler, this.reaper, this.caRotation];
  }

  /**
   * Starts every loop; resolves once each has loaded its first snapshot. When `signal` aborts
   * (leadership lost), they stop on their own; stop() waits for that.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new Error('leader components are already started');
    this.started = true;
    this.log.info('starting leader components');
    await this.hub.start(signal);
    await Promise.all(this.loops.map((l) => l.start(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
    await this.hub.stop();
    if (this.started) this.log.info('leader components stopped');
  }

  /** Resolves when no loop has dirty work or a reconcile under way (tests, benchmarks). */
  async idle(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.idle()));
  }
}
