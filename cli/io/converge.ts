// Waiting for a service to converge, with docker's progress display: an overall line, one
// line per slot (per node for global services) with the task's state and a bar, then a
// verification period (the update monitor, 5 s by default) before "Service X converged".
// Jobs wait for completion instead. The logic is pure (ConvergeTracker.step over what was
// observed); waitOnService polls GET /services/{id}, GET /tasks and GET /nodes as docker does.
import { setTimeout as delay } from 'node:timers/promises';
import type { Cli } from '../context';
import { truncateId } from '../format/human';
import type { Node, Service, Task } from '../format/swarm-types';

/** One progress update (docker's progress.Progress): a line keyed by id, or a plain message. */
export interface ProgressEvent {
  id: string;
  /** The text after "id: " on a progress line. */
  action?: string;
  /** A message line: ends the block of progress lines above it. */
  message?: string;
  current?: number;
  total?: number;
}

const ORDER: Record<string, number> = { new: 1, allocated: 2, pending: 3, assigned: 4, accepted: 5, preparing: 6, ready: 7, starting: 8, running: 9, complete: 10, shutdown: 11, failed: 12, rejected: 13 };
const RUNNING = ORDER.running;
const COMPLETE = ORDER.complete;
/** Width of the state column: the longest non-terminal state, or "complete". */
const STATE_WIDTH = Math.max(...Object.keys(ORDER).filter((s) => ORDER[s] <= COMPLETE).map((s) => s.length));
const MAX_BARS = 20;

const rank = (s: string | undefined) => ORDER[s ?? ''] ?? 0;
const terminal = (s: string | undefined) => rank(s) > RUNNING;
const known = (t: Task) => rank(t.DesiredState) !== 0 && rank(t.Status?.State) !== 0;

/** An error on one line, at most 75 characters. */
export function truncError(err: string): string {
  const s = err.replace(/\n/g, ' ');
  return s.length > 75 ? `${s.slice(0, 74)}…` : s;
}

function stateEvent(id: string, t: Task, total: number): ProgressEvent {
  if (t.Status.Err) return { id, action: truncError(t.Status.Err) };
  return { id, action: t.Status.State.padEnd(STATE_WIDTH), current: rank(t.Status.State), total };
}

/** Of several tasks for one slot or node, the one with the lowest desired state, then the lowest observed state. */
function preferred(existing: Task | undefined, t: Task): boolean {
  if (!existing) return true;
  if (rank(existing.DesiredState) !== rank(t.DesiredState)) return rank(t.DesiredState) < rank(existing.DesiredState);
  return rank(t.Status.State) < rank(existing.Status.State);
}

interface Updater {
  update(service: Service, tasks: Task[], activeNodes: Set<string>, rollback: boolean): { converged: boolean; events: ProgressEvent[] };
}

const overall = (running: number, total: number, rollback: boolean): ProgressEvent => ({ id: 'overall progress', action: rollback ? `rolling back update: ${running} out of ${total} tasks` : `${running} out of ${total} tasks` });

class ReplicatedUpdater implements Updater {
  private slotMap = new Map<number, number>();
  private initialized = false;
  private done = false;

  update(service: Service, tasks: Task[], activeNodes: Set<string>, rollback: boolean) {
    const replicas = service.Spec.Mode!.Replicated?.Replicas ?? 1;
    const events: ProgressEvent[] = [];
    if (!this.initialized) {
      events.push(overall(0, replicas, rollback));
      if (replicas <= MAX_BARS) for (let i = 1; i <= replicas; i++) events.push({ id: `${i}/${replicas}`, action: ' ' });
      this.initialized = true;
    }
    const bySlot = new Map<number, Task>();
    for (const t of tasks) {
      if (!known(t) || !preferred(bySlot.get(t.Slot ?? 0), t)) continue;
      if (t.NodeID && !activeNodes.has(t.NodeID)) continue;
      bySlot.set(t.Slot ?? 0, t);
    }
    const slots = [...bySlot.keys()].sort((a, b) => a - b);
    if (this.done && slots.some((s) => bySlot.get(s)!.Status.State !== 'running')) this.done = false;
    let running = 0;
    for (const slot of slots) {
      const t = bySlot.get(slot)!;
      let mapped = this.slotMap.get(slot);
      if (mapped === undefined) {
        mapped = this.slotMap.size + 1;
        this.slotMap.set(slot, mapped);
      }
      if (!terminal(t.DesiredState) && t.Status.State === 'running') running++;
      if (this.done || replicas > MAX_BARS || mapped > replicas) continue;
      if (t.Status.Err || (!terminal(t.DesiredState) && !terminal(t.Status.State))) events.push(stateEvent(`${mapped}/${replicas}`, t, RUNNING));
    }
    if (!this.done) {
      events.push(overall(running, replicas, rollback));
      if (running === replicas) this.done = true;
    }
    return { converged: running === replicas, events };
  }
}

