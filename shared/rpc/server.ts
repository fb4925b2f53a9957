// A gRPC server whose handlers are plain async functions (unary) and async iterables
// (server streams). Errors become gRPC statuses here, once; a client that cancels, a passed
// deadline or stop() abort the handler's signal.
import { once } from 'node:events';
import {
  Server,
  type Metadata,
  type MethodDefinition,
  type sendUnaryData,
  type ServerCredentials,
  type ServerOptions,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { internal, isShoalError, unavailable } from '../errors';
import { logger } from '../log';
import { peerIdentity, requirePeerIdentity } from './credentials';
import { toGrpcStatus } from './errors';
import type { NodeIdentity } from './pki';
import { serviceDefinition, type ProtoName } from './proto';

const log = logger('rpc');

export interface CallContext {
  /** The client's identity, verified by TLS against the cluster root; undefined without a client certificate. */
  peer: NodeIdentity | undefined;
  /** Aborted when the client cancels, the call's deadline passes, or the server stops. */
  signal: AbortSignal;
  deadline: Date | undefined;
  /** The client's address as grpc-js reports it (host:port). */
  remote: string;
  /** The method's proto name, e.g. "IssueNodeCertificate". */
  method: string;
  /** The request's metadata (keys lowercase; binary "-bin" entries left out). Only as trustworthy as the peer that sent it. */
  metadata: Readonly<Record<string, string>>;
}

export type UnaryHandler<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res>;
export type StreamHandler<Req, Res> = (req: Req, ctx: CallContext) => AsyncIterable<Res>;

/** Which methods (the proto name with a lowercase first letter, as in the handlers object) refuse a call without a verified peer. */
export interface ServiceAccess {
  peerRequired: 'all' | readonly string[];
}

type Call = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

export class RpcServer {
  readonly grpc: Server;
  private readonly live = new Set<AbortController>();

  constructor(options: ServerOptions = {}) {
    this.grpc = new Server(options);
  }

  /** Serve the service that proto/<name>.proto defines with `handlers` (keys: method names with a lowercase first letter). */
  addService(name: ProtoName, handlers: object, access: ServiceAccess): void {
    const def = serviceDefinition(name);
    const impl: Record<string, UntypedHandleCall> = {};
    for (const [method, md] of Object.entries(def)) {
      const key = method[0].toLowerCase() + method.slice(1); // GetRootCACertificate -> getRootCACertificate
      const fn = (handlers as Record<string, unknown>)[key];
      if (typeof fn !== 'function') throw internal(`rpc: no handler for ${name}.${method}`);
      const needsPeer = access.peerRequired === 'all' || access.peerRequired.includes(key);
      const bound = fn.bind(handlers) as (req: unknown, ctx: CallContext) => unknown;
      impl[method] = md.responseStream
        ? (call: ServerWritableStream<unknown, unknown>) => void this.serveStream(method, needsPeer, bound as StreamHandler<unknown, unknown>, call)
        : (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void this.serveUnary(method, needsPeer, bound as UnaryHandler<unknown, unknown>, call, cb);
    }
    this.grpc.addService(def, impl);
  }

  /** Listen on host:port (port 0 picks one) with these credentials; returns the port. Callable more than once. */
  async listen(address: string, credentials: ServerCredentials): Promise<number> {
    return new Promise((resolve, reject) => {
      this.grpc.bindAsync(address, credentials, (err, port) => (err ? reject(unavailable(`rpc: cannot listen on ${address}: ${err.message}`, err)) : resolve(port)));
    });
  }

  /** Abort running handlers, let calls finish for up to graceMs, then cut the rest. */
  async stop(graceMs = 2000): Promise<void> {
    for (const ac of this.live) ac.abort();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, graceMs);
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private context(method: string, call: Call): { ctx: CallContext; ac: AbortController; done: () => void } {
    const ac = new AbortController();
    this.live.add(ac);
    const onCancel = () => ac.abort();
    call.on('cancelled', onCancel);
    const deadline = call.getDeadline();
    const d = deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined;
    const ctx: CallContext = { peer: peerIdentity(call), signal: ac.signal, deadline: d, remote: call.getPeer(), method, metadata: textMetadata(call.metadata) };
    const done = () => {
      this.live.delete(ac);
      call.removeListener('cancelled', onCancel);
    };
    return { ctx, ac, done };
  }

  private failed(method: string, ctx: CallContext, err: unknown) {
    const level = isShoalError(err) && err.code !== 'INTERNAL' ? 'debug' : 'warn';
    log[level]({ method, remote: ctx.remote, node: ctx.peer?.nodeId, err }, 'rpc failed');
    return toGrpcStatus(err);
  }

  private async serveUnary(method: string, needsPeer: boolean, fn: UnaryHandler<unknown, unknown>, call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) {
    const { ctx, done } = this.context(method, call);
    try {
      if (needsPeer) requirePeerIdentity(ctx.peer);
      cb(null, await fn(call.request, ctx));
    } catch (err) {
      cb(this.failed(method, ctx, err));
    } finally {
      done();
    }
  }

  private async serveStream(method: string, needsPeer: boolean, fn: StreamHandler<unknown, unknown>, call: ServerWritableStream<unknown, unknown>) {
    const { ctx, done } = this.context(method, call);
    try {
      if (needsPeer) requirePeerIdentity(ctx.peer);
      for await (const msg of fn(call.request, ctx)) {
        if (ctx.signal.aborted) break;
        if (!call.write(msg)) await once(call, 'drain', { signal: ctx.signal });
      }
      if (!ctx.signal.aborted) call.end();
    } catch (err) {
      if (!ctx.signal.aborted) call.emit('error', this.failed(method, ctx, err));
    } finally {
      done();
      // stop() aborted a stream the client still holds: end it so tryShutdown can finish.
      if (!call.cancelled && !call.writableEnded) call.emit('error', toGrpcStatus(unavailable('the server is stopping')));
    }
  }
}

function textMetadata(md: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md?.getMap() ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function methodDefinition<Req, Res>(name: ProtoName, method: string): MethodDefinition<Req, Res> {
  const md = serviceDefinition(name)[method];
  if (!md) throw internal(`rpc: ${name} has no method ${method}`);
  return md as MethodDefinition<Req, Res>;
}
