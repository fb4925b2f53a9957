// Status reports waiting for the dispatcher, coalesced per task: only the latest status of a
// task is kept, so a burst of steps (or a long outage of the manager) sends one report per
// task. A batch stays pending until acknowledged; a failed send puts it back with nack().
import { ShoalError } from '../../../shared/errors';
import type { TaskStatus } from '../../../shared/swarm';
import type { TaskStatusReport } from './types';

interface Entry {
  status: TaskStatus;
  seq: number;
  /** Already handed out in a batch that is neither acknowledged nor refused yet. */
  handed: boolean;
}

export interface StatusBatch {
  updates: TaskStatusReport[];
  /** Sent: forget these reports (unless a newer status replaced one meanwhile). */
  ack(): void;
  /** Not sent: hand these reports out again with the next batch. */
  nack(): void;
}

export class StatusQueue {
  private readonly pending = new Map<string, Entry>();
  private seq = 0;
  private waiters: Array<() => void> = [];

  /** Record a task's latest status, replacing any unsent one. */
  put(taskId: string, status: TaskStatus): void {
    this.pending.set(taskId, { status, seq: ++this.seq, handed: false });
    for (const w of this.waiters.splice(0)) w();
  }

  /** Forget a task (it is no longer assigned: the manager no longer wants its reports). */
  drop(taskId: string): void {
    this.pending.delete(taskId);
  }

  /** The latest unsent status per task. */
  snapshot(): TaskStatusReport[] {
    return [...this.pending].map(([taskId, e]) => ({ taskId, status: e.status }));
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Waits until some report has not been handed out yet, then returns every pending report
   * (older unacknowledged ones too, so a batch always carries each task's latest status).
   * Rejects with CANCELLED when the signal aborts.
   */
  async next(signal?: AbortSignal): Promise<StatusBatch> {
    while (![...this.pending.values()].some((e) => !e.handed)) {
      if (signal?.aborted) throw new ShoalError('CANCELLED', 'status batch wait cancelled');
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    const taken = [...this.pending].map(([taskId, e]) => ({ taskId, e, seq: e.seq }));
    for (const t of taken) t.e.handed = true;
    return {
      updates: taken.map((t) => ({ taskId: t.taskId, status: t.e.status })),
      ack: () => {
        for (const t of taken) if (this.pending.get(t.taskId)?.seq === t.seq) this.pending.delete(t.taskId);
      },
      nack: () => {
        let again = false;
        for (const t of taken) {
          const cur = this.pending.get(t.taskId);
          if (cur?.seq === t.seq) {
            cur.handed = false;
            again = true;
          }
        }
        if (again) for (const w of this.waiters.splice(0)) w();
      },
    };
  }

  /** Batches until the signal aborts; the consumer acks or nacks each one. */
  async *batches(signal: AbortSignal): AsyncIterable<StatusBatch> {
    for (;;) {
      try {
        yield await this.next(signal);
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
    }
  }
}