class GlobalUpdater implements Updater {
  private initialized = false;
  private done = false;

  update(_service: Service, tasks: Task[], activeNodes: Set<string>, rollback: boolean) {
    const byNode = new Map<string, Task>();
    for (const t of tasks) if (known(t) && preferred(byNode.get(t.NodeID ?? ''), t)) byNode.set(t.NodeID ?? '', t);
    const count = byNode.size;
    const events: ProgressEvent[] = [];
    if (!this.initialized) {
      // No task yet: the orchestrator has not created them, or no node fits. Either way, wait.
      if (count === 0) return { converged: false, events: [{ id: 'overall progress', action: 'waiting for new tasks' }] };
      events.push(overall(0, count, rollback));
      this.initialized = true;
    }
    const nodes = [...byNode.keys()].sort();
    if (this.done && nodes.some((n) => byNode.get(n)!.Status.State !== 'running')) this.done = false;
    let running = 0;
    for (const node of nodes) {
      const t = byNode.get(node)!;
      if (!activeNodes.has(node)) continue;
      if (!terminal(t.DesiredState) && t.Status.State === 'running') running++;
      if (this.done || count > MAX_BARS) continue;
      if (t.Status.Err || (!terminal(t.DesiredState) && !terminal(t.Status.State))) events.push(stateEvent(truncateId(node), t, RUNNING));
    }
    if (!this.done) {
      events.push(overall(running, count, rollback));
      if (running === count) this.done = true;
    }
    return { converged: running === count, events };
  }
}

const padNum = (n: number, width: number) => String(n).padStart(width);

class ReplicatedJobUpdater implements Updater {
  private initialized = false;
  private readonly concurrent: number;
  private readonly total: number;
  private readonly iteration: number;

  constructor(service: Service) {
    const job = service.Spec.Mode!.ReplicatedJob!;
    this.concurrent = job.MaxConcurrent ?? 1;
    this.total = job.TotalCompletions ?? this.concurrent;
    this.iteration = service.JobStatus?.JobIteration?.Index ?? 0;
  }

  private overall(active: number, completed: number): ProgressEvent[] {
    const digits = String(this.total).length;
    const activeDigits = String(this.concurrent).length;
    const desired = Math.min(this.total - completed, this.concurrent);
    return [
      { id: 'job progress', action: `${padNum(completed, digits)} out of ${this.total} complete`, current: completed, total: this.total },
      { id: 'active tasks', action: `${padNum(active, activeDigits)} out of ${padNum(desired, activeDigits)} tasks` },
    ];
  }

  update(_service: Service, tasks: Task[]) {
    const events: ProgressEvent[] = [];
    if (!this.initialized) {
      events.push(...this.overall(0, 0));
      if (this.total <= MAX_BARS) for (let i = 1; i <= this.total; i++) events.push({ id: `${i}/${this.total}`, action: ' ' });
      this.initialized = true;
    }
    const bySlot = new Map<number, Task>();
    for (const t of tasks) {
      if (t.JobIteration?.Index !== this.iteration || !known(t)) continue;
      const cur = bySlot.get(t.Slot ?? 0);
      if (!cur || rank(t.Status.State) < rank(cur.Status.State)) bySlot.set(t.Slot ?? 0, t);
    }
    let active = 0;
    let completed = 0;
    for (const slot of [...bySlot.keys()].sort((a, b) => a - b)) {
      const t = bySlot.get(slot)!;
      // swarmkit numbers job slots from 0
      if (this.total <= MAX_BARS) events.push(stateEvent(`${slot + 1}/${this.total}`, t, COMPLETE));
      if (rank(t.Status.State) < COMPLETE) active++;
      if (t.Status.State === 'complete') completed++;
    }
    events.push(...this.overall(active, completed));
    return { converged: completed === this.total, events };
  }
}

class GlobalJobUpdater implements Updater {
  private initialized = false;
  private total = 0;
  private nodes = new Set<string>();

  private overall(complete: number): ProgressEvent {
    return { id: 'job progress', action: `${padNum(complete, String(this.total).length)} out of ${this.total} complete`, current: complete, total: this.total };
  }

