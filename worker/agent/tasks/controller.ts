// One task's executor: it looks at the container, asks nextStep what to do, does that one
// step and reports the status it leads to, then looks again. Status moves go through the
// shared state machine (transitionTask), so a task never moves backwards. The loop sleeps
// until something can have changed: a container event, a new DesiredState, a resync.
import { errorMessage, isShoalError, notFound, ShoalError } from '../../../shared/errors';
import type { Logger } from '../../../shared/log';
import { isTerminal, stateRank, transitionTask, type TaskStatusUpdate } from '../../../shared/swarm';
import type { ContainerRecord } from '../../engine/containers';
import type { MountRequest } from '../../engine/contracts';
import { containerConfigFor, DEFAULT_NETWORKING, hostModePorts, stopGraceSeconds, taskContainerName } from './config';
import { exitError, nextStep, observe, portStatusOf, wantsGone, type Observed, type Step } from './plan';
import type { AgentTask, NetworkAttacher, NodeRef, TaskEngine } from './types';

/** A task's secret and config files (worker/agent/secrets): binds for its container, gone with it. */
export interface TaskFiles {
  /** Write the task's files; the binds its container needs (none without secrets or configs). */
  prepare(task: AgentTask): Promise<MountRequest[]>;
  /** Remove the task's files (after its container is removed); a no-op when there are none. */
  release(taskId: string): Promise<void>;
  /** Tasks that have files on this node. */
  taskIds(): Promise<string[]>;
}

export interface ControllerDeps {
  engine: TaskEngine;
  node: NodeRef;
  /** Called with the task after each change of its status. */
  report: (task: AgentTask) => void;
  /** Networking for the container at prepare time; the default bridge when absent. */
  attach?: NetworkAttacher;
  /** Secret and config files; a task that has some is rejected without this. */
  files?: TaskFiles;
  log: Logger;
}

const MAX_BACKOFF_MS = 30_000;

/** One line for Status.Err. */
function oneLine(err: unknown): string {
  return errorMessage(err).split('\n')[0].trim() || 'unknown error';
}

function cancelled(err: unknown): boolean {
  return isShoalError(err, 'CANCELLED') || (err instanceof Error && err.name === 'AbortError');
}

export class TaskController {
  private task: AgentTask;
  private containerId?: string;
  private assigned = true;
  /** The container was stopped for failing its health check: its exit is reported as such. */
  private unhealthy = false;
  private dirty = true;
  private wakeup?: () => void;
  /** Aborts a step that may take long (pull) when the task is no longer wanted. */
  private stepAbort?: AbortController;
  private readonly life = new AbortController();
  private readonly log: Logger;
  private loop?: Promise<void>;

  constructor(
    task: AgentTask,
    private readonly deps: ControllerDeps,
    opts: { containerId?: string } = {},
  ) {
    this.task = { ...task, Status: task.Status ?? { State: 'new' }, DesiredState: task.DesiredState ?? 'running' };
    this.containerId = opts.containerId;
    this.log = deps.log.child({ task: task.ID });
  }

  get id(): string {
    return this.task.ID;
  }

  /** The task with the status this node observed. */
  get current(): AgentTask {
    return this.task;
  }

  /** Resolves when the loop has ended (closed, or the container removed after unassign). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  start(): void {
    this.loop ??= this.run().catch((err) => this.log.error({ err }, 'task controller stopped on an unexpected error'));
  }

  /** A newer copy of the task from the dispatcher: DesiredState moves on, our Status stays. */
  update(task: AgentTask): void {
    if (task.ID !== this.task.ID) throw new ShoalError('INVALID_ARGUMENT', `task ${task.ID} given to the controller of ${this.task.ID}`);
    const desired = stateRank(task.DesiredState) > stateRank(this.task.DesiredState) ? task.DesiredState : this.task.DesiredState;
    this.task = { ...task, Status: this.task.Status, DesiredState: desired };
    if (wantsGone(desired)) this.stepAbort?.abort();
    this.wake();
  }

  /** The task left this node's assignment: shut its container down, remove it, end. */
  unassign(): void {
    this.assigned = false;
    this.stepAbort?.abort();
    this.wake();
  }

  /** Look again (a container event, a resync). */
  wake(): void {
    this.dirty = true;
    const w = this.wakeup;
    this.wakeup = undefined;
    w?.();
  }

  /** Stop driving the task; its container stays as it is (the next agent adopts it). */
  async close(): Promise<void> {
    this.life.abort();
    this.stepAbort?.abort();
    this.wake();
    await this.done;
  }

  // ------------------------------------------------------------------ loop

