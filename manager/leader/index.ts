// Leader-only machinery: the loop skeleton the orchestrator, allocator, scheduler applier and
// task reaper share, and LeaderComponents, which starts and stops them together.
export { systemClock, type Clock, type TimerHandle } from './clock';
export { DirtyQueue, type DirtyQueueOptions } from './dirty';
export { WakeTimers } from './wake';
export { ObjectCache, type Change } from './cache';
export { chunked, commitOps, rereadStale, isStale, opTarget, DEFAULT_CHUNK, type CommitOutcome } from './commit';
export { ReconcileLoop, type LoopOptions, type Startable } from './loop';
export { LeaderComponents, type LeaderComponentsOptions } from './components';
export { SharedWatchStore } from './hub';
