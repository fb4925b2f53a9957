// Status reports not yet accepted by a manager: only each task's latest report is kept, so a
// long disconnection costs one report per task. A batch that fails to send is put back unless
// a newer report for the task came meanwhile.
import { EventEmitter, once } from 'node:events';
import type { TaskStatus } from '../../../shared/swarm';
import type { StatusReport } from './executor';

export class PendingStatuses {
  private readonly latest = new Map<string, TaskStatus>();
  private readonly events = new EventEmitter();

  put(reports: Iterable<StatusReport>): void {
    for (const r of reports) {
      this.latest.delete(r.taskId); // re-insert: the oldest report goes out first
      this.latest.set(r.taskId, r.status);
    }
    if (this.latest.size) this.notify();
  }

  /** The task is no longer this node's: the manager does not want its reports. */
  drop(taskId: string): void {
    this.latest.delete(taskId);
  }

  /** Up to `max` reports, oldest first; they are no longer pending. */
  take(max = Infinity): StatusReport[] {
    const out: StatusReport[] = [];
    for (const [taskId, status] of this.latest) {
      if (out.length >= max) break;
      out.push({ taskId, status });
    }
    for (const r of out) this.latest.delete(r.taskId);
    return out;
  }

  /** A batch that was not delivered: pending again, except where a newer report replaced it. */
  restore(batch: StatusReport[]): void {
    const newer = new Map(this.latest);
    this.latest.clear();
    for (const r of batch) if (!newer.has(r.taskId)) this.latest.set(r.taskId, r.status);
    for (const [id, s] of newer) this.latest.set(id, s);
    if (this.latest.size) this.notify();
  }

  get size(): number {
    return this.latest.size;
  }

  /** true as soon as something is pending; false when the signal aborts first. */
  async whenAny(signal: AbortSignal): Promise<boolean> {
    while (this.latest.size === 0 && !signal.aborted) {
      try {
        await once(this.events, 'put', { signal });
      } catch {
        return false; // aborted
      }
    }
    return !signal.aborted;
  }

  private notify(): void {
    this.events.emit('put');
  }
}
