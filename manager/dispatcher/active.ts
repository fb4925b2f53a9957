// The dispatcher while it runs (one per leadership term): the watch that keeps the in-memory
// index, the node sessions, the heartbeat deadlines and the streams. Dispatcher (dispatcher.ts)
// creates one on start and throws it away on stop, so nothing leaks from one term to the next.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, errorMessage, isShoalError, notFound, unavailable } from '../../shared/errors';
import type { Logger } from '../../shared/log';
import type { AssignmentsMessage, AssignmentsRequest, AttachNetworkRequest, CallContext, DetachNetworkRequest, HeartbeatRequest, HeartbeatResponse, SessionMessage, SessionRequest, UpdateTaskStatusRequest, WeightedPeer } from '../../shared/rpc';
import type { Node, Task } from '../../shared/swarm';
import type { BatchOp, ClusterStore, StoreEvent } from '../store';
import { assignmentSet, canonicalJson, completeChanges, diffAssignments, type AssignmentSet } from './assignments';
import { ASSIGNMENT_BATCH_MS, HEARTBEAT_FAILURE, heartbeatGraceMs, heartbeatPeriodMs, RECONNECT_GRACE_FACTOR, startupGraceFactor, WRITE_ATTEMPTS } from './config';
import { HeartbeatTracker } from './heartbeats';
import { changeNode, downNode, notRegistered, parseDescription, peerHost, readyNode } from './nodes';
import { ClusterIndex, nodeFingerprint, WATCHED_KINDS } from './state';
import { decideStatus, groupByTask, parseStatusUpdates, type StatusReport } from './status';
import { Wakeup } from './wakeup';
import { attachNetwork, detachNetwork } from './attach';
import { secretForNode } from '../secrets/dispatch';
import type { DataKey } from '../../shared/crypto/seal';

export interface ActiveOptions {
  store: ClusterStore;
  defaultHeartbeatPeriodMs: number;
  batchMs?: number;
  managers?: () => WeightedPeer[];
  bus?: () => { urls: string[]; token?: string };
  /** The cluster data key, which opens secrets for the nodes that receive them. */
  dataKey?: () => DataKey | undefined;
  log: Logger;
}

interface NodeSession {
  id: string;
  nodeId: string;
  remote: string;
  /** Aborted when the session ends (replaced, expired, closed by the agent, dispatcher stopped). */
  ac: AbortController;
  endReason?: string;
  /** Something the session message shows changed (managers, the node's spec, the period). */
  wake: Wakeup;
  assignments?: { ac: AbortController; wake: Wakeup };
}

const newSessionId = () => randomBytes(12).toString('hex');

export class ActiveDispatcher {
  readonly index: ClusterIndex;
  readonly sessions = new Map<string, NodeSession>();
  private readonly ac = new AbortController();
  private readonly tracker = new HeartbeatTracker();
  private readonly log: Logger;
  private loadedOnce = false;
  private readonly loaded: Promise<void>;
  private resolveLoaded!: () => void;
  private following?: Promise<void>;
  private expiryTimer?: NodeJS.Timeout;
  private expiryAt = Infinity;
  private flushTimer?: NodeJS.Timeout;
  private readonly dirtyAssignments = new Set<string>();
  private readonly dirtySessions = new Set<string>();
  /** Node writes run one at a time per node, so a DOWN and a READY cannot overtake each other. */
  private readonly nodeWrites = new Map<string, Promise<unknown>>();
  private managersFp = '';

