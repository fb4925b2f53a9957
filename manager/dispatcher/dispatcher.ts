// The Dispatcher gRPC service (proto/dispatcher.proto) and its lifecycle. A manager registers
// one Dispatcher on its RpcServer for good and starts it while it leads (DESIGN principle 2);
// while it is stopped every call fails UNAVAILABLE, so agents move on to another manager.
import { ShoalError, unavailable } from '../../shared/errors';
import { logger, type Logger } from '../../shared/log';
import {
  requirePeerIdentity,
  type AssignmentsMessage,
  type AssignmentsRequest,
  type AttachNetworkRequest,
  type AttachNetworkResponse,
  type CallContext,
  type DetachNetworkRequest,
  type DetachNetworkResponse,
  type DispatcherHandlers,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type NodeIdentity,
  type SessionMessage,
  type SessionRequest,
  type UpdateTaskStatusRequest,
  type UpdateTaskStatusResponse,
  type WeightedPeer,
} from '../../shared/rpc';
import type { ClusterStore } from '../store';
import { ActiveDispatcher } from './active';
import { DEFAULT_HEARTBEAT_PERIOD_MS } from './config';
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
  log?: Logger;
}

export class Dispatcher implements DispatcherHandlers {
  private active: ActiveDispatcher | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: DispatcherOptions) {
    this.log = opts.log ?? logger('dispatcher');
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

  /** The calling node (from its certificate), refused unless it belongs to this cluster. */
  private peer(ctx: CallContext): NodeIdentity {
    const p = requirePeerIdentity(ctx.peer);
    if (p.clusterId !== this.opts.clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${p.nodeId} belongs to cluster ${p.clusterId}, not to this one`);
    return p;
  }

  /** The running dispatcher, once the calling node is known to still be in the cluster (a removed node's certificate opens nothing). */
  private async run(ctx: CallContext, peer: NodeIdentity): Promise<ActiveDispatcher> {
    const run = this.active;
    if (!run) throw unavailable('this manager is not dispatching (it is not the leader): try another manager');
    await run.ready(ctx.signal);
    await run.requireMember(peer.nodeId);
    return run;
  }

  async *session(req: SessionRequest, ctx: CallContext): AsyncGenerator<SessionMessage> {
    const peer = this.peer(ctx);
    yield* (await this.run(ctx, peer)).session(peer.nodeId, req, ctx);
  }

  async heartbeat(req: HeartbeatRequest, ctx: CallContext): Promise<HeartbeatResponse> {
    const peer = this.peer(ctx);
    return (await this.run(ctx, peer)).heartbeat(peer.nodeId, req);
  }

  async *assignments(req: AssignmentsRequest, ctx: CallContext): AsyncGenerator<AssignmentsMessage> {
    const peer = this.peer(ctx);
    yield* (await this.run(ctx, peer)).assignments(peer.nodeId, req, ctx);
  }

  async updateTaskStatus(req: UpdateTaskStatusRequest, ctx: CallContext): Promise<UpdateTaskStatusResponse> {
    const peer = this.peer(ctx);
    await (await this.run(ctx, peer)).updateTaskStatus(peer.nodeId, req);
    return {};
  }

  async attachNetwork(req: AttachNetworkRequest, ctx: CallContext): Promise<AttachNetworkResponse> {
    const peer = this.peer(ctx);
    return { attachmentId: await (await this.run(ctx, peer)).attachNetwork(peer.nodeId, req) };
  }

  async detachNetwork(req: DetachNetworkRequest, ctx: CallContext): Promise<DetachNetworkResponse> {
    const peer = this.peer(ctx);
    await (await this.run(ctx, peer)).detachNetwork(peer.nodeId, req);
    return {};
  }
}
