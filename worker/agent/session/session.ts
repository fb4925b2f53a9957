// The agent's side of the dispatcher protocol. One session at a time with one manager: open
// Session (with this node's description), then heartbeat at the period the manager asks for,
// follow Assignments into the executor, and send the executor's status reports in batches.
// Any failure ends the session; the agent then opens a new one, with backoff, moving to the
// next manager. While disconnected, the executor keeps running what it has and status reports
// wait (latest per task) for the next session; that session's COMPLETE set reconciles.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isShoalError, unavailable, type ErrorCode } from '../../../shared/errors';
import { logger, type Logger } from '../../../shared/log';
import { clientCredentials, DispatcherClient, RpcClient, verifyNodeCertificate, type SessionMessage, type TlsIdentity } from '../../../shared/rpc';
import type { Node, NodeDescription } from '../../../shared/swarm';
import { decodeChanges, decodeComplete } from './decode';
import type { TaskExecutor } from './executor';
import { backoffMs, ManagerList } from './managers';
import { PendingStatuses } from './pending';

export interface AgentSessionOptions {
  /** The node's mTLS identity (node certificate, key and the cluster root). */
  identity: TlsIdentity;
  /** Managers (host:port) to start with; session messages replace the list. */
  managers: string[];
  executor: TaskExecutor;
  /** This node's description, gathered anew for every session (see gatherNodeDescription). */
  description: () => NodeDescription | Promise<NodeDescription>;
  /** Only managers of this cluster are trusted; default: the cluster of the node certificate. */
  clusterId?: string;
  /** How long opening a session may take before the next manager is tried; default 3 s. */
  connectTimeoutMs?: number;
  /** Deadline of a status update call; default 5 s. */
  callTimeoutMs?: number;
  /** Reconnection backoff; default 100 ms doubling up to 1 s (short: failover must stay within seconds). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long status reports are collected before one call sends them; default 20 ms. */
  statusBatchMs?: number;
  /** Most reports in one call; default 500. */
  maxStatusBatch?: number;
  log?: Logger;
}

export type SessionState =
  | { state: 'connecting'; manager: string; failures: number }
  | { state: 'connected'; manager: string; sessionId: string; heartbeatPeriodMs: number; node?: Node; bus?: { urls: string[]; token?: string } }
  | { state: 'disconnected'; manager: string; error: string; failures: number }
  | { state: 'stopped' };

