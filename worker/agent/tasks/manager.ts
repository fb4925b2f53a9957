// The agent's task reconciler: it holds one TaskController per assigned task, starts them for
// new tasks, forwards DesiredState changes, and shuts down and removes the containers of tasks
// that leave the assignment. It acts only on what the dispatcher told it: while the manager is
// unreachable, running tasks keep running and their latest statuses wait in the queue.
import { errorMessage, precondition } from '../../../shared/errors';
import { logger, type Logger } from '../../../shared/log';
import { TASK_ID_LABEL } from './config';
import { TaskController, type TaskFiles } from './controller';
import { StatusQueue } from './reporter';
import type { AgentTask, NetworkAttacher, NodeRef, TaskEngine, TaskStatusReport } from './types';

export interface TaskManagerOptions {
  engine: TaskEngine;
  node: NodeRef;
  /** How often controllers re-check their containers without an event (default 5 s). */
  resyncMs?: number;
  /** Networking for task containers; the default bridge when absent. */
  attach?: NetworkAttacher;
  /** Secret and config files of tasks (worker/agent/secrets); without it such tasks are rejected. */
  files?: TaskFiles;
  log?: Logger;
}

/** Changes on top of the assignment set (the dispatcher's INCREMENTAL message). */
export interface TaskChanges {
  updated?: AgentTask[];
  removed?: string[];
}

export class TaskManager {
  /** Reports for the dispatcher, coalesced per task. */
  readonly statuses = new StatusQueue();
  private readonly controllers = new Map<string, TaskController>();
  /** Unassigned tasks whose containers are still being shut down and removed. */
  private readonly leaving = new Map<string, TaskController>();
  /** Containers of tasks found at start, by task ID, until the task shows up. */
  private readonly found = new Map<string, string>();
  private readonly listeners = new Set<(r: TaskStatusReport) => void>();
  private readonly life = new AbortController();
  private readonly log: Logger;
  private started = false;
  /** A complete assignment set has arrived: containers of tasks not in it are strays. */
  private haveFullSet = false;
  private timer?: NodeJS.Timeout;
  private events?: Promise<void>;
  private resyncing?: Promise<void>;
  private readonly strayRemovals = new Set<Promise<void>>();

  constructor(private readonly opts: TaskManagerOptions) {
    this.log = opts.log ?? logger('agent', { node: opts.node.ID });
  }

  /**
   * Find the task containers a previous agent left (by their task ID label), then follow the
   * engine's container events and resync periodically. Call before update/apply.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    signal?.addEventListener('abort', () => void this.close(), { once: true });
    for (const [taskId, containerId] of await this.taskContainers()) this.found.set(taskId, containerId);
    if (this.found.size) this.log.info({ containers: this.found.size }, 'found task containers from a previous run');
    this.started = true;
    this.events = this.followEvents();
    this.timer = setInterval(() => void this.resync(), this.opts.resyncMs ?? 5000);
    this.timer.unref();
  }

  /** The complete assignment set: anything not in it is no longer this node's. */
  update(tasks: AgentTask[]): void {
    this.mustBeStarted();
    const ids = new Set(tasks.map((t) => t.ID));
    for (const t of tasks) this.upsert(t);
    for (const id of [...this.controllers.keys()]) if (!ids.has(id)) this.unassign(id);
    this.haveFullSet = true;
    for (const [taskId, containerId] of this.found) {
      if (ids.has(taskId)) continue;
      this.found.delete(taskId);
      const p = this.removeStray(taskId, containerId).finally(() => this.strayRemovals.delete(p));
      this.strayRemovals.add(p);
    }
  }

  /** Changes on top of the current set. */
  apply(changes: TaskChanges): void {
    this.mustBeStarted();
    for (const t of changes.updated ?? []) this.upsert(t);
    for (const id of changes.removed ?? []) this.unassign(id);
  }

