// The Dispatcher gRPC service (proto/dispatcher.proto) and its lifecycle. A manager registers
// one Dispatcher on its RpcServer for good and starts it while it leads (DESIGN principle 2).
// While it is stopped, calls go on to the leader's dispatcher when `forward` is set (see
// forward.ts), so a worker keeps working through any manager; without it they fail
// UNAVAILABLE and agents move on to another manager.
import { unavailable } from '../../shared/errors';
import { logger, type Logger } from '../../shared/log';
import type {
  AssignmentsMessage,
  AssignmentsRequest,
  AttachNetworkRequest,
  AttachNetworkResponse,
  CallContext,
  DetachNetworkRequest,
  DetachNetworkResponse,
  DispatcherClient,
  DispatcherHandlers,
  HeartbeatRequest,
  HeartbeatResponse,
  SessionMessage,
  SessionRequest,
  StreamCallOptions,
  UnaryCallOptions,
  UpdateTaskStatusRequest,
  UpdateTaskStatusResponse,
  WeightedPeer,
} from '../../shared/rpc';
import type { ClusterStore } from '../store';
import { ActiveDispatcher } from './active';
import { DEFAULT_HEARTBEAT_PERIOD_MS } from './config';
import { callerOf, LeaderForwarder, NOT_DISPATCHING, type Caller, type ForwardOptions } from './forward';
import type { DataKey } from '../../shared/crypto/seal';

export interface DispatcherOptions {
  store: ClusterStore;
  /** Calls from nodes of another cluster (certificate O) are refused. */
  clusterId: string;
  /** Heartbeat period when the cluster spec sets none; default DEFAULT_HEARTBEAT_PERIOD_MS (500 ms). */
  defaultHeartbeatPeriodMs?: number;
  /** How long changes are collected before one assignments message is sent; default ASSIGNMENT_BATCH_MS. */
  batchMs?: number;
  /** The managers agents may connect to; default: nodes with ManagerStatus.Addr, the leader first. */
  managers?: () => WeightedPeer[];
  /** The bus agents ship logs and events on, handed to them with the session. */
  bus?: () => { urls: string[]; token?: string };
  /** The cluster data key, which opens secrets for the nodes that receive them. */
  dataKey?: () => DataKey | undefined;
  /** On a manager that is not dispatching: pass worker calls on to the leader's dispatcher. */
  forward?: ForwardOptions;
  log?: Logger;
}

export class Dispatcher implements DispatcherHandlers {
  private active: ActiveDispatcher | undefined;
  private readonly log: Logger;
  private readonly forwarder?: LeaderForwarder;

  constructor(private readonly opts: DispatcherOptions) {
    this.log = opts.log ?? logger('dispatcher');
    if (opts.forward) this.forwarder = new LeaderForwarder(opts.forward, opts.clusterId, this.log.child({ part: 'forward' }));
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /**
   * Start dispatching: follow the store and accept sessions. Resolves once the store's first
   * snapshot is loaded; aborting the signal stops the dispatcher. A no-op while running.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.active || signal?.aborted) return;
    const run = new ActiveDispatcher({
      store: this.opts.store,
      defaultHeartbeatPeriodMs: this.opts.defaultHeartbeatPeriodMs ?? DEFAULT_HEARTBEAT_PERIOD_MS,
      batchMs: this.opts.batchMs,
      managers: this.opts.managers,
      bus: this.opts.bus,
      dataKey: this.opts.dataKey,
      log: this.log,
    });
    this.active = run;
    // Agents whose calls went on to the previous leader reconnect, to be served here.
    this.forwarder?.close('this manager now leads: open a new session');
    signal?.addEventListener('abort', () => void this.stopRun(run), { once: true });
    this.log.info('dispatcher starting');
    await run.begin();
  }

  /** End every session and stream; agents reconnect elsewhere. Resolves when all is let go. */
  async stop(): Promise<void> {
    if (this.active) await this.stopRun(this.active);
  }

  /** Node IDs with a live session. */
  sessionNodes(): string[] {
    return this.active ? [...this.active.sessions.keys()] : [];
  }

  private async stopRun(run: ActiveDispatcher): Promise<void> {
    if (this.active === run) this.active = undefined;
    if (run.signal.aborted) return;
    this.log.info('dispatcher stopping');
    await run.end();
  }

  /** Whom the call is for: the calling node (its certificate), or the node a manager of this cluster forwarded it for. */
  private caller(ctx: CallContext): Caller {
    return callerOf(ctx.peer, ctx.metadata, ctx.remote, this.opts.clusterId);
  }

  /** The running dispatcher, once the node is known to still be in the cluster (a removed node's certificate opens nothing); else the leader's, through the forwarder. */
  private async route(ctx: CallContext, caller: Caller): Promise<ActiveDispatcher | LeaderForwarder> {
    const run = this.active;
    if (!run) {
      if (this.forwarder) return this.forwarder;
      throw unavailable(NOT_DISPATCHING);
    }
    await run.ready(ctx.signal);
    await run.requireMember(caller.nodeId);
    return run;
  }

  private async unary<T>(ctx: CallContext, here: (run: ActiveDispatcher, nodeId: string) => T | Promise<T>, there: (d: DispatcherClient, opts: UnaryCallOptions) => Promise<T>): Promise<T> {
    const caller = this.caller(ctx);
    const to = await this.route(ctx, caller);
    return to instanceof LeaderForwarder ? to.unary(caller, ctx, there) : here(to, caller.nodeId);
  }

  private async *stream<T>(ctx: CallContext, here: (run: ActiveDispatcher, nodeId: string, ctx: CallContext) => AsyncGenerator<T>, there: (d: DispatcherClient, opts: StreamCallOptions) => AsyncGenerator<T, void, undefined>): AsyncGenerator<T> {
    const caller = this.caller(ctx);
    const to = await this.route(ctx, caller);
    if (to instanceof LeaderForwarder) yield* to.stream(caller, ctx, there);
    else yield* here(to, caller.nodeId, { ...ctx, remote: caller.remote });
  }

  session(req: SessionRequest, ctx: CallContext): AsyncGenerator<SessionMessage> {
    return this.stream(ctx, (run, node, c) => run.session(node, req, c), (d, o) => d.session(req, o));
  }

  heartbeat(req: HeartbeatRequest, ctx: CallContext): Promise<HeartbeatResponse> {
    return this.unary(ctx, (run, node) => run.heartbeat(node, req), (d, o) => d.heartbeat(req, o));
  }

  assignments(req: AssignmentsRequest, ctx: CallContext): AsyncGenerator<AssignmentsMessage> {
    return this.stream(ctx, (run, node, c) => run.assignments(node, req, c), (d, o) => d.assignments(req, o));
  }

  updateTaskStatus(req: UpdateTaskStatusRequest, ctx: CallContext): Promise<UpdateTaskStatusResponse> {
    return this.unary(ctx, async (run, node) => (await run.updateTaskStatus(node, req), {}), (d, o) => d.updateTaskStatus(req, o));
  }

  attachNetwork(req: AttachNetworkRequest, ctx: CallContext): Promise<AttachNetworkResponse> {
    return this.unary(ctx, async (run, node) => ({ attachmentId: await run.attachNetwork(node, req) }), (d, o) => d.attachNetwork(req, o));
  }

  detachNetwork(req: DetachNetworkRequest, ctx: CallContext): Promise<DetachNetworkResponse> {
    return this.unary(ctx, async (run, node) => (await run.detachNetwork(node, req), {}), (d, o) => d.detachNetwork(req, o));
  }
}