/** Refusals that a retry would only repeat: the batch is dropped (and logged), not resent. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_ARGUMENT', 'PERMISSION_DENIED']);

export class AgentSession {
  /** This node (from its certificate). */
  readonly nodeId: string;
  readonly managers: ManagerList;
  private readonly pending = new PendingStatuses();
  private readonly life = new AbortController();
  private readonly log: Logger;
  private readonly listeners = new Set<(s: SessionState) => void>();
  private current: SessionState = { state: 'stopped' };
  private lastSessionId = '';
  private loops: Promise<unknown>[] = [];
  private started = false;
  /** The open session's client, for calls made on the node's behalf (network attachments). */
  private open?: { client: DispatcherClient; sessionId: string; signal: AbortSignal };

  constructor(private readonly opts: AgentSessionOptions) {
    this.managers = new ManagerList(opts.managers);
    const { certPem, caPem } = opts.identity.current;
    this.nodeId = verifyNodeCertificate(certPem, caPem).nodeId;
    this.log = opts.log ?? logger('agent-session', { node: this.nodeId });
  }

  /** Connect and keep connected until stop() or the signal aborts. Returns at once. */
  start(signal?: AbortSignal): void {
    if (this.started) return;
    this.started = true;
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal?.aborted) return;
    this.loops = [this.drainExecutor(), this.connectLoop()];
  }

  /** Close the session; the executor is left alone. Pending status reports are kept in memory only. */
  async stop(): Promise<void> {
    this.life.abort();
    await Promise.allSettled(this.loops);
    this.setState({ state: 'stopped' });
  }

  get state(): SessionState {
    return this.current;
  }

  /** Called on every state change; returns an unsubscribe function. */
  onState(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Status reports not yet accepted by a manager. */
  get pendingStatuses(): number {
    return this.pending.size;
  }

  private setState(s: SessionState): void {
    this.current = s;
    for (const fn of this.listeners) {
      try {
        fn(s);
      } catch (err) {
        this.log.warn({ err }, 'session state listener failed');
      }
    }
  }

  /** Executor reports go to the pending set whether or not a session is up. */
  private async drainExecutor(): Promise<void> {
    const it = this.opts.executor.statusUpdates()[Symbol.asyncIterator]();
    const stopped = new Promise<IteratorResult<never>>((resolve) => this.life.signal.addEventListener('abort', () => resolve({ done: true, value: undefined as never }), { once: true }));
    try {
      for (;;) {
        const r = await Promise.race([it.next(), stopped]);
        if (r.done) break;
        this.pending.put(r.value);
      }
    } catch (err) {
      if (!this.life.signal.aborted) this.log.error({ err }, 'the executor status stream failed: no more status reports');
    } finally {
      void it.return?.()?.catch(() => undefined);
    }
  }

  private async connectLoop(): Promise<void> {
    const initialMs = this.opts.backoff?.initialMs ?? 100;
    const maxMs = this.opts.backoff?.maxMs ?? 1000;
    let failures = 0;
    while (!this.life.signal.aborted) {
      const manager = this.managers.current();
      this.setState({ state: 'connecting', manager, failures });
      let established = false;
      try {
        established = await this.runSession(manager, () => (established = true));
      } catch (err) {
        if (this.life.signal.aborted) break;
        this.log.warn({ manager, err: errorMessage(err) }, established ? 'session with the manager ended' : 'could not open a session');
        this.setState({ state: 'disconnected', manager, error: errorMessage(err), failures: failures + 1 });
      }
      if (this.life.signal.aborted) break;
      this.managers.failed(manager);
      failures = established ? 1 : failures + 1;
      await sleep(backoffMs(failures, { initialMs, maxMs }), undefined, { signal: this.life.signal }).catch(() => undefined);
    }
  }

  /** One session; throws why it ended. */
  private async runSession(manager: string, onEstablished: () => void): Promise<boolean> {
    const ac = new AbortController();
    const stop = () => ac.abort();
    this.life.signal.addEventListener('abort', stop, { once: true });
    const rpc = new RpcClient(manager, clientCredentials(this.opts.identity, { clusterId: this.clusterId() }));
    const d = new DispatcherClient(rpc);
    try {
      const description = await this.opts.description();
      const stream = d.session({ description: JSON.stringify(description), sessionId: this.lastSessionId }, { signal: ac.signal });
      const first = await this.firstMessage(stream, ac);
      const sessionId = first.sessionId;
      this.lastSessionId = sessionId;
      let periodMs = first.heartbeatPeriodMs > 0 ? first.heartbeatPeriodMs : 500;
      this.managers.update(first.managers, manager);
      onEstablished();
      const connected = (msg: SessionMessage) => this.setState({ state: 'connected', manager, sessionId, heartbeatPeriodMs: periodMs, node: parseNode(msg.node), bus: msg.busUrls?.length ? { urls: msg.busUrls, token: msg.busToken || undefined } : undefined });
      this.open = { client: d, sessionId, signal: ac.signal };
      connected(first);
      this.log.info({ manager, session: sessionId, periodMs }, 'session open');

      let failure: unknown;
      const guard = (p: Promise<void>) =>
        p.catch((err) => {
          failure ??= err;
          ac.abort();
        });
      await Promise.all([
        guard(
          (async () => {
            for await (const msg of stream) {
              if (msg.heartbeatPeriodMs > 0) periodMs = msg.heartbeatPeriodMs;
              this.managers.update(msg.managers, manager);
              connected(msg);
            }
            if (!ac.signal.aborted) throw unavailable('the manager ended the session');
          })(),
        ),
        guard(this.heartbeats(d, sessionId, () => periodMs, (p) => (periodMs = p), ac.signal)),
        guard(this.assignments(d, sessionId, ac.signal)),
        guard(this.sendStatuses(d, sessionId, ac.signal)),
      ]);
      if (this.life.signal.aborted) return true;
      throw failure ?? unavailable('the session ended');
    } finally {
      if (this.open?.client === d) this.open = undefined;
      ac.abort();
      this.life.signal.removeEventListener('abort', stop);
      rpc.close();
    }
  }

  /**
   * A call on the open session (waiting up to `timeoutMs` for one to open): `fn` gets the
   * dispatcher client and the session ID. UNAVAILABLE when no session opens in time.
   */
  async call<T>(fn: (d: DispatcherClient, sessionId: string, opts: { signal: AbortSignal; timeoutMs: number }) => Promise<T>, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.opts.callTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    while (!this.open) {
      if (this.life.signal.aborted) throw unavailable('the agent is stopping');
      opts.signal?.throwIfAborted();
      if (Date.now() >= deadline) throw unavailable(`no session with a manager within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const off = this.onState((s) => {
          if (s.state !== 'connected' && s.state !== 'stopped') return;
          off();
          clearTimeout(timer);
          resolve();
        });
        const timer = setTimeout(() => (off(), resolve()), Math.max(1, deadline - Date.now()));
      });
    }
    const { client, sessionId, signal } = this.open;
    return fn(client, sessionId, { signal: opts.signal ? AbortSignal.any([signal, opts.signal]) : signal, timeoutMs: Math.max(1, deadline - Date.now()) });
  }

  private async firstMessage(stream: AsyncGenerator<SessionMessage, void, undefined>, ac: AbortController): Promise<SessionMessage> {
    const ms = this.opts.connectTimeoutMs ?? 3000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, ms);
    try {
      const r = await stream.next();
      if (r.done) throw unavailable(timedOut ? `no session within ${ms} ms` : 'the manager closed the session before it began');
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  private async heartbeats(d: DispatcherClient, sessionId: string, period: () => number, setPeriod: (ms: number) => void, signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await sleep(period(), undefined, { signal });
      } catch {
        return; // the session ended
      }
      // A heartbeat slower than two periods is as good as lost: the session is redone.
      const res = await d.heartbeat({ sessionId }, { signal, timeoutMs: Math.max(1000, 2 * period()) });
      if (res.periodMs > 0) setPeriod(res.periodMs);
    }
  }

  private async assignments(d: DispatcherClient, sessionId: string, signal: AbortSignal): Promise<void> {
    let version: string | undefined;
    for await (const msg of d.assignments({ sessionId }, { signal })) {
      if (msg.type === 'COMPLETE') {
        const { tasks, dependencies } = decodeComplete(msg);
        this.log.debug({ tasks: tasks.length, version: msg.resultsIn }, 'complete assignment set');
        this.opts.executor.setAssignments(tasks, dependencies);
      } else {
        // A gap would leave the executor with a wrong set: a new session starts with a COMPLETE one.
        if (version === undefined || msg.appliesTo !== version) throw unavailable(`assignments out of sequence (have ${version ?? 'nothing'}, got changes to ${msg.appliesTo})`);
        const changes = decodeChanges(msg);
        this.log.debug({ updated: changes.updated.length, removed: changes.removed.length, version: msg.resultsIn }, 'assignment changes');
        for (const id of changes.removed) this.pending.drop(id);
        this.opts.executor.applyChanges(changes);
      }
      version = msg.resultsIn;
    }
    if (!signal.aborted) throw unavailable('the manager ended the assignments stream');
  }

  private async sendStatuses(d: DispatcherClient, sessionId: string, signal: AbortSignal): Promise<void> {
    const batchMs = this.opts.statusBatchMs ?? 5;
    while (await this.pending.whenAny(signal)) {
      try {
        await sleep(batchMs, undefined, { signal }); // let a burst of reports join one call
      } catch {
        return;
      }
      const batch = this.pending.take(this.opts.maxStatusBatch ?? 500);
      if (batch.length === 0) continue;
      try {
        await d.updateTaskStatus({ sessionId, updates: batch.map((r) => ({ taskId: r.taskId, status: JSON.stringify(r.status) })) }, { signal, timeoutMs: this.opts.callTimeoutMs ?? 5000 });
      } catch (err) {
        if (isShoalError(err) && PERMANENT.has(err.code)) {
          this.log.error({ err: err.message, tasks: batch.map((r) => r.taskId) }, 'the manager refused these status reports: dropped');
          continue;
        }
        this.pending.restore(batch);
        throw err;
      }
    }
  }

  private clusterId(): string | undefined {
    if (this.opts.clusterId) return this.opts.clusterId;
    const { certPem, caPem } = this.opts.identity.current;
    return verifyNodeCertificate(certPem, caPem).clusterId;
  }
}

function parseNode(json: string): Node | undefined {
  try {
    return json ? (JSON.parse(json) as Node) : undefined;
  } catch {
    return undefined;
  }
}
