// A channel to one node. Every unary call has a deadline; server streams are async iterators
// that an AbortSignal ends. Failures arrive as ShoalErrors (see errors.ts).
import { Client, Metadata, status as Status, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type MethodDefinition } from '@grpc/grpc-js';
import { fromGrpcError } from './errors';

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

const CHANNEL_DEFAULTS: ChannelOptions = {
  // Keepalive pings find a dead peer under a long-lived stream that would otherwise wait forever.
  'grpc.keepalive_time_ms': 15_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // Servers are reached by IP, which TLS may not carry as SNI; every manager certificate has
  // this name, and checkServerRole (not the hostname) decides whom we trust.
  'grpc.ssl_target_name_override': 'swarm-manager',
};

export interface UnaryCallOptions {
  /** Default DEFAULT_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Request metadata (ASCII values; keys are lowercased by gRPC). */
  metadata?: Record<string, string>;
}

export interface StreamCallOptions {
  /** Ends the stream: the iterator then returns without an error. */
  signal?: AbortSignal;
  /** A deadline for the whole stream; none by default (sessions live long). */
  timeoutMs?: number;
  /** Request metadata (ASCII values; keys are lowercased by gRPC). */
  metadata?: Record<string, string>;
}

function requestMetadata(entries: Record<string, string> | undefined): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(entries ?? {})) md.set(k, v);
  return md;
}

export class RpcClient {
  private readonly client: Client;

  /** `target` is host:port (IPv6 as [addr]:port). */
  constructor(readonly target: string, credentials: ChannelCredentials, options: ChannelOptions = {}) {
    this.client = new Client(target, credentials, { ...CHANNEL_DEFAULTS, ...options });
  }

  unary<Req, Res>(md: MethodDefinition<Req, Res>, req: Req, opts: UnaryCallOptions = {}): Promise<Res> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(fromGrpcError({ code: Status.CANCELLED, details: 'cancelled before the call' }));
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    return new Promise<Res>((resolve, reject) => {
      const call = this.client.makeUnaryRequest(md.path, md.requestSerialize, md.responseDeserialize, req, requestMetadata(opts.metadata), { deadline }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromGrpcError(err));
        else resolve(res as Res);
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async *stream<Req, Res>(md: MethodDefinition<Req, Res>, req: Req, opts: StreamCallOptions = {}): AsyncGenerator<Res, void, undefined> {
    const { signal } = opts;
    if (signal?.aborted) return;
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    const call: ClientReadableStream<Res> = this.client.makeServerStreamRequest(md.path, md.requestSerialize, md.responseDeserialize, req, requestMetadata(opts.metadata), { deadline });
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const msg of call) yield msg as Res;
    } catch (err) {
      if (signal?.aborted && (err as { code?: number }).code === Status.CANCELLED) return;
      throw fromGrpcError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel(); // a consumer that stops iterating early ends the call too
    }
  }

  close(): void {
    this.client.close();
  }
}