  update(service: Service, tasks: Task[], activeNodes: Set<string>) {
    const iteration = service.JobStatus?.JobIteration?.Index ?? 0;
    const events: ProgressEvent[] = [];
    if (!this.initialized) {
      if (tasks.length === 0 && activeNodes.size !== 0) return { converged: false, events: [{ id: 'job progress', action: 'waiting for tasks' }] };
      // A global job creates all its tasks at once: those nodes are the ones to wait for.
      for (const t of tasks) if (t.JobIteration?.Index === iteration) this.nodes.add(t.NodeID ?? '');
      this.total = this.nodes.size;
      events.push(this.overall(0));
      this.initialized = true;
    }
    const byNode = new Map<string, Task>();
    for (const t of tasks) {
      if (t.JobIteration?.Index !== iteration || !this.nodes.has(t.NodeID ?? '')) continue;
      const cur = byNode.get(t.NodeID ?? '');
      if (!cur || rank(t.Status.State) < rank(cur.Status.State)) byNode.set(t.NodeID ?? '', t);
    }
    let complete = 0;
    for (const node of [...byNode.keys()].sort()) {
      const t = byNode.get(node)!;
      if (this.total <= MAX_BARS) events.push(stateEvent(node, t, COMPLETE));
      if (t.Status.State === 'complete') complete++;
    }
    events.push(this.overall(complete));
    return { converged: complete === this.total, events };
  }
}

function newUpdater(service: Service): Updater {
  const m = service.Spec.Mode ?? {};
  if (m.Replicated) return new ReplicatedUpdater();
  if (m.Global) return new GlobalUpdater();
  if (m.ReplicatedJob) return new ReplicatedJobUpdater(service);
  if (m.GlobalJob) return new GlobalJobUpdater();
  throw new Error('unrecognized service mode');
}

/** What one poll observed. */
export interface Observation {
  service: Service;
  /** The service's up-to-date tasks (GET /tasks with filters service and _up-to-date). */
  tasks: Task[];
  nodes: Node[];
}

export interface StepResult {
  events: ProgressEvent[];
  /** Finished: converged, job complete, or the update completed. */
  done?: boolean;
  /** Finished with an error (update or rollback paused). */
  error?: string;
}

/** The state of one wait, advanced by one observation at a time; `now` in milliseconds. */
export class ConvergeTracker {
  private updater?: Updater;
  private converged = false;
  private convergedAt?: number;
  private rollback = false;
  private finalMessage?: ProgressEvent;

  /** `name` is how the user named the service ("Service web converged"). */
  constructor(private readonly name: string) {}

  get isConverged(): boolean {
    return this.converged;
  }

  step(o: Observation, now: number): StepResult {
    const s = o.service;
    const monitorMs = (s.Spec.UpdateConfig?.Monitor || 5e9) / 1e6;
    this.updater ??= newUpdater(s);
    const events: ProgressEvent[] = [];
    const us = s.UpdateStatus;
    switch (us?.State) {
      case 'updating':
        this.rollback = false;
        break;
      case 'completed':
        if (!this.converged) return { events, done: true };
        break;
      case 'paused':
        return { events, error: `service update paused: ${us.Message ?? ''}` };
      case 'rollback_started':
        if (!this.rollback && us.Message) events.push({ id: 'rollback', action: us.Message });
        this.rollback = true;
        break;
      case 'rollback_paused':
        return { events, error: `service rollback paused: ${us.Message ?? ''}` };
      case 'rollback_completed':
        if (!this.converged) this.finalMessage = { id: 'rollback', message: us.Message ?? '' };
        this.rollback = true;
        break;
    }
    if (this.converged && this.convergedAt !== undefined && now - this.convergedAt >= monitorMs) {
      events.push({ id: 'verify', action: `Service ${this.name} converged` });
      if (this.finalMessage) events.push(this.finalMessage);
      return { events, done: true };
    }
    const active = new Set(o.nodes.filter((n) => n.Status?.State !== 'down').map((n) => n.ID));
    const r = this.updater.update(s, o.tasks, active, this.rollback);
    events.push(...r.events);
    this.converged = r.converged;
    if (r.converged) {
      // A job stays done once done: no verification period.
      if (s.JobStatus) {
        events.push({ id: '', message: 'job complete' });
        return { events, done: true };
      }
      this.convergedAt ??= now;
      const wait = monitorMs - (now - this.convergedAt);
      if (wait >= 0) events.push({ id: 'verify', action: `Waiting ${wait > 0 ? Math.ceil(wait / 1000) : 1} seconds to verify that tasks are stable...` });
    } else {
      if (this.convergedAt !== undefined) events.push({ id: 'verify', action: 'Detected task failure' });
      this.convergedAt = undefined;
    }
    return { events };
  }
}