  constructor(private readonly opts: ActiveOptions) {
    this.log = opts.log;
    this.index = new ClusterIndex((o) => secretForNode(o, opts.dataKey?.()));
    this.loaded = new Promise((r) => (this.resolveLoaded = r));
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** Start following the store; resolves once the first snapshot is loaded (or the run ends). */
  async begin(): Promise<void> {
    this.following = this.follow();
    await Promise.race([this.loaded, new Promise((r) => this.ac.signal.addEventListener('abort', r, { once: true }))]);
  }

  async end(): Promise<void> {
    if (this.ac.signal.aborted) return;
    this.ac.abort();
    for (const s of [...this.sessions.values()]) this.endSession(s, 'the dispatcher is stopping on this manager');
    clearTimeout(this.expiryTimer);
    clearTimeout(this.flushTimer);
    this.resolveLoaded();
    await this.following;
    await Promise.allSettled([...this.nodeWrites.values()]);
  }

  /** Waits for the first snapshot; UNAVAILABLE when the run ends first. */
  async ready(signal: AbortSignal): Promise<void> {
    if (!this.loadedOnce) {
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        void this.loaded.then(done);
        signal.addEventListener('abort', done, { once: true });
        this.ac.signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.ac.signal.aborted) throw unavailable('the dispatcher is stopping on this manager');
    signal.throwIfAborted();
  }

  /** NOT_FOUND unless the node is in the cluster (the store is asked when the index has not seen it yet: a node that just joined). */
  async requireMember(nodeId: string): Promise<void> {
    if (this.index.nodes.has(nodeId) || (await this.opts.store.get('nodes', nodeId))) return;
    throw notRegistered(nodeId);
  }

  periodMs(): number {
    return heartbeatPeriodMs(this.index.cluster, this.opts.defaultHeartbeatPeriodMs);
  }

  // ------------------------------------------------------------------ Session

  async *session(nodeId: string, req: SessionRequest, ctx: CallContext): AsyncGenerator<SessionMessage> {
    const description = parseDescription(req.description);
    const s = this.openSession(nodeId, ctx.remote);
    this.log.info({ node: nodeId, session: s.id, previous: req.sessionId || undefined, remote: ctx.remote }, 'node session opened');
    try {
      const node = await this.writeNode(nodeId, (n) => (s.ac.signal.aborted ? undefined : readyNode(n, description, peerHost(ctx.remote))));
      if (!node) {
        if (!this.index.nodes.has(nodeId)) this.tracker.remove(nodeId);
        throw notRegistered(nodeId);
      }
      if (s.ac.signal.aborted) throw unavailable(`session ended: ${s.endReason}`);
      let last = this.sessionMessage(s, node);
      yield last.msg;
      const signal = AbortSignal.any([ctx.signal, s.ac.signal]);
      while (await s.wake.wait(signal)) {
        const next = this.sessionMessage(s, this.index.nodes.get(nodeId) ?? node);
        if (next.fp === last.fp) continue;
        last = next;
        yield next.msg;
      }
      if (s.ac.signal.aborted && !ctx.signal.aborted) throw unavailable(`session ended: ${s.endReason}`);
    } finally {
      // The heartbeat deadline stays: an agent that does not come back goes DOWN after the grace,
      // a shorter one when its end of the call went away (a live agent reconnects at once).
      if (this.sessions.get(nodeId) === s) {
        this.endSession(s, ctx.signal.aborted ? 'the agent closed the session' : 'the session stream ended');
        if (ctx.signal.aborted) {
          const at = this.tracker.shorten(nodeId, this.periodMs() * RECONNECT_GRACE_FACTOR);
          if (at !== undefined && at < this.expiryAt) this.scheduleExpiry(at);
        }
      }
    }
  }

  private openSession(nodeId: string, remote: string): NodeSession {
    const old = this.sessions.get(nodeId);
    if (old) this.endSession(old, 'replaced by a newer session of the same node');
    const s: NodeSession = { id: newSessionId(), nodeId, remote, ac: new AbortController(), wake: new Wakeup() };
    this.sessions.set(nodeId, s);
    this.arm(nodeId);
    return s;
  }

  private endSession(s: NodeSession, reason: string): void {
    if (this.sessions.get(s.nodeId) === s) this.sessions.delete(s.nodeId);
    if (s.ac.signal.aborted) return;
    s.endReason = reason;
    s.ac.abort();
    this.log.info({ node: s.nodeId, session: s.id, reason }, 'node session ended');
  }

  private sessionMessage(s: NodeSession, node: Node): { msg: SessionMessage; fp: string } {
    const managers = this.managers();
    const heartbeatPeriodMs = this.periodMs();
    return {
      msg: { sessionId: s.id, managers, node: JSON.stringify(node), heartbeatPeriodMs, busUrls: this.opts.bus?.().urls ?? [], busToken: this.opts.bus?.().token ?? '' },
      fp: `${canonicalJson(managers)}|${nodeFingerprint(node)}|${heartbeatPeriodMs}`,
    };
  }

  private managers(): WeightedPeer[] {
    return this.opts.managers ? this.opts.managers() : this.index.managerPeers();
  }

  /** The node's session when sessionId is its current one; NOT_FOUND otherwise (the agent then opens a new session). */
  currentSession(nodeId: string, sessionId: string): NodeSession {
    const s = this.sessions.get(nodeId);
    if (!s || s.id !== sessionId) throw notFound(`session ${sessionId || '(none)'} is not the current session of node ${nodeId}: open a new session`);
    return s;
  }

  // ------------------------------------------------------------------ Heartbeat

  heartbeat(nodeId: string, req: HeartbeatRequest): HeartbeatResponse {
    this.currentSession(nodeId, req.sessionId);
    this.arm(nodeId);
    return { periodMs: this.periodMs() };
  }

  /** (Re)start the node's grace period (`factor` times the usual one). */
  private arm(nodeId: string, factor = 1): void {
    const at = this.tracker.beat(nodeId, heartbeatGraceMs(this.periodMs()) * factor);
    if (at < this.expiryAt) this.scheduleExpiry(at);
  }

  private scheduleExpiry(at: number | undefined): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = at ?? Infinity;
    if (at === undefined || this.ac.signal.aborted) return;
    this.expiryTimer = setTimeout(() => this.expireNodes(), Math.max(0, at - Date.now()));
  }

