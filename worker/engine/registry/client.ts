// A client of the distribution (registry v2) API for one repository, over Node's fetch.
// Every manifest and blob it hands back has been checked against its digest.
import { withDeadline } from '../../../shared/signals';
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import { ShoalError, unavailable } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import { type AuthConfig, type Challenge, basicHeader, parseWwwAuthenticate, repositoryScope } from './auth';
import { DigestVerifier, digestOf, isDigest, verifyBuffer } from './digest';
import type { RegistryEndpoint } from './endpoint';
import { RegistryError, codeForStatus, describeEntries, networkError, parseErrorBody } from './errors';
import { MANIFEST_ACCEPT } from './mediatypes';

const log = logger('registry');

/** Manifests are small JSON documents; refuse anything absurdly large. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image configs too. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export interface RegistryClientOptions {
  endpoint: RegistryEndpoint;
  /** The repository path inside the registry ("library/busybox", "test/busybox"). */
  repository: string;
  /** What the token is asked for: pull, or pull and push. */
  actions: Array<'pull' | 'push'>;
  auth?: AuthConfig;
  signal?: AbortSignal;
  /** Until response headers arrive (default 30 s). */
  timeoutMs?: number;
  /** Longest pause while a body streams before giving up (default 60 s). */
  idleTimeoutMs?: number;
  /** Upload blobs larger than this in PATCH chunks of this size (default: one monolithic PUT). */
  chunkSize?: number;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  raw: Buffer;
}

export interface ManifestInfo {
  mediaType: string;
  digest: string;
  size: number;
}

interface RequestSpec {
  method: string;
  /** Path under /v2/<repository>/ or an absolute URL (upload locations). */
  path?: string;
  url?: string;
  headers?: Record<string, string>;
  /** A factory so the body can be sent again after an authentication round. */
  body?: () => Buffer | AsyncIterable<Uint8Array>;
  /** Statuses handed back to the caller rather than turned into errors. */
  ok: number[];
  /** The phrase errors start with ("manifest for X"); defaults to the method and URL. */
  what?: string;
}

export type ProgressFn = (bytes: number) => void;

