// A private docker-registry (Debian's build of distribution 2.8) on 127.0.0.1 for one test suite:
// filesystem storage in a temp dir, optional htpasswd (Basic) or token (Bearer) authentication
// with a small token server of our own. Stopped by PID; its directory removed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { promises as fs, existsSync } from 'node:fs';
import { createSign, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const REGISTRY_BIN = process.env.SHOAL_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface RegistryUser {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** none (default), htpasswd (Basic), or token (Bearer, via a token server this helper runs). */
  auth?: 'none' | 'htpasswd' | 'token';
  users?: RegistryUser[];
  /** token auth: let requests without credentials pull (but never push). */
  anonymousPull?: boolean;
  /** token auth: OAuth2 refresh tokens (docker's identity tokens) the token server accepts, per user name. */
  refreshTokens?: Record<string, string>;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT", the domain to put in image names. */
  domain: string;
  port: number;
  url: string;
  dir: string;
  /** Storage root the registry writes blobs under. */
  storageDir: string;
  proc: ChildProcess;
  logs: () => string;
  /** Token requests the token server answered (token auth only). */
  tokenRequests: Array<{ account?: string; scopes: string[]; granted: string[] }>;
  /** Where the registry keeps a blob's bytes on disk. */
  blobPath(digest: string): string;
  /** Stop the registry process (the data stays; start() brings it back on the same port). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop everything and delete the directory. */
  destroy(): Promise<void>;
}

export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

/** A free TCP port on 127.0.0.1 (bound and released; the registry binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * bcrypt hashes for htpasswd (the registry accepts nothing else). Made by `htpasswd -B`
 * (apache2-utils) when installed, else by the system's crypt(3) through python3, else undefined
 * and the caller skips: no npm dependency just for this.
 */
export function bcryptHash(password: string): string | undefined {
  try {
    const out = execFileSync('htpasswd', ['-nbB', '-C', '5', 'u', password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return out.slice(out.indexOf(':') + 1);
  } catch {
    /* not installed */
  }
  try {
    const py = 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))';
    const out = execFileSync('python3', ['-W', 'ignore', '-c', py, password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return /^\$2[aby]\$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

export function canMakeHtpasswd(): boolean {
  return bcryptHash('probe') !== undefined;
}

export function canMakeTokenCert(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const SERVICE = 'shoal-test-registry';
const ISSUER = 'shoal-test-issuer';

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-registry-'));
  const storageDir = join(dir, 'storage');
  await fs.mkdir(storageDir);
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? [];
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  let tokenServer: Server | undefined;
  let authYaml = '';
  try {
    if (auth === 'htpasswd') {
      const lines = users.map((u) => {
        const h = bcryptHash(u.password);
        if (!h) throw new Error('no bcrypt tool (htpasswd or python3 crypt) to make an htpasswd file');
        return `${u.username}:${h}`;
      });
      await fs.writeFile(join(dir, 'htpasswd'), lines.join('\n') + '\n');
      authYaml = `auth:\n  htpasswd:\n    realm: shoal-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=shoal-test-token', '-keyout', join(dir, 'token.key'), '-out', join(dir, 'token.crt')], { stdio: 'ignore' });
      const key = await fs.readFile(join(dir, 'token.key'), 'utf8');
      const certDer = pemToDer(await fs.readFile(join(dir, 'token.crt'), 'utf8'));
      tokenServer = await startTokenServer({ key, certDer, users, anonymousPull: opts.anonymousPull ?? false, refreshTokens: opts.refreshTokens ?? {}, log: tokenRequests });
      const tport = (tokenServer.address() as { port: number }).port;
      authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${tport}/token\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${join(dir, 'token.crt')}\n`;
    }
  } catch (e) {
    tokenServer?.close();
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }

  let port = await freePort();
  let out = '';
  const writeConfig = () =>
    fs.writeFile(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: info',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${storageDir}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        `  secret: ${randomBytes(16).toString('hex')}`,
        authYaml,
      ].join('\n'),
    );

  const reg: TestRegistry = {
    get domain() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    dir,
    storageDir,
    proc: undefined as unknown as ChildProcess,
    logs: () => out,
    tokenRequests,
    blobPath(digest: string) {
      const hex = digest.replace(/^sha256:/, '');
      return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    async stop() {
      await terminate(reg.proc);
    },
    async start() {
      await launch();
    },
    async destroy() {
      await terminate(reg.proc);
      if (tokenServer) await new Promise<void>((r) => tokenServer!.close(() => r()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };

  async function launch(): Promise<void> {
    await writeConfig();
    const proc = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b) => (out += b));
    proc.stderr!.on('data', (b) => (out += b));
    proc.on('error', (e) => (out += `spawn error: ${e.message}\n`));
    reg.proc = proc;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`docker-registry exited (${proc.exitCode ?? proc.signalCode}):\n${out}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.status === 200 || res.status === 401) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await terminate(proc);
    throw new Error(`docker-registry did not answer on ${port}:\n${out}`);
  }

  // The port was free a moment ago; if another process took it meanwhile, try another.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      return reg;
    } catch (e) {
      if (attempt >= 2 || !/address already in use/.test(out)) {
        await reg.destroy();
        throw e;
      }
      port = await freePort();
      out = '';
    }
  }
}

async function terminate(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(t);
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A minimal token server for the registry's `auth: token`: checks Basic credentials against
 * `users`, and grants what was asked on `repository:*` scopes (pull only when anonymous and
 * anonymousPull). Tokens are RS256 JWTs carrying the signing certificate in x5c, which the
 * registry verifies against its rootcertbundle.
 */
async function startTokenServer(o: { key: string; certDer: Buffer; users: RegistryUser[]; anonymousPull: boolean; refreshTokens: Record<string, string>; log: TestRegistry['tokenRequests'] }): Promise<Server> {
  const srv = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const authz = req.headers.authorization;
    let account: string | undefined;
    let params = url.searchParams;
    const deny = () => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    };
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant (form body), as docker uses for identity tokens.
      let body = '';
      for await (const c of req) body += c;
      params = new URLSearchParams(body);
      const user = params.get('grant_type') === 'refresh_token' ? o.refreshTokens[params.get('refresh_token') ?? ''] : undefined;
      if (!user) return deny();
      account = user;
    } else if (authz?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
      const ok = o.users.some((x) => x.username === u && x.password === p.join(':'));
      if (!ok) return deny();
      account = u;
    }
    const scopes = params.getAll('scope');
    const access: Array<{ type: string; name: string; actions: string[] }> = [];
    for (const s of scopes.flatMap((x) => x.split(' '))) {
      const [type, ...rest] = s.split(':');
      const actions = (rest.pop() ?? '').split(',').filter(Boolean);
      const name = rest.join(':');
      if (type !== 'repository') continue;
      const granted = account ? actions.filter((a) => a === 'pull' || a === 'push') : o.anonymousPull ? actions.filter((a) => a === 'pull') : [];
      access.push({ type, name, actions: granted });
    }
    o.log.push({ account, scopes, granted: access.map((a) => `${a.name}:${a.actions.join(',')}`) });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [o.certDer.toString('base64')] };
    const claims = { iss: ISSUER, sub: account ?? '', aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signingInput).sign(o.key);
    const token = `${signingInput}.${b64url(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return srv;
}
