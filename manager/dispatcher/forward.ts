// Worker sessions on a follower, as swarmkit's raft proxy does them: every manager serves the
// Dispatcher, only the leader's runs, and a follower passes each call on to the leader's over
// gRPC with its own manager certificate, naming the node it calls for in metadata. The leader
// believes that name only from a manager of its cluster, then checks it as a direct caller.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { invalid, ShoalError, unavailable } from '../../shared/errors';
import type { Logger } from '../../shared/log';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DispatcherClient,
  requirePeerIdentity,
  RpcClient,
  type CallContext,
  type NodeIdentity,
  type StreamCallOptions,
  type UnaryCallOptions,
} from '../../shared/rpc';

/** Metadata a forwarding manager adds: the node the call is for, its cluster, and its address as the manager saw it. */
export const FORWARDED_NODE = 'shoal-forwarded-node';
export const FORWARDED_CLUSTER = 'shoal-forwarded-cluster';
export const FORWARDED_REMOTE = 'shoal-forwarded-remote';

export const NOT_DISPATCHING = 'this manager is not dispatching (it is not the leader): try another manager';

/** How often a follower checks, while it forwards streams, that the leader is still the one they go to. */
export const LEADER_CHECK_MS = 250;

const NODE_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** Whom a dispatcher call is for. */
export interface Caller {
  /** The TLS peer, or the node a manager forwarded the call for. */
  nodeId: string;
  /** That node's address (host:port) as the first manager saw it. */
  remote: string;
  /** The manager that forwarded the call; undefined for a direct one. */
  forwardedBy?: string;
}

/** A manager's dispatcher endpoint. */
export interface LeaderEndpoint {
  nodeId: string;
  /** host:port of its gRPC listener. */
  addr: string;
}

/**
 * The caller of a dispatcher call: the verified peer, unless a manager of this cluster sent
 * it on for another node (metadata). A worker naming another node is refused: its certificate
 * speaks for itself only.
 */
