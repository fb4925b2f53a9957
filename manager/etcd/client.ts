// The one way shoal makes an etcd3 client: every unary call gets a deadline (a write can hang
// ~7 s across a leader change otherwise), no blind retries (a timed-out txn may have been
// applied; retrying it would report a false conflict), and reconnects on a short leash.
// cockatiel is etcd3's own policy library (a dependency of etcd3): its policy objects are the
// only way to configure etcd3's fault handling.
import { Etcd3, type IOptions } from 'etcd3';
import { type IBackoff, ConsecutiveBreaker, ConstantBackoff, ExponentialBackoff, circuitBreaker, handleWhen, noop, retry } from 'cockatiel';
import { neverSent } from './errors';

export interface EtcdClientOptions {
  /** Deadline for each unary call (default 2000 ms). Streams (watch, keepalive) have none. */
  callTimeoutMs?: number;
  /** Cap on the delay before a broken watch stream reconnects (default 1000 ms). */
  maxWatchBackoffMs?: number;
  /** Client certificate and trusted root for https endpoints (PEM). */
  tls?: EtcdClientTls;
}

export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
  /** The name the server's certificate is checked for (members are reached by IP, often loopback). */
  serverName?: string;
}

export const DEFAULT_CALL_TIMEOUT_MS = 2000;

export function createEtcdClient(endpoints: string[], opts: EtcdClientOptions = {}): Etcd3 {
  const timeout = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const tls = opts.tls;
  const options: IOptions = {
    hosts: endpoints,
    ...(tls ? { credentials: { rootCertificate: Buffer.from(tls.ca), privateKey: Buffer.from(tls.key), certChain: Buffer.from(tls.cert) } } : {}),
    dialTimeout: timeout,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    grpcOptions: {
      // a txn of 1000 objects comes back from a watch (with previous values) as one message
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // notice a dead connection in seconds even when no call is under way
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 2000,
      'grpc.keepalive_permit_without_calls': 1,
      // reconnect soon after a member restarts (gRPC's default waits up to 120 s)
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...(tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
    },
    faultHandling: {
      // With several members, skip one that keeps refusing for a second; with one, never block.
      host: () => (endpoints.length > 1 ? circuitBreaker(handleWhen(neverSent), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }) : noop),
      // Only a call that never left may go to the next member.
      global: retry(handleWhen(neverSent), { maxAttempts: Math.max(0, endpoints.length - 1), backoff: new ConstantBackoff(20) }),
      // etcd3 calls next() on this before use: it wants the factory, though its typings say IBackoff
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: opts.maxWatchBackoffMs ?? 1000 }) as unknown as IBackoff<unknown>,
    },
  };
  return new Etcd3(options);
}

/** A per-call deadline `ms` from now, for calls that need longer than the client default. */
export function deadline(ms: number): { deadline: number } {
  return { deadline: Date.now() + ms };
}
