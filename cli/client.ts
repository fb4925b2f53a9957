// The CLI's view of the Engine API: shared/client's EngineClient plus the stream handling
// the commands share (progress streams, early response headers for wait).
import type http from 'node:http';
import { EngineClient, readAll, ApiError, type ApiResponse, type RequestOptions } from '../shared/client';
import type { TlsMaterial } from '../shared/api/tls';
import { renderMessage, type JsonMessage } from './format/progress';

export { ApiError };

/** Registry credentials header for pull/push: empty credentials, as docker sends without a login. */
export const EMPTY_AUTH = { 'X-Registry-Auth': 'e30=' };

export interface Sink {
  write(s: string | Buffer): unknown;
}

export class CliClient {
  readonly engine: EngineClient;

  constructor(
    readonly host: string,
    tls?: TlsMaterial,
  ) {
    this.engine = new EngineClient(host, { tls, onWarning: (w) => process.stderr.write(`WARNING: ${w}\n`) });
  }

  close(): void {
    this.engine.close();
  }

  get<T = unknown>(p: string, opts?: RequestOptions): Promise<T> {
    return this.engine.get<T>(p, opts);
  }
  post<T = unknown>(p: string, opts?: RequestOptions): Promise<T> {
    return this.engine.post<T>(p, opts);
  }
  delete<T = unknown>(p: string, opts?: RequestOptions): Promise<T> {
    return this.engine.delete<T>(p, opts);
  }
  head(p: string, opts?: RequestOptions) {
    return this.engine.raw('HEAD', p, opts);
  }
  stream(method: string, p: string, opts?: RequestOptions): Promise<http.IncomingMessage> {
    return this.engine.stream(method, p, opts);
  }
  hijack(method: string, p: string, opts?: RequestOptions) {
    return this.engine.hijack(method, p, opts);
  }

  /**
   * Show a progress stream as docker does on a non-terminal; `onAux` sees aux messages
   * (build image IDs, push digests). An error message in the stream throws StreamError.
   */
  async progress(method: string, p: string, opts: RequestOptions, out: Sink, onAux?: (aux: unknown) => void): Promise<void> {
    const res = await this.checked(method, p, opts);
    await renderStream(res.stream, res.headers['content-type'] ?? '', out, onAux);
  }

  /** A raw response, with a status >= 400 turned into an ApiError. */
  async checked(method: string, p: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const res = await this.engine.raw(method, p, opts);
    if (res.status >= 400) throw new ApiError(res.status, errorText(await readAll(res.stream), res.status));
    return res;
  }

  /**
   * Send a request whose answer comes much later (/containers/{id}/wait): `headers` settles
   * when the response starts (dockerd sends its headers once the waiter is registered),
   * `result` when the body is complete.
   */
  early(method: string, p: string, opts: RequestOptions = {}): { headers: Promise<void>; result: Promise<{ status: number; body: Buffer }> } {
    const res = this.engine.raw(method, p, opts);
    const result = res.then(async (r) => ({ status: r.status, body: await readAll(r.stream) }));
    const headers = res.then(() => undefined);
    // Observed by the caller later (or not at all once a timer won the race): never unhandled.
    result.catch(() => undefined);
    headers.catch(() => undefined);
    return { headers, result };
  }
}

/** Render a JSON message stream (or copy a non-JSON body) to `out`. */
export async function renderStream(stream: AsyncIterable<Buffer>, contentType: string, out: Sink, onAux?: (aux: unknown) => void): Promise<void> {
  if (contentType && !contentType.includes('json')) {
    for await (const chunk of stream) out.write(chunk);
    return;
  }
  let buf = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: JsonMessage;
    try {
      m = JSON.parse(line) as JsonMessage;
    } catch {
      out.write(`${line}\n`);
      return;
    }
    if (m.aux !== undefined && m.aux !== null && onAux) onAux(m.aux);
    const text = renderMessage(m);
    if (text) out.write(text);
  };
  for await (const chunk of stream) {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      handle(line);
    }
  }
  handle(buf);
}

export function errorText(body: Buffer, status: number): string {
  try {
    const j = JSON.parse(body.toString());
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return body.toString().trim() || `HTTP ${status}`;
}