  /** Each status change as it happens (the queue in `statuses` coalesces them for sending). */
  onStatus(fn: (r: TaskStatusReport) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Batches of the latest status per task, taken off the queue as they are yielded (for a
   * consumer that keeps its own unsent reports), until the signal aborts or the manager closes.
   */
  async *statusUpdates(signal?: AbortSignal): AsyncIterable<TaskStatusReport[]> {
    const stop = signal ? AbortSignal.any([signal, this.life.signal]) : this.life.signal;
    for await (const b of this.statuses.batches(stop)) {
      b.ack();
      yield b.updates;
    }
  }

  /** The assigned tasks with the status this node observed. */
  tasks(): AgentTask[] {
    return [...this.controllers.values()].map((c) => c.current);
  }

  task(id: string): AgentTask | undefined {
    return this.controllers.get(id)?.current;
  }

  /**
   * Compare controllers with the engine: every controller looks at its container again (an
   * exit or removal the events missed is reported), and once a full set has arrived,
   * containers labelled with a task this node no longer runs are removed.
   */
  resync(): Promise<void> {
    this.resyncing ??= (async () => {
      try {
        for (const c of [...this.controllers.values(), ...this.leaving.values()]) c.wake();
        if (!this.haveFullSet) return;
        for (const [taskId, containerId] of await this.taskContainers()) {
          if (this.controllers.has(taskId) || this.leaving.has(taskId) || this.life.signal.aborted) continue;
          await this.removeStray(taskId, containerId);
        }
        await this.sweepFiles();
      } catch (err) {
        this.log.warn({ err }, 'task resync failed');
      } finally {
        this.resyncing = undefined;
      }
    })();
    return this.resyncing;
  }

  /**
   * Stop driving tasks. Containers keep running: the next agent adopts them, and removes those
   * of unassigned tasks whose removal was cut short here once it has the full set.
   */
  async close(): Promise<void> {
    if (this.life.signal.aborted) return;
    this.life.abort();
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.controllers.values(), ...this.leaving.values()].map((c) => c.close()));
    await Promise.all([this.events, this.resyncing, ...this.strayRemovals]);
  }

  // ------------------------------------------------------------------ internals

  private mustBeStarted(): void {
    if (!this.started) throw precondition('the task manager has not been started');
    if (this.life.signal.aborted) throw precondition('the task manager is closed');
  }

  private upsert(t: AgentTask): void {
    const c = this.controllers.get(t.ID);
    if (c) {
      c.update(t);
      return;
    }
    if (this.leaving.has(t.ID)) {
      this.log.warn({ task: t.ID }, 'task assigned again while its container is being removed; ignored');
      return;
    }
    const ctl = new TaskController(
      t,
      {
        engine: this.opts.engine,
        node: this.opts.node,
        attach: this.opts.attach,
        files: this.opts.files,
        log: this.log,
        report: (task) => this.report(task),
      },
      { containerId: this.found.get(t.ID) },
    );
    this.found.delete(t.ID);
    this.controllers.set(t.ID, ctl);
    ctl.start();
  }

  private unassign(id: string): void {
    const c = this.controllers.get(id);
    if (!c) return;
    this.controllers.delete(id);
    this.statuses.drop(id);
    if (this.life.signal.aborted) return;
    this.leaving.set(id, c);
    c.unassign();
    void c.done.then(() => {
      if (this.leaving.get(id) === c) this.leaving.delete(id);
    });
  }

  private report(task: AgentTask): void {
    if (this.controllers.get(task.ID)?.current !== task) return; // unassigned meanwhile
    const r = { taskId: task.ID, status: task.Status };
    this.statuses.put(r.taskId, r.status);
    for (const fn of this.listeners) {
      try {
        fn(r);
      } catch (err) {
        this.log.warn({ err }, 'status listener failed');
      }
    }
  }

  /** Task ID -> container ID for every container carrying the task label. */
  private async taskContainers(): Promise<Map<string, string>> {
    const list = await this.opts.engine.containers.list({ all: true, filters: new Map([['label', [TASK_ID_LABEL]]]) });
    const out = new Map<string, string>();
    for (const c of list) {
      const taskId = (c.Labels as Record<string, string> | undefined)?.[TASK_ID_LABEL];
      if (taskId) out.set(taskId, c.Id as string);
    }
    return out;
  }

  private async removeStray(taskId: string, containerId: string): Promise<void> {
    this.log.info({ task: taskId, container: containerId }, 'removing the container of a task no longer assigned');
    try {
      // Its own StopTimeout (the task's grace period) first, as for any task shut down.
      await this.opts.engine.containers.stop(containerId);
      await this.opts.engine.containers.remove(containerId, { force: true, volumes: true });
      await this.opts.files?.release(taskId);
    } catch (err) {
      this.log.warn({ task: taskId, container: containerId, err: errorMessage(err) }, 'cannot remove a stray task container');
    }
  }

  /** Secret and config files of tasks this node neither drives nor has a container of (left by a crash). */
  private async sweepFiles(): Promise<void> {
    const files = this.opts.files;
    if (!files) return;
    const ids = await files.taskIds();
    if (!ids.length) return;
    const containers = await this.taskContainers();
    for (const id of ids) {
      if (this.controllers.has(id) || this.leaving.has(id) || containers.has(id) || this.life.signal.aborted) continue;
      this.log.info({ task: id }, 'removing the secret and config files of a task that is gone');
      await files.release(id);
    }
  }

  private async followEvents(): Promise<void> {
    try {
      for await (const ev of this.opts.engine.events.subscribe(this.life.signal)) {
        if (ev.Type !== 'container') continue;
        const id = ev.Actor.Attributes[TASK_ID_LABEL];
        if (id) (this.controllers.get(id) ?? this.leaving.get(id))?.wake();
      }
    } catch (err) {
      if (!this.life.signal.aborted) this.log.error({ err }, 'container events stopped; resync continues');
    }
  }
}