export class RegistryClient {
  readonly endpoint: RegistryEndpoint;
  readonly repository: string;
  private authorization?: string;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly opts: RegistryClientOptions) {
    this.endpoint = opts.endpoint;
    this.repository = opts.repository;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    if (opts.auth?.registrytoken) this.authorization = `Bearer ${opts.auth.registrytoken}`;
  }

  /** "127.0.0.1:5000/test/busybox", as docker names a repository in messages. */
  get displayName(): string {
    return `${this.endpoint.domain}/${this.repository}`;
  }

  private url(path: string): string {
    return `${this.endpoint.baseUrl}/v2/${this.repository}/${path}`;
  }

  /** GET /v2/: checks the registry answers (and learns its auth challenge). */
  async ping(): Promise<void> {
    await this.request({ method: 'GET', url: `${this.endpoint.baseUrl}/v2/`, ok: [200] }).then((r) => r.body?.cancel());
  }

  /** HEAD a manifest: its descriptor, or undefined when the registry does not have it. */
  async headManifest(reference: string): Promise<ManifestInfo | undefined> {
    const res = await this.request({ method: 'HEAD', path: `manifests/${reference}`, headers: { Accept: MANIFEST_ACCEPT.join(', ') }, ok: [200, 404] });
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest') ?? '';
    const size = Number(res.headers.get('content-length') ?? -1);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (isDigest(reference) && digest && digest !== reference) throw new ShoalError('FAILED_PRECONDITION', `manifest digest mismatch: asked for ${reference}, registry says ${digest}`);
    return { mediaType, digest: digest || (isDigest(reference) ? reference : ''), size };
  }

  /**
   * GET a manifest by tag or digest. The content is checked against the digest asked for, or
   * (for a tag) against the Docker-Content-Digest the registry announces.
   */
  async getManifest(reference: string, what?: string): Promise<FetchedManifest> {
    const res = await this.request({ method: 'GET', path: `manifests/${reference}`, headers: { Accept: MANIFEST_ACCEPT.join(', ') }, ok: [200], what });
    const raw = await this.readAll(res, MAX_MANIFEST_BYTES, 'manifest');
    const announced = res.headers.get('docker-content-digest') ?? undefined;
    let digest: string;
    if (isDigest(reference)) {
      verifyBuffer(raw, reference, 'manifest');
      digest = reference;
    } else if (announced && isDigest(announced)) {
      verifyBuffer(raw, announced, 'manifest');
      digest = announced;
    } else {
      digest = digestOf(raw);
    }
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    try {
      const body = JSON.parse(raw.toString('utf8')) as { mediaType?: string; schemaVersion?: number };
      if (body.mediaType) mediaType = body.mediaType;
      if (body.schemaVersion === 1) throw new ShoalError('FAILED_PRECONDITION', `${what ?? reference}: Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported`);
    } catch (e) {
      if (e instanceof ShoalError) throw e;
      throw new ShoalError('FAILED_PRECONDITION', `${what ?? reference}: manifest is not valid JSON`);
    }
    return { mediaType, digest, raw };
  }

  /** PUT a manifest under a tag (or its digest); returns the digest the registry stored it as. */
  async putManifest(reference: string, mediaType: string, raw: Buffer): Promise<string> {
    const res = await this.request({ method: 'PUT', path: `manifests/${reference}`, headers: { 'Content-Type': mediaType }, body: () => raw, ok: [201, 200, 202] });
    await res.body?.cancel();
    const ours = digestOf(raw);
    const theirs = res.headers.get('docker-content-digest');
    if (theirs && theirs !== ours) throw new ShoalError('FAILED_PRECONDITION', `registry stored the manifest as ${theirs}, expected ${ours}`);
    return ours;
  }

  /** HEAD a blob: true when the registry already has it. */
  async blobExists(digest: string): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', path: `blobs/${digest}`, ok: [200, 404] });
    return res.status === 200;
  }

  /** GET a small blob (an image config) into memory, verified. */
  async getBlobBuffer(digest: string, size?: number): Promise<Buffer> {
    const res = await this.request({ method: 'GET', path: `blobs/${digest}`, ok: [200] });
    const buf = await this.readAll(res, MAX_CONFIG_BYTES, `blob ${digest}`);
    const v = new DigestVerifier(digest, size);
    v.update(buf);
    v.verify(`blob ${digest}`);
    return buf;
  }

  /**
   * GET a blob (redirects followed) as a stream of chunks. The stream throws a
   * DigestMismatchError (or a size error) at its end when the content is not `digest`, so
   * whoever stores it must discard what it wrote on an error. `onProgress` gets bytes so far;
   * `onVerify` is called once all bytes arrived, just before the check.
   */
  async openBlob(digest: string, size: number, hooks: { onProgress?: ProgressFn; onVerify?: () => void } = {}): Promise<AsyncIterable<Buffer>> {
    const res = await this.request({ method: 'GET', path: `blobs/${digest}`, ok: [200] });
    const verifier = new DigestVerifier(digest, size >= 0 ? size : undefined);
    const chunks = this.bodyChunks(res, `blob ${digest}`);
    return (async function* () {
      for await (const chunk of chunks) {
        verifier.update(chunk);
        if (size >= 0 && verifier.bytes > size) throw new ShoalError('FAILED_PRECONDITION', `blob ${digest} size mismatch: more than the expected ${size} bytes`);
        hooks.onProgress?.(verifier.bytes);
        yield chunk;
      }
      hooks.onVerify?.();
      verifier.verify(`blob ${digest}`);
    })();
  }

  /**
   * GET a blob (redirects followed) into `dest`, hashing as it streams. On a digest or size
   * mismatch, or any failure, the file is removed and an error thrown.
   */
  async downloadBlob(digest: string, size: number, dest: string, onProgress?: ProgressFn): Promise<void> {
    const res = await this.request({ method: 'GET', path: `blobs/${digest}`, ok: [200] });
    const verifier = new DigestVerifier(digest, size >= 0 ? size : undefined);
    const out = createWriteStream(dest, { mode: 0o600 });
    try {
      for await (const chunk of this.bodyChunks(res, `blob ${digest}`)) {
        verifier.update(chunk);
        onProgress?.(verifier.bytes);
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      verifier.verify(`blob ${digest}`);
    } catch (e) {
      out.destroy();
      await fs.rm(dest, { force: true });
      throw e;
    }
  }

  /**
   * Upload a blob: POST /blobs/uploads/ for a session, then one PUT ?digest= carrying the
   * whole content (monolithic upload). `open` is called again if the PUT must be resent.
   */
  async uploadBlob(digest: string, size: number, open: () => AsyncIterable<Uint8Array>, onProgress?: ProgressFn): Promise<void> {
    const start = await this.request({ method: 'POST', path: 'blobs/uploads/', headers: { 'Content-Length': '0' }, body: () => Buffer.alloc(0), ok: [202] });
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw new ShoalError('INTERNAL', `registry ${this.endpoint.domain} started an upload without a Location`);
    if (this.opts.chunkSize && size > this.opts.chunkSize) return this.uploadChunked(new URL(location, this.endpoint.baseUrl), digest, open, onProgress);
    const target = new URL(location, this.endpoint.baseUrl);
    target.searchParams.set('digest', digest);
    const counted = async function* (): AsyncIterable<Uint8Array> {
      let sent = 0;
      for await (const chunk of open()) {
        sent += chunk.length;
        onProgress?.(sent);
        yield chunk;
      }
    };
    const res = await this.request({
      method: 'PUT',
      url: target.toString(),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body: counted,
      ok: [201, 204],
    });
    await res.body?.cancel();
    this.checkStored(res, digest);
  }

  /** PATCH the content in chunks (each resendable from memory), then PUT ?digest= to close. */
  private async uploadChunked(location: URL, digest: string, open: () => AsyncIterable<Uint8Array>, onProgress?: ProgressFn): Promise<void> {
    const size = this.opts.chunkSize!;
    let target = location;
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const flush = async () => {
      if (!pendingLen) return;
      const chunk = Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      const res = await this.request({
        method: 'PATCH',
        url: target.toString(),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
        body: () => chunk,
        ok: [202],
      });
      await res.body?.cancel();
      offset += chunk.length;
      onProgress?.(offset);
      const next = res.headers.get('location');
      if (next) target = new URL(next, this.endpoint.baseUrl);
    };
    for await (const c of open()) {
      let buf = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      while (buf.length) {
        const take = buf.subarray(0, size - pendingLen);
        pending.push(take);
        pendingLen += take.length;
        buf = buf.subarray(take.length);
        if (pendingLen === size) await flush();
      }
    }
    await flush();
    const done = new URL(target);
    done.searchParams.set('digest', digest);
    const res = await this.request({ method: 'PUT', url: done.toString(), headers: { 'Content-Length': '0' }, body: () => Buffer.alloc(0), ok: [201, 204] });
    await res.body?.cancel();
    this.checkStored(res, digest);
  }

  private checkStored(res: Response, digest: string): void {
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) throw new ShoalError('FAILED_PRECONDITION', `registry stored blob as ${stored}, expected ${digest}`);
  }

  // ---- transport ----

  /** One request with auth (one retry after a 401 challenge), a headers timeout and typed errors. */
  private async request(spec: RequestSpec): Promise<Response> {
    let res = await this.send(spec);
    if (res.status === 401 && !spec.ok.includes(401)) {
      const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate'));
      const text = await res.text().catch(() => '');
      const authorized = await this.authenticate(challenges, spec);
      if (!authorized) throw this.errorFor(res.status, text, spec);
      res = await this.send(spec);
    }
    if (spec.ok.includes(res.status)) return res;
    const text = spec.method === 'HEAD' ? '' : await res.text().catch(() => '');
    throw this.errorFor(res.status, text, spec);
  }

  private async send(spec: RequestSpec): Promise<Response> {
    const url = spec.url ?? this.url(spec.path ?? '');
    const headers: Record<string, string> = { 'User-Agent': 'shoal/0.1 (docker-compatible)', ...(spec.headers ?? {}) };
    if (this.authorization) headers.Authorization = this.authorization;
    // Our own controller carries the headers timeout and, later, the body idle timeout.
    const ctl = new AbortController();
    const signal = this.opts.signal ? AbortSignal.any([ctl.signal, this.opts.signal]) : ctl.signal;
    const timer = setTimeout(() => ctl.abort(new DOMException('headers timeout', 'TimeoutError')), this.timeoutMs);
    const body = spec.body?.();
    try {
      const res = await fetch(url, {
        method: spec.method,
        headers,
        body: body as RequestInit["body"],
        redirect: 'follow',
        signal,
        ...(body && !Buffer.isBuffer(body) ? { duplex: 'half' } : {}),
      } as RequestInit);
      log.debug({ method: spec.method, url, status: res.status }, 'registry request');
      (res as ResponseWithAbort).abortController = ctl;
      return res;
    } catch (e) {
      const timedOut = ctl.signal.reason instanceof DOMException && ctl.signal.reason.name === 'TimeoutError';
      throw networkError(spec.method, url, timedOut ? ctl.signal.reason : e, this.opts.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stream a response body, aborting when no byte arrives for idleTimeoutMs. */
  private async *bodyChunks(res: Response, what: string): AsyncIterable<Buffer> {
    if (!res.body) return;
    const ctl = (res as ResponseWithAbort).abortController;
    let timer: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        ctl?.abort(new DOMException('body idle timeout', 'TimeoutError'));
      }, this.idleTimeoutMs);
    };
    arm();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    } catch (e) {
      if (this.opts.signal?.aborted) throw new ShoalError('CANCELLED', `${what}: context canceled`, { cause: e });
      if (stalled) throw unavailable(`${what}: no data from ${this.endpoint.domain} for ${Math.round(this.idleTimeoutMs / 1000)}s`, e);
      throw unavailable(`${what}: ${(e as Error).message}`, e);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readAll(res: Response, limit: number, what: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of this.bodyChunks(res, what)) {
      n += c.length;
      if (n > limit) {
        await res.body?.cancel().catch(() => undefined);
        throw new ShoalError('FAILED_PRECONDITION', `${what} from ${this.endpoint.domain} exceeds ${limit} bytes`);
      }
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  /** Answer a 401 challenge: Basic with the credentials, or the Bearer token flow. */
  private async authenticate(challenges: Challenge[], spec: RequestSpec): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer?.params.realm) {
      const token = await this.fetchToken(bearer, spec);
      const next = `Bearer ${token}`;
      if (next === this.authorization) return false; // same token refused: do not loop
      this.authorization = next;
      return true;
    }
    if (basic) {
      const header = basicHeader(this.opts.auth);
      if (!header || header === this.authorization) return false;
      this.authorization = header;
      return true;
    }
    return false;
  }

  private async fetchToken(ch: Challenge, spec: RequestSpec): Promise<string> {
    const realm = ch.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new ShoalError('UNAVAILABLE', `registry ${this.endpoint.domain} sent an invalid token realm '${realm}'`);
    }
    const scopes = new Set<string>([repositoryScope(this.repository, this.opts.actions)]);
    if (ch.params.scope) for (const s of ch.params.scope.split(' ')) if (s && !s.startsWith(`repository:${this.repository}:`)) scopes.add(s);
    const auth = this.opts.auth;
    const deadline = withDeadline(this.timeoutMs, this.opts.signal);
    const ctl = deadline.signal;
    let res: Response;
    try {
      if (auth?.identitytoken) {
        // OAuth2 refresh-token grant, as docker does with a stored identity token.
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.identitytoken, client_id: 'shoal', access_type: 'offline' });
        if (ch.params.service) form.set('service', ch.params.service);
        form.set('scope', [...scopes].join(' '));
        res = await fetch(realmUrl, { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, signal: ctl });
      } else {
        if (ch.params.service) realmUrl.searchParams.set('service', ch.params.service);
        for (const s of scopes) realmUrl.searchParams.append('scope', s);
        if (auth?.username) {
          realmUrl.searchParams.set('account', auth.username);
          res = await fetch(realmUrl, { headers: { Authorization: basicHeader(auth)! }, signal: ctl });
        } else {
          res = await fetch(realmUrl, { signal: ctl });
        }
      }
    } catch (e) {
      deadline.clear();
      throw networkError(auth?.identitytoken ? 'POST' : 'GET', realmUrl.toString(), e, this.opts.signal);
    }
    const text = await res.text().catch(() => '');
    deadline.clear();
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError('PERMISSION_DENIED', `${spec.method.charAt(0)}${spec.method.slice(1).toLowerCase()} "${spec.url ?? this.url(spec.path ?? '')}": unauthorized: incorrect username or password`, res.status, parseErrorBody(res.status, text));
    }
    if (res.status !== 200) throw new RegistryError(codeForStatus(res.status), `token server ${realmUrl.host} answered ${res.status}: ${describeEntries(parseErrorBody(res.status, text))}`, res.status, []);
    let token: string | undefined;
    try {
      const body = JSON.parse(text) as { token?: string; access_token?: string };
      token = body.token || body.access_token;
    } catch {
      /* below */
    }
    if (!token) throw new ShoalError('UNAVAILABLE', `token server ${realmUrl.host} returned no token`);
    return token;
  }

  private errorFor(status: number, text: string, spec: RequestSpec): RegistryError {
    const entries = parseErrorBody(status, text);
    const url = spec.url ?? this.url(spec.path ?? '');
    const detail = describeEntries(entries);
    const code = codeForStatus(status);
    if (spec.what && status === 404) return new RegistryError('NOT_FOUND', `${spec.what} not found: ${detail}`, status, entries);
    if (status === 401 || status === 403) {
      const action = this.opts.actions.includes('push') ? 'push' : 'pull';
      const msg =
        action === 'pull'
          ? `pull access denied for ${this.displayName}, repository does not exist or may require 'docker login': ${detail}`
          : `${detail || 'denied: requested access to the resource is denied'}`;
      return new RegistryError('PERMISSION_DENIED', msg, status, entries);
    }
    const verb = spec.method.charAt(0) + spec.method.slice(1).toLowerCase();
    return new RegistryError(code, `${verb} "${url.replace(/\?.*$/, '')}": ${detail}`, status, entries);
  }
}

type ResponseWithAbort = Response & { abortController?: AbortController };
