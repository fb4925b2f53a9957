// What a plan asks the applier to do. Each action is one store write (a task create, a
// desired-state change, a delete, a service status change) or a timer; the applier needs no
// logic of its own beyond "write this, compare on this version".

import { stateRank } from '../../../shared/swarm';
import type { Task, UpdateStatus } from '../../../shared/swarm';

export type DesiredChange = 'running' | 'shutdown' | 'remove';

export type PlanAction =
  /** Create this task (ID, Spec, Slot, NodeID already filled in). */
  | { type: 'create'; task: Task; reason: string }
  /** Move the task's DesiredState forward; `version` is the Version.Index it was read at. */
  | { type: 'setDesired'; taskId: string; desired: DesiredChange; version?: number; reason: string }
  /** Delete the task from the store. */
  | { type: 'delete'; taskId: string; version?: number; reason: string }
  /** Write Service.UpdateStatus. */
  | { type: 'updateStatus'; serviceId: string; version?: number; status: UpdateStatus; reason: string }
  /** Roll the service back to its PreviousSpec (manager/spec rollbackService with automatic: true). */
  | { type: 'rollback'; serviceId: string; version?: number; message: string }
  /** Plan again at this time (ms since the epoch) even if nothing changes. At most one per plan. */
  | { type: 'wakeAt'; at: number; reason: string };

/** Actions on the service object rather than its tasks. */
export type ServiceAction = Extract<PlanAction, { type: 'updateStatus' | 'rollback' }>;

/**
 * Collects a plan's actions: at most one write per task, desired states only forward, and
 * the earliest wake-up. `busy` names the units (slots or nodes) whose tasks this plan
 * creates or stops, so the rolling updater leaves them alone until the next plan.
 */
export class PlanBuilder {
  private readonly list: PlanAction[] = [];
  private readonly touched = new Set<string>();
  private wake?: { at: number; reason: string };
  readonly busy = new Set<string>();

  create(task: Task, unit: string, reason: string): void {
    this.list.push({ type: 'create', task, reason });
    this.touched.add(task.ID);
    this.busy.add(unit);
  }

  setDesired(task: Task, desired: DesiredChange, unit: string, reason: string): void {
    if (this.touched.has(task.ID) || stateRank(desired) <= stateRank(task.DesiredState)) return;
    this.list.push({ type: 'setDesired', taskId: task.ID, desired, version: task.Version?.Index, reason });
    this.touched.add(task.ID);
    this.busy.add(unit);
  }

  delete(task: Task, reason: string): void {
    if (this.touched.has(task.ID)) return;
    this.list.push({ type: 'delete', taskId: task.ID, version: task.Version?.Index, reason });
    this.touched.add(task.ID);
  }

  push(action: ServiceAction): void {
    this.list.push(action);
  }

  wakeAt(at: number, reason: string): void {
    if (!this.wake || at < this.wake.at) this.wake = { at, reason };
  }

  /** Whether a task already has an action in this plan. */
  has(taskId: string): boolean {
    return this.touched.has(taskId);
  }

  actions(): PlanAction[] {
    return this.wake ? [...this.list, { type: 'wakeAt', ...this.wake }] : [...this.list];
  }
}

/** Merges plans into one action list with a single, earliest wakeAt. */
export function mergeActions(...lists: PlanAction[][]): PlanAction[] {
  const out: PlanAction[] = [];
  let wake: Extract<PlanAction, { type: 'wakeAt' }> | undefined;
  for (const a of lists.flat()) {
    if (a.type !== 'wakeAt') out.push(a);
    else if (!wake || a.at < wake.at) wake = a;
  }
  return wake ? [...out, wake] : out;
}