export function callerOf(peer: NodeIdentity | undefined, metadata: Readonly<Record<string, string>>, remote: string, clusterId: string): Caller {
  const p = requirePeerIdentity(peer);
  if (p.clusterId !== clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${p.nodeId} belongs to cluster ${p.clusterId}, not to this one`);
  const node = metadata[FORWARDED_NODE];
  if (node === undefined) return { nodeId: p.nodeId, remote };
  if (p.role !== 'manager') throw new ShoalError('PERMISSION_DENIED', `node ${p.nodeId} is a ${p.role}: only a manager may pass on calls for another node (${FORWARDED_NODE})`);
  if (!NODE_ID_RE.test(node)) throw invalid(`${FORWARDED_NODE}: "${node}" is not a node ID`);
  const cluster = metadata[FORWARDED_CLUSTER];
  if (cluster !== undefined && cluster !== clusterId) throw new ShoalError('PERMISSION_DENIED', `node ${node} belongs to cluster ${cluster}, not to this one`);
  return { nodeId: node, remote: metadata[FORWARDED_REMOTE] || remote, forwardedBy: p.nodeId };
}

/** The metadata that carries `caller` to the leader. */
export function forwardedMetadata(caller: Caller, clusterId: string): Record<string, string> {
  return { [FORWARDED_NODE]: caller.nodeId, [FORWARDED_CLUSTER]: clusterId, [FORWARDED_REMOTE]: caller.remote };
}

/**
 * Where a manager that is not dispatching sends a call: the leader, unless that is itself (it
 * is about to start) or unknown, or the call was forwarded already (no loops: the manager that
 * sent it had a stale leader). UNAVAILABLE then, and the agent tries again.
 */
export function forwardTarget(caller: Caller, leader: LeaderEndpoint | undefined, self: string): LeaderEndpoint {
  if (caller.forwardedBy) throw unavailable(`${NOT_DISPATCHING} (manager ${caller.forwardedBy} forwarded this call here as if it were)`);
  if (!leader?.nodeId || !leader.addr) throw unavailable(`${NOT_DISPATCHING} (the leader is not known here yet)`);
  if (leader.nodeId === self) throw unavailable(NOT_DISPATCHING);
  return leader;
}

/** A leader that restarts at the same address is tried again within a second, not after grpc-js's default backoff (up to 2 min). */
const LEADER_CHANNEL = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 };

const endpointKey = (e: LeaderEndpoint | undefined) => (e ? `${e.nodeId}@${e.addr}` : '');

export interface ForwardOptions {
  /** The swarm leader's dispatcher endpoint; undefined while unknown. */
  leader: () => LeaderEndpoint | undefined;
  /** This manager's node ID: never forwarded to. */
  self: string;
  /** mTLS credentials with this manager's own certificate (clientCredentials with the cluster ID). */
  credentials: ChannelCredentials;
  /** Aborting it ends forwarded streams and closes the channel for good (the manager stops). */
  signal?: AbortSignal;
  /** Default LEADER_CHECK_MS. */
  checkMs?: number;
}

interface ForwardedStream {
  node: string;
  key: string;
  ac: AbortController;
  reason?: string;
}

/** A follower's channel to the leader's dispatcher: one per leader address, replaced when the leader moves. */
export class LeaderForwarder {
  private channel?: { addr: string; rpc: RpcClient; client: DispatcherClient };
  private readonly streams = new Set<ForwardedStream>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly opts: ForwardOptions,
    private readonly clusterId: string,
    private readonly log: Logger,
  ) {
    opts.signal?.addEventListener('abort', () => this.close('this manager is stopping', true), { once: true });
  }

  /** A unary call on the leader; its errors come back as the leader sent them. */
  async unary<T>(caller: Caller, ctx: CallContext, call: (d: DispatcherClient, opts: UnaryCallOptions) => Promise<T>): Promise<T> {
    const { client } = this.route(caller, ctx);
    const timeoutMs = ctx.deadline ? Math.max(1, ctx.deadline.getTime() - Date.now()) : DEFAULT_CALL_TIMEOUT_MS;
    return call(client, { signal: ctx.signal, timeoutMs, metadata: forwardedMetadata(caller, this.clusterId) });
  }

  /**
   * A stream from the leader, piped: the caller cancelling cancels it upstream, its end or
   * error ends ours the same way, and a leader change ends it UNAVAILABLE (the agent reconnects).
   */
  async *stream<T>(caller: Caller, ctx: CallContext, open: (d: DispatcherClient, opts: StreamCallOptions) => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    const { target, client } = this.route(caller, ctx);
    const s: ForwardedStream = { node: caller.nodeId, key: endpointKey(target), ac: new AbortController() };
    this.streams.add(s);
    this.timer ??= setInterval(() => this.check(), this.opts.checkMs ?? LEADER_CHECK_MS).unref();
    try {
      yield* open(client, { signal: AbortSignal.any([ctx.signal, s.ac.signal]), metadata: forwardedMetadata(caller, this.clusterId) });
      if (s.ac.signal.aborted && !ctx.signal.aborted) throw unavailable(s.reason ?? 'the forwarded stream ended');
    } finally {
      this.streams.delete(s);
      if (this.streams.size === 0) this.stopTimer();
    }
  }

  /** End forwarded streams and drop the channel (this manager now leads, or stops for good). */
  close(reason: string, forGood = false): void {
    if (forGood) this.closed = true;
    for (const s of this.streams) this.end(s, reason);
    this.stopTimer();
    this.channel?.rpc.close();
    this.channel = undefined;
  }

  private route(caller: Caller, ctx: CallContext): { target: LeaderEndpoint; client: DispatcherClient } {
    if (this.closed) throw unavailable('this manager is stopping: try another manager');
    const target = forwardTarget(caller, this.opts.leader(), this.opts.self);
    this.log.debug({ node: caller.nodeId, leader: target.nodeId, method: ctx.method }, 'forwarding to the leader');
    return { target, client: this.clientFor(target) };
  }

  private clientFor(target: LeaderEndpoint): DispatcherClient {
    if (this.channel?.addr !== target.addr) {
      // Streams to the previous leader end before its channel closes under them.
      this.check(target);
      this.channel?.rpc.close();
      const rpc = new RpcClient(target.addr, this.opts.credentials, LEADER_CHANNEL);
      this.channel = { addr: target.addr, rpc, client: new DispatcherClient(rpc) };
    }
    return this.channel.client;
  }

  /** End the streams that go to another endpoint than the leader's (now). */
  private check(leader = this.opts.leader()): void {
    const key = leader?.nodeId === this.opts.self ? '' : endpointKey(leader);
    for (const s of this.streams) {
      if (s.key === key) continue;
      this.end(s, leader ? `the leader changed (now ${leader.nodeId}): open a new session` : 'the leader is not known here any more: open a new session');
    }
  }

  private end(s: ForwardedStream, reason: string): void {
    if (s.ac.signal.aborted) return;
    s.reason = reason;
    s.ac.abort();
    this.log.info({ node: s.node, reason }, 'forwarded stream ended');
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
