import http from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import { ShoalError, type ErrorCode } from '../errors';
import { API_VERSION } from '../api/version';
import { describeTlsError, type TlsMaterial } from '../api/tls';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | string[]>;
  body?: unknown; // JSON-encoded unless a Buffer or a Readable
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: http.IncomingMessage;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'CONFLICT', 501: 'NOT_IMPLEMENTED', 503: 'UNAVAILABLE' };

/** An API error as the server reported it: its status and its {"message"}. */
export class ApiError extends ShoalError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(CODE_BY_STATUS[status] ?? 'INTERNAL', message);
  }
}

/** Parse unix:///path or tcp://host:port into http.request options. */
function target(host: string): { socketPath?: string; host?: string; port?: number } {
  if (host.startsWith('unix://')) return { socketPath: host.slice(7) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/([^:/]+):(\d+)/.exec(host);
  if (!m) throw new ShoalError('INVALID_ARGUMENT', `invalid host '${host}': expected unix:///path or tcp://host:port`);
  return { host: m[1], port: Number(m[2]) };
}

export interface EngineClientOptions {
  /**
   * Speak HTTPS to a tcp:// host: the server's certificate is checked against `ca` (the system's
   * CAs without it), and `cert`/`key` are sent when the server asks for a client certificate.
   * Ignored for unix sockets, as the docker CLI ignores its TLS flags there.
   */
  tls?: TlsMaterial;
  /** Called with the text of a response's Warning header (e.g. a read the swarm could not vouch for). */
  onWarning?: (text: string) => void;
}

/** A client of the Docker Engine API as shoald serves it. */
export class EngineClient {
  private readonly agent: http.Agent;
  private readonly dest: ReturnType<typeof target>;
  /** TLS options for each request (hijacks bypass the agent); undefined for plain HTTP. */
  private readonly tls?: TlsMaterial & { rejectUnauthorized: true; minVersion: 'TLSv1.2' };
  private readonly onWarning?: (text: string) => void;

  constructor(
    readonly host: string,
    opts: EngineClientOptions = {},
  ) {
    this.dest = target(host);
    this.onWarning = opts.onWarning;
    if (opts.tls && this.dest.socketPath === undefined) {
      this.tls = { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
      this.agent = new https.Agent({ keepAlive: true, ...this.tls });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  private send(options: https.RequestOptions, onResponse?: (res: http.IncomingMessage) => void): http.ClientRequest {
    return this.tls ? https.request({ ...this.tls, ...options }, onResponse) : http.request(options, onResponse);
  }

  /** The error of a request that got no answer: TLS refusals in words, the rest as unreachable. */
  private unreachable(e: NodeJS.ErrnoException, cancelled = false): ShoalError {
    const why = describeTlsError(e);
    if (why !== undefined) return new ShoalError('PERMISSION_DENIED', `TLS connection to ${this.host} failed: ${why}`, { cause: e });
    if (this.dest.socketPath === undefined && (e.code === 'ECONNRESET' || e.message === 'socket hang up')) {
      // Node's TLS server closes, without an alert, a connection whose certificate its CA did not
      // sign (the check follows the handshake), and drops plain HTTP the same way.
      if (this.tls) return new ShoalError('PERMISSION_DENIED', `TLS connection to ${this.host} failed: the daemon closed the connection without an answer (${e.message}); it drops clients whose certificate its --tlscacert did not sign`, { cause: e });
      return new ShoalError('PERMISSION_DENIED', `${this.host} closed the connection without an answer (${e.message}); a shoald on tcp:// requires TLS: give --tlsverify with --tlscacert, --tlscert and --tlskey`, { cause: e });
    }
    return new ShoalError(cancelled ? 'CANCELLED' : 'UNAVAILABLE', `cannot reach shoald at ${this.host}: ${e.message}`, { cause: e });
  }

  close(): void {
    this.agent.destroy();
  }

  private path(p: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
      else qs.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const s = qs.toString();
    return `/v${API_VERSION}${p}${s ? `?${s}` : ''}`;
  }

  /** Send a request; resolves with the raw response stream for any status. */
  raw(method: string, p: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      let payload: Buffer | Readable | undefined;
      if (Buffer.isBuffer(opts.body)) payload = opts.body;
      else if (opts.body && typeof (opts.body as Readable).pipe === 'function') payload = opts.body as Readable;
      else if (opts.body !== undefined) {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
      const req = this.send({ ...this.dest, agent: this.agent, method, path: this.path(p, opts.query), headers, signal: opts.signal }, (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res }),
      );
      req.on('error', (e) => reject(this.unreachable(e, opts.signal?.aborted)));
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else payload.pipe(req);
    });
  }

  /** Send a request and parse a JSON answer; a status >= 400 becomes an ApiError. */
  async request<T = unknown>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, p, opts);
    const text = await readAll(res.stream);
    const warning = res.headers.warning;
    if (warning && this.onWarning) this.onWarning(String(warning).replace(/^\d{3} \S+ "(.*)"$/, '$1'));
    if (res.status >= 400) throw new ApiError(res.status, errorText(text, res.status));
    if (!text.length) return undefined as T;
    return (res.headers['content-type']?.includes('json') ? JSON.parse(text.toString()) : text.toString()) as T;
  }

  get<T = unknown>(p: string, opts?: RequestOptions) { return this.request<T>('GET', p, opts); }
  post<T = unknown>(p: string, opts?: RequestOptions) { return this.request<T>('POST', p, opts); }
  delete<T = unknown>(p: string, opts?: RequestOptions) { return this.request<T>('DELETE', p, opts); }

  /** A streaming endpoint: yields each JSON message (progress, events). Errors in-stream are thrown. */
  async *jsonStream<T = Record<string, unknown>>(method: string, p: string, opts: RequestOptions = {}): AsyncIterable<T> {
    const res = await this.raw(method, p, opts);
    if (res.status >= 400) throw new ApiError(res.status, errorText(await readAll(res.stream), res.status));
    let buf = '';
    for await (const chunk of res.stream as AsyncIterable<Buffer>) {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) yield JSON.parse(line) as T;
      }
    }
    if (buf.trim()) yield JSON.parse(buf) as T;
  }

  /** A streaming endpoint with a raw body (logs, attach without upgrade, export). */
  async stream(method: string, p: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.raw(method, p, opts);
    if (res.status >= 400) throw new ApiError(res.status, errorText(await readAll(res.stream), res.status));
    return res.stream;
  }

  /** Upgrade the connection (attach, exec start) and return the raw duplex stream. */
  hijack(method: string, p: string, opts: RequestOptions = {}): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const req = this.send({
        ...this.dest,
        method,
        path: this.path(p, opts.query),
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}), ...(opts.headers ?? {}) },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', async (res) => reject(new ApiError(res.statusCode ?? 0, errorText(await readAll(res), res.statusCode ?? 0))));
      req.on('error', (e) => reject(this.unreachable(e)));
      req.end(body);
    });
  }
}

export async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c);
  return Buffer.concat(chunks);
}

function errorText(body: Buffer, status: number): string {
  try {
    const j = JSON.parse(body.toString());
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return body.toString().trim() || `HTTP ${status}`;
}