export interface Sink {
  write(s: string): unknown;
}

/** docker's progress bar: 50 characters at full width, shown only on terminals wider than 110 columns. */
export function progressBar(current: number, total: number, width: number): string {
  if (current <= 0 && total <= 0) return '';
  const pct = Math.min(Math.floor(Math.floor((current / total) * 100) / 2), 50);
  return width > 110 ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(50 - pct, 0))}] ` : '';
}

/** One line per id on a terminal, each redrawn in place with ANSI cursor movement, as docker does. */
export class LineRedraw {
  private lines = new Map<string, number>();

  constructor(private readonly out: Sink) {}

  /** Forget the lines drawn so far (a plain message was printed below them). */
  clear(): void {
    this.lines.clear();
  }

  draw(id: string, text: string): void {
    let line = this.lines.get(id);
    if (line === undefined) {
      line = this.lines.size;
      this.lines.set(id, line);
      this.out.write('\n');
    }
    const up = this.lines.size - line;
    this.out.write(`\x1b[${up}A\x1b[2K\r${id}: ${text}\r\x1b[${up}B`);
  }
}

/** Redraws each id's line in place with ANSI cursor movement, as docker does on a terminal. */
export class TtyRenderer {
  private readonly lines: LineRedraw;

  constructor(
    private readonly out: Sink,
    private readonly width = 200,
  ) {
    this.lines = new LineRedraw(out);
  }

  write(e: ProgressEvent): void {
    if (e.message !== undefined) {
      this.lines.clear();
      this.out.write(`${e.id ? `${e.id}: ` : ''}${e.message}\n`);
      return;
    }
    this.lines.draw(e.id, `${e.action ?? ''} ${progressBar(e.current ?? 0, e.total ?? 0, this.width)}`);
  }
}

/** Plain lines for pipes and files: a line each time an id's text changes. */
export class PlainRenderer {
  private last = new Map<string, string>();

  constructor(private readonly out: Sink) {}

  write(e: ProgressEvent): void {
    if (e.message !== undefined) {
      this.last.clear();
      this.out.write(`${e.id ? `${e.id}: ` : ''}${e.message}\n`);
      return;
    }
    const text = (e.action ?? '').trim();
    if (text === '' || this.last.get(e.id) === text) return;
    this.last.set(e.id, text);
    this.out.write(`${e.id}: ${text}\n`);
  }
}

export interface WaitOptions {
  quiet?: boolean;
  /** Ends the wait early (Ctrl-C): the operation goes on in the background. */
  interrupt?: AbortSignal;
  /** Poll period in milliseconds (docker: 200). */
  interval?: number;
}

/** Wait for `serviceId` to converge, showing progress on stdout unless quiet. */
export async function waitOnService(cli: Cli, serviceId: string, opts: WaitOptions = {}): Promise<void> {
  const out = cli.io.stdout;
  const renderer = opts.quiet ? undefined : out.isTTY ? new TtyRenderer(out, out.columns ?? 200) : new PlainRenderer(out);
  const tracker = new ConvergeTracker(serviceId);
  const path = `/services/${encodeURIComponent(serviceId)}`;
  for (;;) {
    const service = await cli.client.get<Service>(path);
    const tasks = await cli.client.get<Task[]>('/tasks', { query: { filters: JSON.stringify({ service: { [service.ID]: true }, '_up-to-date': { true: true } }) } });
    const nodes = await cli.client.get<Node[]>('/nodes');
    const r = tracker.step({ service, tasks, nodes }, Date.now());
    for (const e of r.events) renderer?.write(e);
    if (r.error) throw new Error(r.error);
    if (r.done) return;
    await delay(opts.interval ?? 200, undefined, { signal: opts.interrupt }).catch(() => undefined);
    if (opts.interrupt?.aborted) {
      if (!tracker.isConverged) {
        renderer?.write({ id: '', message: 'Operation continuing in background.' });
        renderer?.write({ id: '', message: `Use \`shoal service ps ${serviceId}\` to check progress.` });
      }
      return;
    }
  }
}

/** An AbortSignal that fires on Ctrl-C while `fn` runs (the handler is removed afterwards). */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.on('SIGINT', onInt);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onInt);
  }
}