  private async run(): Promise<void> {
    let backoff = 0;
    let first = true;
    while (!this.life.signal.aborted) {
      this.dirty = false;
      let observed: Observed | undefined;
      try {
        observed = this.observe();
      } catch (err) {
        this.log.warn({ err }, 'cannot look at the task container; retrying');
        await this.pause(MAX_BACKOFF_MS / 10);
        continue;
      }
      if (first && observed) this.adopted(observed);
      first = false;
      const step = nextStep(this.task.Status.State, this.task.DesiredState, observed, this.assigned);
      if (step.kind === 'done') {
        await this.releaseFiles();
        return;
      }
      if (step.kind === 'wait') {
        await this.sleep();
        continue;
      }
      this.log.debug({ step: step.kind, state: this.task.Status.State, desired: this.task.DesiredState }, 'step');
      try {
        await this.perform(step, observed);
        backoff = 0;
      } catch (err) {
        if (this.life.signal.aborted) return;
        if (cancelled(err)) continue; // the task is no longer wanted: look again
        if (step.kind === 'prepare' || step.kind === 'start') {
          this.fatal(err);
          continue;
        }
        // Stop and remove errors are the engine's, not the task's: retry.
        backoff = Math.min(MAX_BACKOFF_MS, backoff ? backoff * 2 : 500);
        this.log.warn({ err, step: step.kind, retryInMs: backoff }, 'task step failed; retrying');
        await this.pause(backoff);
      }
    }
  }

