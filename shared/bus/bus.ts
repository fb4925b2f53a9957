// The cluster's event and log bus over NATS: JSON messages on the subjects in subjects.ts. The
// connection reconnects forever with a bounded wait; subscriptions survive reconnects (the
// client re-subscribes) and end when their signal aborts.
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import { unavailable } from '../errors';
import { logger } from '../log';
import { translateNatsError } from './errors';

export interface BusOptions {
  /** The cluster's NATS token, when its servers require one. */
  token?: string;
  /** Client name the servers show (default "shoald"). */
  name?: string;
  /** Give up on the first connection after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Wait between reconnect attempts to one server (default 250 ms, plus up to 100 ms jitter). */
  reconnectWaitMs?: number;
  signal?: AbortSignal;
  /** Mutual TLS with the servers: files re-read at every (re)connection, so a renewal is picked up. */
  tls?: BusTls;
}

export interface BusTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /**
   * The name the server's certificate must carry instead of the address dialled (servers are
   * dialled by IP, loopback included; every manager's certificate names its role).
   */
  serverName?: string;
}

export interface BusMessage<T> {
  subject: string;
  data: T;
}

/** What components publish and subscribe through; Bus is the NATS implementation. */
export interface MessageBus {
  publish(subject: string, obj: unknown): void;
  subscribe<T>(subject: string, signal: AbortSignal): AsyncIterable<T>;
  messages<T>(subject: string, signal: AbortSignal): AsyncIterable<BusMessage<T>>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const log = logger('bus');

export class Bus implements MessageBus {
  private reconnecting = false;

  private constructor(private readonly nc: NatsConnection) {
    void this.watchStatus();
  }

  /** Connect to any of `servers` (nats://HOST:PORT); UNAVAILABLE when none answers in time. */
  static async connect(servers: string | string[], opts: BusOptions = {}): Promise<Bus> {
    const list = Array.isArray(servers) ? servers : [servers];
    if (list.length === 0) throw unavailable('the event bus has no servers to connect to');
    const until = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    for (;;) {
      try {
        const nc = await connect({
          servers: list,
          token: opts.token,
          name: opts.name ?? 'shoald',
          timeout: Math.max(200, Math.min(2000, until - Date.now())),
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: opts.reconnectWaitMs ?? 250,
          reconnectJitter: 100,
          pingInterval: 10_000,
          maxPingOut: 2,
          ...(opts.tls ? { tls: natsTls(opts.tls) } : {}),
        });
        return new Bus(nc);
      } catch (e) {
        const err = translateNatsError(e, `connect to the event bus at ${list.join(',')}`);
        if (err.code !== 'UNAVAILABLE' || Date.now() >= until || opts.signal?.aborted) throw err;
        await sleep(250, undefined, { signal: opts.signal }).catch(() => undefined);
      }
    }
  }

  /** Publish `obj` as JSON. Buffered while reconnecting; UNAVAILABLE once closed. */
  publish(subject: string, obj: unknown): void {
    try {
      this.nc.publish(subject, Buffer.from(JSON.stringify(obj)));
    } catch (e) {
      throw translateNatsError(e, `publish on ${subject}`);
    }
  }

  /** Messages on `subject` (wildcards allowed), decoded, until the signal aborts. */
  async *subscribe<T>(subject: string, signal: AbortSignal): AsyncIterable<T> {
    for await (const m of this.messages<T>(subject, signal)) yield m.data;
  }

  /** Like subscribe, with each message's subject (wildcard subscribers need it). */
  async *messages<T>(subject: string, signal: AbortSignal): AsyncIterable<BusMessage<T>> {
    if (signal.aborted) return;
    let sub: Subscription;
    try {
      sub = this.nc.subscribe(subject);
    } catch (e) {
      throw translateNatsError(e, `subscribe to ${subject}`);
    }
    const stop = () => sub.unsubscribe();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of sub) {
        let data: T;
        try {
          data = JSON.parse(Buffer.from(m.data).toString()) as T;
        } catch {
          log.warn({ subject: m.subject }, 'dropped a message that is not JSON');
          continue;
        }
        yield { subject: m.subject, data };
      }
    } catch (e) {
      if (!signal.aborted) throw translateNatsError(e, `subscription to ${subject}`);
    } finally {
      signal.removeEventListener('abort', stop);
      if (!sub.isClosed()) sub.unsubscribe();
    }
  }

  /** Resolves once the server has everything published so far. */
  async flush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (e) {
      throw translateNatsError(e, 'flush the event bus');
    }
  }

  /** True while connected to a server (false while reconnecting and once closed). */
  get connected(): boolean {
    return !this.nc.isClosed() && !this.reconnecting;
  }

  /** Drain and close: subscriptions end after their buffered messages. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      // draining needs a server; without one, just close
      if (!this.nc.isClosed()) await this.nc.close();
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.reconnecting = true;
        log.warn({ server: s.data }, 'event bus disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        this.reconnecting = false;
        log.info({ server: s.data }, 'event bus reconnected');
      }
    }
  }
}

/** nats.js hands these to tls.connect (the files it reads itself, at each connection). */
function natsTls(t: BusTls): Record<string, unknown> {
  const name = t.serverName;
  return {
    certFile: t.certFile,
    keyFile: t.keyFile,
    caFile: t.caFile,
    ...(name ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert) } : {}),
  };
}