  private expireNodes(): void {
    for (const nodeId of this.tracker.expire()) {
      const s = this.sessions.get(nodeId);
      if (s) this.endSession(s, HEARTBEAT_FAILURE);
      this.log.warn({ node: nodeId }, 'node missed its heartbeats: marking it down');
      this.writeNode(nodeId, (n) => (this.sessions.has(nodeId) ? undefined : downNode(n, HEARTBEAT_FAILURE))).catch((err) => {
        if (this.ac.signal.aborted) return;
        // Try again after another grace period (the store may be failing over).
        this.log.warn({ node: nodeId, err: errorMessage(err) }, 'could not mark the node down; will retry');
        if (!this.tracker.has(nodeId)) this.arm(nodeId);
      });
    }
    this.scheduleExpiry(this.tracker.nextDeadline());
  }

  private writeNode(nodeId: string, change: (n: Node) => Node | undefined): Promise<Node | undefined> {
    const prev = this.nodeWrites.get(nodeId) ?? Promise.resolve();
    const next = prev.then(
      () => changeNode(this.opts.store, nodeId, change),
      () => changeNode(this.opts.store, nodeId, change),
    );
    this.nodeWrites.set(nodeId, next);
    void next.finally(() => {
      if (this.nodeWrites.get(nodeId) === next) this.nodeWrites.delete(nodeId);
    }).catch(() => undefined);
    return next;
  }

  // ------------------------------------------------------------------ Assignments

  async *assignments(nodeId: string, req: AssignmentsRequest, ctx: CallContext): AsyncGenerator<AssignmentsMessage> {
    const s = this.currentSession(nodeId, req.sessionId);
    s.assignments?.ac.abort(); // one assignments stream per session: the newest wins
    const stream = { ac: new AbortController(), wake: new Wakeup() };
    s.assignments = stream;
    const signal = AbortSignal.any([ctx.signal, s.ac.signal, stream.ac.signal]);
    const tag = `${s.id}.${randomBytes(3).toString('hex')}`;
    let seq = 1;
    let set: AssignmentSet = this.nodeSet(nodeId);
    yield { type: 'COMPLETE', appliesTo: '', resultsIn: `${tag}.${seq}`, changes: completeChanges(set) };
    try {
      while (await stream.wake.wait(signal)) {
        const next = this.nodeSet(nodeId);
        const changes = diffAssignments(set, next);
        set = next;
        if (changes.length === 0) continue;
        yield { type: 'INCREMENTAL', appliesTo: `${tag}.${seq}`, resultsIn: `${tag}.${++seq}`, changes };
      }
      if (s.ac.signal.aborted && !ctx.signal.aborted) throw unavailable(`session ended: ${s.endReason}`);
      if (stream.ac.signal.aborted && !ctx.signal.aborted) throw unavailable('replaced by a newer assignments stream');
    } finally {
      if (s.assignments === stream) s.assignments = undefined;
    }
  }

  private nodeSet(nodeId: string): AssignmentSet {
    return assignmentSet(nodeId, this.index.tasksOf(nodeId), this.index);
  }

  // ------------------------------------------------------------------ UpdateTaskStatus

  async updateTaskStatus(nodeId: string, req: UpdateTaskStatusRequest): Promise<void> {
    this.currentSession(nodeId, req.sessionId);
    const reports = parseStatusUpdates(req.updates);
    if (reports.length) await this.applyStatuses(nodeId, groupByTask(reports));
  }

  /** A plain container on the node joins an attachable network: returns its attachment task's ID. */
  async attachNetwork(nodeId: string, req: AttachNetworkRequest): Promise<string> {
    this.currentSession(nodeId, req.sessionId);
    return attachNetwork(this.opts.store, nodeId, req, () => this.index.tasksOf(nodeId));
  }

  async detachNetwork(nodeId: string, req: DetachNetworkRequest): Promise<void> {
    this.currentSession(nodeId, req.sessionId);
    await detachNetwork(this.opts.store, nodeId, req);
  }

