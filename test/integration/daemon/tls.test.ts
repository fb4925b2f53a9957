import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { run } from '../../../shared/exec';
import { EngineClient } from '../../../shared/client';
import { loadTlsFiles } from '../../../shared/api';
import { isShoalError } from '../../../shared/errors';
import { SHOALD, SHOAL, busyboxRootfs } from '../../helpers/daemon';
import { docker, runCli, type CliResult } from '../../helpers/docker';

// The TCP API behind TLS client certificates, end to end: a real shoald on 127.0.0.1, the stock
// docker CLI and the shoal CLI with a CA, a server and a client certificate made by openssl.

const EXT = `[server]
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
extendedKeyUsage = clientAuth
`;

/** A CA in `dir` (ca.pem, ca-key.pem) and certificates signed by it: `name`-cert.pem / -key.pem. */
async function makeCa(dir: string, certs: Array<{ name: string; cn: string; ext: 'server' | 'client' }>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'ext.cnf'), EXT);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=shoal test CA ${randomBytes(3).toString('hex')}`], { cwd: dir });
  for (const c of certs) {
    await run('openssl', ['req', ...ec, '-keyout', `${c.name}-key.pem`, '-out', `${c.name}.csr`, '-subj', `/CN=${c.cn}`], { cwd: dir });
    await run('openssl', ['x509', '-req', '-in', `${c.name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-out', `${c.name}-cert.pem`, '-extfile', 'ext.cnf', '-extensions', c.ext], { cwd: dir });
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A connection attempt to the port: true when something accepts it. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

describe('TCP API with TLS client certificates (real shoald, docker and shoal CLIs)', function () {
  this.timeout(180_000);
  const tag = randomBytes(3).toString('hex');
  const bridge = `shtls${tag}`;
  let base: string;
  let pki: string;
  let other: string;
  let noCerts: string;
  let execRoot: string;
  let tcp: string;
  let proc: ChildProcess | undefined;
  let logs = '';
  let local: EngineClient;

  // Both CLIs get a private config and an empty cert directory unless a test says otherwise, so
  // nothing from the machine's ~/.docker or environment is sent by default.
  const cliEnv = () => ({ DOCKER_CONFIG: join(base, 'docker-config'), DOCKER_CERT_PATH: noCerts, DOCKER_TLS_VERIFY: '', DOCKER_TLS: '', DOCKER_HOST: '', SHOAL_HOST: '', HOME: noCerts });
  const withCert = () => ['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(pki, 'client-cert.pem'), '--tlskey', join(pki, 'client-key.pem')];
  const dk = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) => docker(tcp, args, { input: opts.input, env: { ...cliEnv(), ...(opts.env ?? {}) } });
  const shoal = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) => runCli(process.execPath, [SHOAL, '-H', tcp, ...args], { input: opts.input, env: { ...cliEnv(), ...(opts.env ?? {}) } });
  const failed = (r: CliResult, re: RegExp) => {
    assert.notEqual(r.code, 0, `expected a failure, got: ${r.stdout}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '', 'no API answer reached the client');
  };

  before(async () => {
    base = await fs.mkdtemp(join(tmpdir(), `shoal-tls-${tag}-`));
    pki = join(base, 'pki');
    other = join(base, 'other-ca');
    noCerts = join(base, 'no-certs');
    execRoot = join(base, 'run');
    await fs.mkdir(noCerts);
    await makeCa(pki, [
      { name: 'server', cn: '127.0.0.1', ext: 'server' },
      { name: 'client', cn: 'shoal test client', ext: 'client' },
    ]);
    await makeCa(other, [{ name: 'client', cn: 'intruder', ext: 'client' }]);
    const port = await freePort();
    tcp = `tcp://127.0.0.1:${port}`;
    const socket = join(execRoot, 'shoal.sock');
    const bip = `10.${200 + (randomBytes(1)[0] % 50)}.${randomBytes(1)[0]}.1/24`;
    const args = [SHOALD, '--data-root', join(base, 'data'), '--exec-root', execRoot, '--bridge', bridge, '--bip', bip, '--cgroup-parent', `/shoal-test-${tag}`, '-H', `unix://${socket}`, '-H', tcp];
    const tlsArgs = ['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(pki, 'server-cert.pem'), '--tlskey', join(pki, 'server-key.pem')];
    proc = spawn(process.execPath, [...args, ...tlsArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b) => (logs += b));
    proc.stderr!.on('data', (b) => (logs += b));
    local = new EngineClient(`unix://${socket}`);
    for (let up = false; !up; ) {
      if (proc.exitCode !== null) throw new Error(`shoald exited with ${proc.exitCode}:\n${logs}`);
      up = existsSync(socket) && (await local.get('/_ping').then(() => true, () => false));
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    // The image goes in over the TLS port: a request body through EngineClient's HTTPS.
    const client = new EngineClient(tcp, { tls: loadTlsFiles({ tlscacert: join(pki, 'ca.pem'), tlscert: join(pki, 'client-cert.pem'), tlskey: join(pki, 'client-key.pem') }) });
    try {
      await client.post('/images/create', { query: { fromSrc: '-', repo: 'busybox', tag: 'latest' }, body: await busyboxRootfs(), headers: { 'Content-Type': 'application/x-tar' } });
    } finally {
      client.close();
    }
  });

  after(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      for (const c of await local.get<Array<{ Id: string }>>('/containers/json', { query: { all: 1 } }).catch(() => [])) await local.delete(`/containers/${c.Id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
      const exited = new Promise((r) => proc!.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      const t = setTimeout(() => proc!.pid && process.kill(proc!.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    local?.close();
    await run('ip', ['link', 'del', bridge], { okCodes: [0, 1, 2] }).catch(() => undefined);
    await run('nft', ['delete', 'table', 'ip', `shoal_${bridge}`], { okCodes: [0, 1] }).catch(() => undefined);
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  // The two CLIs name the API version field differently in templates (docker's Go struct, shoal's JSON).
  for (const c of [
    { name: 'the stock docker CLI', cli: dk, version: '{{.Server.APIVersion}}' },
    { name: 'the shoal CLI', cli: shoal, version: '{{.Server.ApiVersion}}' },
  ]) {
    it(`${c.name} with --tlsverify and a client certificate: version, run --rm, ps, exec -i`, async () => {
      const name = `tls-${randomBytes(3).toString('hex')}`;
      const v = await c.cli([...withCert(), 'version', '--format', c.version]);
      assert.equal(v.stdout, '1.50\n', v.stderr);
      const r = await c.cli([...withCert(), 'run', '--rm', 'busybox', 'echo', 'hi']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const d = await c.cli([...withCert(), 'run', '-d', '--name', name, 'busybox', 'sleep', '300']);
      assert.equal(d.code, 0, d.stderr);
      const ps = await c.cli([...withCert(), 'ps', '--format', '{{.Names}}']);
      assert.equal(ps.stdout, `${name}\n`, ps.stderr);
      // stdin ends with a TLS close_notify; the output must still come back (a hijack over TLS).
      const ex = await c.cli([...withCert(), 'exec', '-i', name, 'cat'], { input: 'through TLS\n' });
      assert.equal(ex.stdout, 'through TLS\n', ex.stderr);
      const rm = await c.cli([...withCert(), 'rm', '-f', name]);
      assert.equal(rm.code, 0, rm.stderr);
    });
  }

  it('both CLIs take DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)', async () => {
    const dir = join(base, 'cert-path');
    await fs.mkdir(dir);
    await fs.copyFile(join(pki, 'ca.pem'), join(dir, 'ca.pem'));
    await fs.copyFile(join(pki, 'client-cert.pem'), join(dir, 'cert.pem'));
    await fs.copyFile(join(pki, 'client-key.pem'), join(dir, 'key.pem'));
    const env = { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
    const d = await dk(['ps', '-a', '--format', '{{.Names}}'], { env });
    assert.equal(d.code, 0, d.stderr);
    const s = await shoal(['ps', '-a', '--format', '{{.Names}}'], { env });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, d.stdout);
  });

  it('a client without a certificate is refused in the TLS handshake', async () => {
    const noCert = ['--tlsverify', '--tlscacert', join(pki, 'ca.pem')];
    failed(await dk([...noCert, 'ps']), /tls: certificate required/);
    const s = await shoal([...noCert, 'ps']);
    failed(s, /^TLS connection to tcp:\/\/127\.0\.0\.1:\d+ failed: the daemon requires a client certificate/);
    assert.equal(s.stderr.trim().split('\n').length, 1, 'one line');
    const c = new EngineClient(tcp, { tls: loadTlsFiles({ tlscacert: join(pki, 'ca.pem') }) });
    await assert.rejects(c.get('/_ping'), (e) => isShoalError(e, 'PERMISSION_DENIED'));
    c.close();
  });

  it('a client certificate from another CA is refused', async () => {
    const rogue = ['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(other, 'client-cert.pem'), '--tlskey', join(other, 'client-key.pem')];
    // Go's TLS sends no certificate the server's CA list does not name, so docker meets "certificate required".
    failed(await dk([...rogue, 'ps']), /tls: (certificate required|unknown certificate authority|bad certificate)/);
    // Node's server closes such a connection after the handshake, without an alert.
    failed(await shoal([...rogue, 'ps']), /^TLS connection to tcp:\/\/127\.0\.0\.1:\d+ failed: .*(refused the client certificate|drops clients whose certificate its --tlscacert did not sign)/);
    const c = new EngineClient(tcp, { tls: loadTlsFiles({ tlscacert: join(pki, 'ca.pem'), tlscert: join(other, 'client-cert.pem'), tlskey: join(other, 'client-key.pem') }) });
    await assert.rejects(c.get('/_ping'), (e) => isShoalError(e, 'PERMISSION_DENIED'));
    c.close();
    // And a client that trusts only the other CA does not accept the daemon either.
    const distrust = ['--tlsverify', '--tlscacert', join(other, 'ca.pem'), '--tlscert', join(pki, 'client-cert.pem'), '--tlskey', join(pki, 'client-key.pem')];
    failed(await shoal([...distrust, 'ps']), /the daemon's certificate is not signed by --tlscacert/);
    assert.match(logs, /"reason":"[A-Z_]*UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)[^"]*","msg":"TLS handshake refused"/);
  });

  it('plain HTTP to the port gets no API answer', async () => {
    const port = Number(tcp.split(':').pop());
    const answer = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/_ping' }, (res) => resolve(`HTTP ${res.statusCode} ${res.headers['api-version'] ?? ''}`));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.match(answer, /^(ECONNRESET|socket hang up)$/);
    failed(await dk(['ps']), /error during connect/);
    failed(await shoal(['ps']), /closed the connection without an answer .*requires TLS: give --tlsverify/);
  });

  it('the unix socket is unchanged: plain HTTP, no certificate', async () => {
    assert.equal(await local.get('/_ping'), 'OK');
    const r = await docker(`unix://${join(execRoot, 'shoal.sock')}`, ['version', '--format', '{{.Server.APIVersion}}'], { env: cliEnv() });
    assert.equal(r.stdout, '1.50\n', r.stderr);
  });

  it('shoal: a TLS file that is missing is one line naming the flag, exit 1', async () => {
    const r = await shoal(['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(base, 'nope.pem'), '--tlskey', join(pki, 'client-key.pem'), 'ps']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `--tlscert ${join(base, 'nope.pem')}: cannot read: no such file\n`);
  });
});

describe('shoald refuses an unauthenticated or broken TCP API at start', function () {
  this.timeout(60_000);
  let base: string;
  let pki: string;
  before(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'shoal-tls-refuse-'));
    pki = join(base, 'pki');
    await makeCa(pki, [{ name: 'server', cn: '127.0.0.1', ext: 'server' }]);
  });
  after(async () => {
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  /** Start shoald with a tcp host; it must exit 1 with one line and leave no socket, pid file or listener. */
  async function refused(extra: string[], message: RegExp): Promise<void> {
    const port = await freePort();
    const execRoot = join(base, `run-${port}`);
    const r = await runCli(process.execPath, [SHOALD, '--data-root', join(base, 'data'), '--exec-root', execRoot, '-H', `unix://${join(execRoot, 'shoal.sock')}`, '-H', `tcp://127.0.0.1:${port}`, ...extra.map((a) => a.replace('{port}', String(port)))]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.equal(existsSync(join(execRoot, 'shoal.sock')), false, 'no socket');
    assert.equal(existsSync(join(execRoot, 'shoald.pid')), false, 'no pid file');
    assert.equal(await accepts(port), false, 'nothing listens on the port');
  }

  it('a tcp:// host without --tlsverify', async () => {
    await refused([], /^shoald: refusing to serve the API on tcp:\/\/127\.0\.0\.1:\d+ without --tlsverify .*add --tlsverify with --tlscacert, --tlscert and --tlskey$/m);
  });

  it('--tls alone (HTTPS without client authentication), from flags or daemon.json', async () => {
    await refused(['--tls', '--tlscert', join(pki, 'server-cert.pem'), '--tlskey', join(pki, 'server-key.pem')], /^shoald: refusing to serve the API on tcp:\/\/127\.0\.0\.1:\d+ without --tlsverify \(--tls alone encrypts but lets any client in\)/m);
    const file = join(base, 'daemon.json');
    await fs.writeFile(file, JSON.stringify({ tls: true, tlsverify: false }));
    await refused(['--config-file', file], /refusing to serve the API on tcp:\/\/127\.0\.0\.1:\d+ without --tlsverify/);
  });

  it('TLS files that are missing, not PEM, or a key of another certificate: the flag is named', async () => {
    const ca = join(pki, 'ca.pem');
    const cert = join(pki, 'server-cert.pem');
    const key = join(pki, 'server-key.pem');
    await refused(['--tlsverify', '--tlscacert', join(base, 'missing.pem'), '--tlscert', cert, '--tlskey', key], /^shoald: --tlscacert .*missing\.pem: cannot read: no such file$/m);
    await refused(['--tlsverify', '--tlscacert', key, '--tlscert', cert, '--tlskey', key], /^shoald: --tlscacert .*server-key\.pem: no PEM certificate in the file$/m);
    await refused(['--tlsverify', '--tlscacert', ca, '--tlscert', cert, '--tlskey', join(pki, 'ca-key.pem')], /^shoald: --tlskey .*ca-key\.pem does not match --tlscert .*server-cert\.pem$/m);
    await refused(['--tlsverify', '--tlscacert', ca, '--tlscert', cert, '--tlskey', ca], /^shoald: --tlskey .*ca\.pem: not a valid PEM private key/m);
  });
});
