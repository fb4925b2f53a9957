import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid, errorMessage } from '../errors';

const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Query-string access with the coercions the Docker API uses ("1"/"true", JSON filters). */
export class Query {
  constructor(private readonly params: URLSearchParams) {}

  str(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }
  all(name: string): string[] {
    return this.params.getAll(name);
  }
  has(name: string): boolean {
    return this.params.has(name);
  }
  bool(name: string, dflt = false): boolean {
    const v = this.params.get(name);
    if (v === null) return dflt;
    return !['', '0', 'false', 'False', 'FALSE', 'no'].includes(v);
  }
  int(name: string, dflt?: number): number | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return dflt;
    if (!/^-?\d+$/.test(v)) throw invalid(`invalid value for ${name}: '${v}' is not an integer`);
    return parseInt(v, 10);
  }
  /** Parse a JSON query value (filters, buildargs, labels). */
  json<T>(name: string): T | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    try {
      return JSON.parse(v) as T;
    } catch (e) {
      throw invalid(`invalid ${name} parameter: ${errorMessage(e)}`);
    }
  }
  /** Docker filters: {"key": ["v"]} or the legacy {"key": {"v": true}}. */
  filters(): Map<string, string[]> {
    const raw = this.json<Record<string, string[] | Record<string, boolean>>>('filters') ?? {};
    const out = new Map<string, string[]>();
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('invalid filters: expected a JSON object');
    for (const [k, v] of Object.entries(raw)) {
      out.set(k, Array.isArray(v) ? v.map(String) : Object.keys(v).filter((x) => (v as Record<string, boolean>)[x]));
    }
    return out;
  }
}

/** One API request. Either `res` (ordinary) or `socket` (an Upgrade request) carries the answer. */
export class ApiContext {
  readonly query: Query;
  params: Record<string, string> = {};
  private hijacked = false;
  private rawHeadersSent = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    readonly version: string,
    readonly path: string,
    url: URL,
    private readonly upgradeSocket?: Duplex,
    readonly signal: AbortSignal = new AbortController().signal,
  ) {
    this.query = new Query(url.searchParams);
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  /** Read and parse a JSON body. An empty body gives `dflt` (or {}). */
  async json<T = Record<string, unknown>>(dflt?: T): Promise<T> {
    const buf = await this.bodyBuffer(MAX_JSON_BODY);
    if (buf.length === 0 || buf.toString().trim() === '') return (dflt ?? {}) as T;
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch (e) {
      throw invalid(`invalid JSON in request body: ${errorMessage(e)}`);
    }
  }

  async bodyBuffer(limit = Infinity): Promise<Buffer> {
    if (this.upgradeSocket) return this.upgradeBody(limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of this.req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > limit) throw invalid(`request body exceeds ${limit} bytes`);
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  /**
   * On an Upgrade request Node's parser leaves the body on the socket (exec start and attach
   * carry JSON there). Take exactly Content-Length bytes, so what follows is the client's stream.
   */
  private upgradeBody(limit: number): Promise<Buffer> {
    const len = Number(this.header('content-length') ?? 0);
    if (!Number.isInteger(len) || len <= 0) return Promise.resolve(Buffer.alloc(0));
    if (len > limit) return Promise.reject(invalid(`request body exceeds ${limit} bytes`));
    const socket = this.upgradeSocket!;
    return new Promise((resolve, reject) => {
      const done = (err?: Error, buf?: Buffer) => {
        socket.off('readable', tryRead);
        socket.off('end', onEnd);
        if (err) reject(err);
        else resolve(buf!);
      };
      const tryRead = () => {
        const b = socket.read(len) as Buffer | null;
        if (b) done(undefined, b);
      };
      const onEnd = () => done(invalid('request body ended early'));
      socket.on('readable', tryRead);
      socket.once('end', onEnd);
      tryRead();
    });
  }

  /** The raw request body as a stream (build contexts, image tars). */
  body(): AsyncIterable<Buffer> & NodeJS.ReadableStream {
    return this.req;
  }

  get responded(): boolean {
    return this.hijacked || this.rawHeadersSent || (this.res?.headersSent ?? false);
  }

  send(status: number, body?: unknown, headers: Record<string, string> = {}): void {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const hdrs: Record<string, string> = { ...headers };
    if (payload !== undefined && !hdrs['Content-Type']) hdrs['Content-Type'] = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    if (this.res) {
      this.res.writeHead(status, hdrs);
      this.res.end(payload);
      return;
    }
    // An Upgrade request answered without upgrading (e.g. an error before hijack).
    const socket = this.upgradeSocket!;
    const len = payload === undefined ? 0 : Buffer.byteLength(payload);
    const lines = [`HTTP/1.1 ${status} ${status < 400 ? 'OK' : 'Error'}`, ...Object.entries(hdrs).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${len}`, 'Connection: close', '', ''];
    this.rawHeadersSent = true;
    socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), Buffer.from(payload ?? '')]));
  }

  json200(body: unknown): void {
    this.send(200, body);
  }

  noContent(): void {
    this.send(204);
  }

  /** Start a streamed response (chunked). Returns a writer; call end() when done. */
  stream(contentType = 'application/json', status = 200): StreamWriter {
    if (!this.res) throw new Error('stream() on an upgrade request');
    this.res.writeHead(status, { 'Content-Type': contentType });
    this.res.flushHeaders();
    const res = this.res;
    return {
      write: (chunk) => res.write(chunk),
      writeJson: (obj) => res.write(JSON.stringify(obj) + '\r\n'),
      end: () => res.end(),
      closed: () => res.destroyed || res.writableEnded,
    };
  }

  /**
   * Take over the connection for a raw bidirectional stream (attach, exec start), answering
   * 101 for an Upgrade request as dockerd does and 200 otherwise.
   */
  hijack(contentType = 'application/vnd.docker.raw-stream'): Duplex {
    this.hijacked = true;
    if (this.upgradeSocket) {
      this.upgradeSocket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      return this.upgradeSocket;
    }
    const socket = this.req.socket;
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nConnection: close\r\n\r\n`);
    // The ServerResponse must not write anything further on this socket.
    this.res!.detachSocket(socket);
    return socket;
  }
}

export interface StreamWriter {
  write(chunk: Buffer | string): void;
  writeJson(obj: unknown): void;
  end(): void;
  closed(): boolean;
}