  /**
   * One batch write per round. The first round reads tasks from the index (it can only be
   * behind the store, never ahead, so the version check catches a stale read); tasks that lost
   * a version race are read from the store and decided again.
   */
  private async applyStatuses(nodeId: string, byTask: Map<string, StatusReport[]>): Promise<void> {
    let pending = [...byTask.keys()];
    for (let round = 1; pending.length > 0; round++) {
      const ops: BatchOp[] = [];
      for (const taskId of pending) {
        const task = (round === 1 ? this.index.tasks.get(taskId) : undefined) ?? (await this.opts.store.get<Task & { ID: string }>('tasks', taskId));
        const d = decideStatus(nodeId, taskId, task, byTask.get(taskId) as StatusReport[]);
        if (d.kind === 'skip' || d.skipped.length) this.log.debug({ node: nodeId, task: taskId, reasons: d.kind === 'skip' ? d.reasons : d.skipped }, 'status report skipped');
        if (d.kind === 'write') ops.push({ op: 'update', kind: 'tasks', object: d.task });
      }
      if (ops.length === 0) return;
      const results = await this.opts.store.batch(ops, { atomic: false });
      pending = [];
      results.forEach((r, i) => {
        if (r.ok) return;
        const taskId = (ops[i] as { object: { ID: string } }).object.ID;
        if (isShoalError(r.error, 'CONFLICT') || isShoalError(r.error, 'NOT_FOUND')) pending.push(taskId);
        else throw r.error;
      });
      if (pending.length && round >= WRITE_ATTEMPTS) throw conflict(`task status: ${pending.join(', ')} kept changing; try again`);
    }
  }

  // ------------------------------------------------------------------ the watch

  private async follow(): Promise<void> {
    let failures = 0;
    while (!this.ac.signal.aborted) {
      const wac = new AbortController();
      const stop = () => wac.abort();
      this.ac.signal.addEventListener('abort', stop, { once: true });
      try {
        const w = await this.opts.store.watch(WATCHED_KINDS, wac.signal);
        this.load(w.snapshot);
        failures = 0;
        for await (const ev of w.events) this.onEvent(ev);
        if (!this.ac.signal.aborted) this.log.info('store watch ended: listing again');
      } catch (err) {
        if (this.ac.signal.aborted) break;
        failures++;
        this.log.warn({ err: errorMessage(err), failures }, 'store watch failed: listing again soon');
        await sleep(Math.min(2000, 100 * 2 ** Math.min(failures, 5)), undefined, { signal: this.ac.signal }).catch(() => undefined);
      } finally {
        this.ac.signal.removeEventListener('abort', stop);
        wac.abort();
      }
    }
  }

  private load(snapshot: Parameters<ClusterIndex['load']>[0]): void {
    this.index.load(snapshot);
    // Every node that is not DOWN gets a fresh grace period: a new leader does not know when
    // nodes last beat, and must not mark them down before they could reconnect.
    const factor = this.loadedOnce ? 1 : startupGraceFactor(this.periodMs());
    for (const n of this.index.nodes.values()) if (n.Status?.State !== 'down' && !this.tracker.has(n.ID)) this.arm(n.ID, factor);
    for (const s of this.sessions.values()) {
      if (!this.index.nodes.has(s.nodeId)) this.endSession(s, 'the node was removed from the cluster');
      else this.markDirty(s.nodeId, true, true);
    }
    this.managersFp = canonicalJson(this.managers());
    if (!this.loadedOnce) {
      this.loadedOnce = true;
      this.resolveLoaded();
    }
  }

  private onEvent(ev: StoreEvent): void {
    const change = this.index.apply(ev);
    if (!change) return;
    switch (change.kind) {
      case 'cluster':
        for (const id of this.sessions.keys()) this.markDirty(id, false, true);
        break;
      case 'node': {
        const s = this.sessions.get(change.nodeId);
        if (change.removed) {
          this.tracker.remove(change.nodeId);
          if (s) this.endSession(s, 'the node was removed from the cluster');
        } else {
          const n = this.index.nodes.get(change.nodeId);
          if (n && n.Status?.State !== 'down' && !this.tracker.has(n.ID)) this.arm(n.ID);
          if (s) this.markDirty(change.nodeId, false, true);
        }
        const fp = canonicalJson(this.managers());
        if (fp !== this.managersFp) {
          this.managersFp = fp;
          for (const id of this.sessions.keys()) this.markDirty(id, false, true);
        }
        break;
      }
      case 'task':
        for (const id of change.nodeIds) this.markDirty(id, true, false);
        break;
      case 'dependency':
        for (const [id, s] of this.sessions) if (s.assignments) this.markDirty(id, true, false);
        break;
    }
  }

  /** Collect for a few ms, then wake each touched stream once. */
  private markDirty(nodeId: string, assignments: boolean, session: boolean): void {
    if (!this.sessions.has(nodeId)) return;
    if (assignments) this.dirtyAssignments.add(nodeId);
    if (session) this.dirtySessions.add(nodeId);
    this.flushTimer ??= setTimeout(() => this.flush(), this.opts.batchMs ?? ASSIGNMENT_BATCH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    for (const id of this.dirtyAssignments) this.sessions.get(id)?.assignments?.wake.wake();
    for (const id of this.dirtySessions) this.sessions.get(id)?.wake.wake();
    this.dirtyAssignments.clear();
    this.dirtySessions.clear();
  }
}