  private sleep(): Promise<void> {
    if (this.dirty || this.life.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => (this.wakeup = resolve));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.life.signal;
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The task's container: by the ID we know, else by its deterministic name. */
  private observe(): Observed | undefined {
    const c = this.deps.engine.containers;
    for (const ref of [this.containerId, taskContainerName(this.task, this.deps.node)]) {
      if (!ref) continue;
      try {
        const o = observe(c.get(ref));
        this.containerId = o.id;
        return o;
      } catch (err) {
        if (!isShoalError(err, 'NOT_FOUND')) throw err;
      }
    }
    this.containerId = undefined;
    return undefined;
  }

  private record(): ContainerRecord | undefined {
    if (!this.containerId) return undefined;
    try {
      return this.deps.engine.containers.get(this.containerId);
    } catch (err) {
      if (isShoalError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  // ------------------------------------------------------------------ steps

  private async perform(step: Exclude<Step, { kind: 'wait' | 'done' }>, observed: Observed | undefined): Promise<void> {
    switch (step.kind) {
      case 'advance':
        this.transition({ State: step.to, Message: step.message });
        return;
      case 'prepare':
        await this.prepare(observed);
        return;
      case 'start':
        await this.startContainer(observed);
        return;
      case 'running':
        this.transition({ State: 'running', Message: 'started', ...this.liveDetails() });
        return;
      case 'exited': {
        const code = observed!.exitCode;
        const details = { ContainerStatus: { ContainerID: observed!.id, PID: 0, ExitCode: code } };
        if (code === 0 && !this.unhealthy) this.transition({ State: 'complete', Message: 'finished', ...details });
        else this.transition({ State: 'failed', Err: exitError(code, this.unhealthy), ...details });
        return;
      }
      case 'unhealthy':
        // As swarm does: stop it, and report its exit as the health check's failure.
        this.unhealthy = true;
        this.log.info({ container: observed!.id }, 'container unhealthy; stopping it');
        await this.deps.engine.containers.stop(observed!.id, { timeout: stopGraceSeconds(this.task) });
        return;
      case 'lost':
        this.transition({ State: 'failed', Err: observed?.status === 'created' ? 'task: container was never started' : 'task: container removed' });
        return;
      case 'shutdown':
        await this.shutdown(observed);
        return;
      case 'remove':
        try {
          await this.deps.engine.containers.remove(observed!.id, { force: true, volumes: true });
        } catch (err) {
          if (!isShoalError(err, 'NOT_FOUND')) throw err;
        }
        this.containerId = undefined;
        await this.deps.files?.release(this.task.ID);
        return;
    }
  }

  private async prepare(observed: Observed | undefined): Promise<void> {
    if (!observed) {
      const ctl = new AbortController();
      this.stepAbort = ctl;
      const signal = AbortSignal.any([ctl.signal, this.life.signal]);
      try {
        const networking = this.deps.attach ? await this.deps.attach(this.task, signal) : DEFAULT_NETWORKING;
        const { name, body } = containerConfigFor(this.task, this.deps.node, networking);
        await this.ensureImage(body.Image!, signal);
        if (signal.aborted) throw new ShoalError('CANCELLED', 'prepare cancelled');
        const files = await this.taskFiles();
        if (files.length) body.HostConfig = { ...body.HostConfig, Mounts: [...(body.HostConfig?.Mounts ?? []), ...files] };
        try {
          const { Id } = await this.deps.engine.containers.create(body, { name });
          this.containerId = Id;
        } catch (err) {
          await this.releaseFiles();
          throw err;
        }
        this.log.info({ container: this.containerId, name }, 'container created');
      } finally {
        this.stepAbort = undefined;
      }
    }
    this.transition({ State: 'ready', Message: 'prepared', ContainerStatus: { ContainerID: this.containerId } });
  }

  /** The binds of the task's secrets and configs, written to its tmpfs. */
  private async taskFiles(): Promise<MountRequest[]> {
    const c = this.task.Spec.ContainerSpec;
    if (!c?.Secrets?.length && !c?.Configs?.length) return [];
    if (!this.deps.files) throw new ShoalError('FAILED_PRECONDITION', 'this node cannot give tasks secrets or configs');
    return this.deps.files.prepare(this.task);
  }

  /** Remove the task's files once its container is gone; a failure is logged (the next resync tries again). */
  private async releaseFiles(): Promise<void> {
    await this.deps.files?.release(this.task.ID).catch((err) => this.log.warn({ err }, 'cannot remove the task\'s secret and config files'));
  }

  /** Pull the image when this node lacks it; a failed pull rejects the task, as swarm does. */
  private async ensureImage(image: string, signal: AbortSignal): Promise<void> {
    const { images, distribution } = this.deps.engine;
    try {
      images.resolve(image);
      return;
    } catch (err) {
      if (!isShoalError(err, 'NOT_FOUND')) throw err;
    }
    this.log.info({ image }, 'pulling image');
    try {
      for await (const m of distribution.pull(image, { signal })) {
        if (m.errorDetail || m.error) throw new ShoalError('UNAVAILABLE', m.errorDetail?.message ?? m.error ?? 'pull failed');
      }
    } catch (err) {
      if (signal.aborted) throw new ShoalError('CANCELLED', 'pull cancelled', { cause: err });
      this.log.warn({ err, image }, 'image pull failed');
      throw new ShoalError('NOT_FOUND', `No such image: ${image}`, { cause: err });
    }
  }

  private async startContainer(observed: Observed | undefined): Promise<void> {
    if (!observed) throw notFound(`No such container: ${taskContainerName(this.task, this.deps.node)}`);
    await this.deps.engine.containers.start(observed.id);
    const now = this.observe();
    // Started without a health check: running, as far as swarm is concerned (a fast exit is
    // reported next). With one, RUNNING waits for the first healthy probe.
    if (now && now.health === 'none') this.transition({ State: 'running', Message: 'started', ...this.liveDetails() });
    else this.transition({ State: 'starting', ...this.liveDetails() });
  }

  private async shutdown(observed: Observed | undefined): Promise<void> {
    if (observed && (observed.status === 'running' || observed.status === 'paused' || observed.status === 'restarting')) {
      await this.deps.engine.containers.stop(observed.id, { timeout: stopGraceSeconds(this.task) });
    }
    if (isTerminal(this.task.Status.State)) return;
    const r = this.record();
    this.transition({ State: 'shutdown', Message: 'shutdown', ...(r ? { ContainerStatus: { ContainerID: r.Id, PID: 0, ExitCode: r.State.ExitCode } } : {}) });
  }

  /** ContainerStatus and PortStatus of a running container. */
  private liveDetails(): Pick<TaskStatusUpdate, 'ContainerStatus' | 'PortStatus'> {
    const r = this.record();
    if (!r) return {};
    const out: Pick<TaskStatusUpdate, 'ContainerStatus' | 'PortStatus'> = { ContainerStatus: { ContainerID: r.Id, PID: r.State.Pid, ExitCode: r.State.ExitCode } };
    if (hostModePorts(this.task).length) out.PortStatus = { Ports: portStatusOf(this.task, r) };
    return out;
  }

  /** A container found at start (a previous agent made it): report what it really is now. */
  private adopted(o: Observed): void {
    const state = this.task.Status.State;
    if (isTerminal(state) || stateRank(state) < stateRank('ready')) return; // earlier steps find it themselves
    this.transition({ State: state, ...(o.status === 'running' ? this.liveDetails() : { ContainerStatus: { ContainerID: o.id } }) });
  }

  private fatal(err: unknown): void {
    const to = stateRank(this.task.Status.State) < stateRank('starting') ? 'rejected' : 'failed';
    this.log.warn({ err, to }, 'task failed');
    this.transition({ State: to, Err: oneLine(err) });
  }

  private transition(update: TaskStatusUpdate): void {
    if (this.life.signal.aborted) return; // closed: the next agent re-derives the status
    const next = transitionTask(this.task, update);
    if (next === this.task) return;
    const from = this.task.Status.State;
    this.task = next;
    if (from !== next.Status.State) this.log.info({ from, to: next.Status.State, message: next.Status.Message, err: next.Status.Err }, 'task state');
    this.deps.report(next);
  }
}
