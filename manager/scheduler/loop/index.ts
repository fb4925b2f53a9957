export { SchedulerLoop, ASSIGNED_MESSAGE, isSchedulable, type SchedulerLoopOptions, type SchedulerStats } from './applier';
