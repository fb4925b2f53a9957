import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { ApiContext } from './context';
import { Router } from './router';
import { splitVersion, API_VERSION } from './version';
import { httpStatus, errorMessage, isShoalError, invalid, notFound } from '../errors';
import type { Logger } from '../log';
import type { ServerTls } from './tls';

export interface Listener {
  kind: 'unix' | 'tcp';
  address: string; // socket path, or host:port
  /** A tcp listener's certificate and client CA: it serves HTTPS and requires client certificates. */
  tls?: ServerTls;
}

/** Parse a dockerd-style -H value: unix:///path, tcp://host:port, fd:// is not supported. */
export function parseHost(h: string): Listener {
  if (h.startsWith('unix://')) return { kind: 'unix', address: h.slice('unix://'.length) };
  if (h.startsWith('tcp://')) {
    const rest = h.slice('tcp://'.length);
    if (!/^[^:]*:\d+$/.test(rest) && !/^\[.*\]:\d+$/.test(rest)) throw invalid(`invalid host '${h}': expected tcp://HOST:PORT`);
    return { kind: 'tcp', address: rest };
  }
  if (h.startsWith('/')) return { kind: 'unix', address: h };
  throw invalid(`invalid host '${h}': expected unix:///path or tcp://host:port`);
}

const COMMON_HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: 'shoal (linux)',
};

/** The Docker Engine API HTTP server: version prefixes, routing, error translation, hijacking. */
export class ApiServer {
  private servers: Array<http.Server | https.Server> = [];
  private readonly sockets = new Set<Duplex>();
  private readonly abort = new AbortController();

  constructor(
    readonly router: Router,
    private readonly log: Logger,
  ) {}

  async listen(listeners: Listener[]): Promise<void> {
    for (const l of listeners) {
      // Whoever reaches the API is root on the host: TCP is served only with client certificates.
      if (l.kind === 'tcp' && !l.tls) throw invalid(`refusing to serve tcp://${l.address} without TLS client verification`);
      const server = l.tls ? this.httpsServer(l.tls) : http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => void this.handle(req, res));
      server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        if (head.length) socket.unshift(head);
        void this.handle(req, undefined, socket);
      });
      server.on('connection', (s: Duplex) => this.track(s));
      if (l.kind === 'unix') {
        await fs.mkdir(dirname(l.address), { recursive: true });
        await fs.rm(l.address, { force: true });
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(l.address, () => resolve()));
        await fs.chmod(l.address, 0o660);
      } else {
        const i = l.address.lastIndexOf(':');
        const host = l.address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(l.address.slice(i + 1)), host, () => resolve()));
      }
      this.log.info({ listener: `${l.kind}://${l.address}`, tls: l.tls ? 'verify' : undefined }, 'API listening');
      this.servers.push(server);
    }
  }

  /**
   * HTTPS that answers only clients whose certificate chains to the CA: the check is in the
   * handshake, so an unauthorized client never reaches the router (as dockerd's --tlsverify).
   */
  private httpsServer(tls: ServerTls): https.Server {
    // allowHalfOpen as http.Server has it: the docker CLI half-closes a hijacked stream when its
    // stdin ends (a TLS close_notify), and the output must still flow back.
    const server = https.createServer({ ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', keepAliveTimeout: 60_000, allowHalfOpen: true }, (req, res) => void this.handle(req, res));
    // The TLS socket wraps the TCP one; close() must be able to end both.
    server.on('secureConnection', (s: Duplex) => this.track(s));
    // A client certificate from another CA shows only as authorizationError: node verifies it
    // after the handshake and closes the connection without an alert.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, s: Duplex & { remoteAddress?: string; authorizationError?: Error | string }) =>
      this.log.info({ remote: s.remoteAddress, reason: s.authorizationError ? String(s.authorizationError) : `${err.code ?? ''} ${err.message}`.trim() }, 'TLS handshake refused'),
    );
    return server;
  }

  private track(s: Duplex): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers = [];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse | undefined, socket?: Duplex): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://shoal');
    if (res) for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    // A request whose client goes away cancels its work (log follows, waits, pulls).
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    (res ?? socket)?.once('close', onAbort);
    let ctx: ApiContext | undefined;
    try {
      const { version, path } = splitVersion(url.pathname);
      ctx = new ApiContext(req, res, version, path, url, socket, ac.signal);
      const m = this.router.match(req.method ?? 'GET', path);
      if (m === undefined) throw notFound('page not found');
      if (m === 'method') {
        ctx.send(405, { message: `method ${req.method} not allowed on ${path}` });
        return;
      }
      ctx.params = m.params;
      await m.handler(ctx);
      if (!ctx.responded) ctx.noContent();
    } catch (err) {
      const status = httpStatus(err);
      if (!isShoalError(err)) this.log.error({ err, path: url.pathname }, 'request failed');
      if (!ctx) ctx = new ApiContext(req, res, API_VERSION, url.pathname, url, socket);
      if (!ctx.responded) ctx.send(status, { message: errorMessage(err) });
      else if (res && !res.writableEnded) res.end();
    } finally {
      this.abort.signal.removeEventListener('abort', onAbort);
      this.log.debug({ method: req.method, path: url.pathname, status: res?.statusCode, ms: Date.now() - started }, 'request');
    }
  }
}
