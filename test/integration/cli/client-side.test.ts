// The CLI's own behaviour (exit codes, error texts, progress rendering, hijacked streams,
// build context) against a small in-test API server on a unix socket: a test of the client.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import * as tar from 'tar';
import { ApiServer, Router, frame, StreamType, type ApiContext } from '../../../shared/api';
import { logger } from '../../../shared/log';
import { conflict, invalid, notFound } from '../../../shared/errors';
import { shoal } from './helpers';
import { SHOAL } from '../../helpers/daemon';

function readBytes(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) {
        s.off('data', onData);
        s.pause();
        if (buf.length > n) s.unshift(buf.subarray(n));
        resolve(buf.subarray(0, n));
      }
    };
    if (n === 0) resolve(buf);
    else s.on('data', onData);
  });
}

interface Call {
  method: string;
  path: string;
  query: Record<string, string[]>;
  body?: unknown;
}

describe('shoal CLI client behaviour (in-test API server)', function () {
  this.timeout(30_000);
  let dir: string;
  let host: string;
  let server: ApiServer;
  let router: Router;
  let calls: Call[];
  let handlers: Map<string, (ctx: ApiContext) => unknown>;

  const record = async (ctx: ApiContext, withBody = true): Promise<unknown> => {
    const url = new URL(ctx.req.url ?? '/', 'http://x');
    const query: Record<string, string[]> = {};
    for (const k of url.searchParams.keys()) query[k] = url.searchParams.getAll(k);
    const body = withBody && ctx.header('content-type')?.includes('json') ? await ctx.json() : undefined;
    calls.push({ method: ctx.method, path: ctx.path, query, body });
    return body;
  };
  /** Route every request to the handler registered for "METHOD /path" in this test. */
  const dispatch = async (ctx: ApiContext) => {
    const key = `${ctx.method} ${ctx.path}`;
    const h = handlers.get(key);
    if (!h) {
      await record(ctx);
      throw notFound(`no handler for ${key}`);
    }
    await h(ctx);
  };
  const on = (key: string, h: (ctx: ApiContext) => unknown) => handlers.set(key, h);

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-cli-'));
    host = `unix://${join(dir, 'api.sock')}`;
    router = new Router();
    for (const m of ['get', 'post', 'delete', 'head'] as const) router[m]('/:path*', dispatch);
    const log = logger('cli-test');
    log.level = 'silent';
    server = new ApiServer(router, log);
    await server.listen([{ kind: 'unix', address: join(dir, 'api.sock') }]);
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    calls = [];
    handlers = new Map();
  });

  it('reports a daemon that is down, exit 1 (125 for run)', async () => {
    const down = `unix://${join(dir, 'nobody-here.sock')}`;
    const ps = await shoal(down, ['ps']);
    assert.equal(ps.code, 1);
    assert.equal(ps.stdout, '');
    assert.equal(ps.stderr, `Cannot connect to the shoal daemon at ${down}. Is shoald running?\n`);
    const run = await shoal(down, ['run', 'busybox']);
    assert.equal(run.code, 125);
    assert.equal(run.stderr, `shoal: Cannot connect to the shoal daemon at ${down}. Is shoald running?\n`);
  });

  it('prints daemon errors and goes on with the other names', async () => {
    on('GET /containers/json', () => {
      throw conflict('something is locked');
    });
    const ps = await shoal(host, ['ps']);
    assert.deepEqual([ps.code, ps.stdout, ps.stderr], [1, '', 'Error response from daemon: something is locked\n']);
    on('DELETE /containers/gone', () => {
      throw notFound('No such container: gone');
    });
    on('DELETE /containers/here', async (ctx) => {
      await record(ctx);
      ctx.noContent();
    });
    const rm = await shoal(host, ['rm', '-f', '-v', 'gone', 'here']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stdout, 'here\n');
    assert.equal(rm.stderr, 'Error response from daemon: No such container: gone\n');
    assert.deepEqual(calls[0].query, { force: ['1'], v: ['1'] });
  });

  it('usage errors: commander\'s message, exit 1, or 125 for run/create', async () => {
    const ps = await shoal(host, ['ps', '--bar']);
    assert.equal(ps.code, 1);
    assert.match(ps.stderr, /unknown option '--bar'/);
    const run = await shoal(host, ['run', '--foo', 'busybox']);
    assert.equal(run.code, 125);
    const mem = await shoal(host, ['create', '-m', '12x', 'busybox']);
    assert.equal(mem.code, 125);
    assert.equal(mem.stderr, `invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'\nSee 'shoal create --help'.\n`);
    const port = await shoal(host, ['run', '-p', '99999:80', 'busybox']);
    assert.equal(port.code, 125);
    assert.match(port.stderr, /^shoal: invalid hostPort: 99999\n/);
    assert.equal(calls.length, 0, 'nothing reaches the daemon');
    const noArg = await shoal(host, ['rm']);
    assert.equal(noArg.code, 1);
    assert.match(noArg.stderr, /missing required argument/);
  });

  /** A container whose attach stream and exit the test controls. */
  function fakeContainer(opts: { exitCode: number; output?: (socket: Duplex) => void; startError?: string; echoStdin?: boolean }) {
    let attach: Duplex | undefined;
    let exited!: () => void;
    const exit = new Promise<void>((r) => (exited = r));
    let created = 0;
    on('POST /containers/create', async (ctx) => {
      await record(ctx);
      if (created++ === 0 && !ctx.query.has('name')) throw notFound('No such image: busybox:latest');
      ctx.send(201, { Id: 'c0ffee', Warnings: ['memory is tight'] });
    });
    on('POST /images/create', async (ctx) => {
      await record(ctx, false);
      const out = ctx.stream();
      out.writeJson({ status: 'Pulling from library/busybox', id: 'latest' });
      out.writeJson({ status: 'Downloading', id: 'abc', progressDetail: { current: 1, total: 2 }, progress: '[==>  ]' });
      out.writeJson({ status: 'Pull complete', id: 'abc', progressDetail: {} });
      out.writeJson({ status: 'Status: Downloaded newer image for busybox:latest' });
      out.end();
    });
    on('POST /containers/c0ffee/attach', async (ctx) => {
      await record(ctx);
      attach = ctx.hijack();
      if (opts.echoStdin) {
        attach.on('data', (d: Buffer) => attach!.write(frame(StreamType.Stdout, d)));
        attach.on('end', () => {
          attach!.end(frame(StreamType.Stderr, Buffer.from('stdin closed\n')));
          exited();
        });
      }
    });
    on('POST /containers/c0ffee/wait', async (ctx) => {
      await record(ctx);
      const out = ctx.stream();
      await exit;
      out.writeJson({ StatusCode: opts.exitCode, Error: null });
      out.end();
    });
    on('POST /containers/c0ffee/start', async (ctx) => {
      await record(ctx);
      if (opts.startError) throw invalid(opts.startError);
      ctx.noContent();
      if (attach && opts.output) {
        opts.output(attach);
        attach.end();
        exited();
      } else if (!opts.echoStdin) exited();
    });
  }

  it('run: pulls a missing image, attaches, waits, starts, demultiplexes and exits with the container code', async () => {
    fakeContainer({
      exitCode: 3,
      output: (s) => {
        s.write(frame(StreamType.Stdout, Buffer.from('hello ')));
        s.write(frame(StreamType.Stderr, Buffer.from('oops\n')));
        s.write(frame(StreamType.Stdout, Buffer.from('world\n')));
      },
    });
    const r = await shoal(host, ['run', 'busybox', 'sh', '-c', 'echo hello world; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hello world\n');
    assert.equal(
      r.stderr,
      "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nabc: Pull complete\nStatus: Downloaded newer image for busybox:latest\nWARNING: memory is tight\noops\n",
    );
    const order = calls.map((c) => `${c.method} ${c.path}`);
    assert.deepEqual(order, ['POST /containers/create', 'POST /images/create', 'POST /containers/create', 'POST /containers/c0ffee/attach', 'POST /containers/c0ffee/wait', 'POST /containers/c0ffee/start']);
    assert.deepEqual(calls[1].query, { fromImage: ['docker.io/library/busybox'], tag: ['latest'] });
    assert.deepEqual(calls[3].query, { stream: ['1'], stdout: ['1'], stderr: ['1'] });
    assert.deepEqual(calls[4].query, { condition: ['next-exit'] });
    assert.deepEqual((calls[0].body as { Cmd: string[] }).Cmd, ['sh', '-c', 'echo hello world; exit 3']);
  });

  it('run --rm waits for removal; run -i forwards stdin and half-closes it', async () => {
    fakeContainer({ exitCode: 0, echoStdin: true });
    const r = await shoal(host, ['run', '--rm', '-i', '--name', 'x', 'busybox', 'cat'], { input: 'ping\npong\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ping\npong\n');
    assert.match(r.stderr, /stdin closed\n$/);
    const wait = calls.find((c) => c.path.endsWith('/wait'))!;
    assert.deepEqual(wait.query, { condition: ['removed'] });
    const attach = calls.find((c) => c.path.endsWith('/attach'))!;
    assert.deepEqual(attach.query, { stream: ['1'], stdin: ['1'], stdout: ['1'], stderr: ['1'] });
    const body = calls[0].body as { AutoRemove?: boolean; OpenStdin: boolean; StdinOnce: boolean; HostConfig: { AutoRemove: boolean } };
    assert.equal(body.HostConfig.AutoRemove, true);
    assert.equal(body.OpenStdin, true);
    assert.equal(body.StdinOnce, true);
  });

  it('run: 127 when the command is not found, 126 when it cannot be invoked', async () => {
    fakeContainer({ exitCode: 0, startError: 'failed to create task: exec: "nope": executable file not found in $PATH' });
    const r = await shoal(host, ['run', '--name', 'x', 'busybox', 'nope']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^shoal: Error response from daemon: failed to create task: exec: "nope": executable file not found in \$PATH\n/m);
    handlers.clear();
    fakeContainer({ exitCode: 0, startError: 'exec: "/etc": permission denied' });
    const d = await shoal(host, ['run', '-d', '--name', 'x', 'busybox', '/etc']);
    assert.equal(d.code, 126);
  });

  it('run -it on a terminal: raw mode, console size, resize, raw (undemultiplexed) output', async function () {
    if (!existsSync('/usr/bin/script')) this.skip();
    let created: { Tty?: boolean; OpenStdin?: boolean; HostConfig?: { ConsoleSize?: number[] } } | undefined;
    const resizes: string[] = [];
    let done!: () => void;
    const exited = new Promise<void>((r) => (done = r));
    on('POST /containers/create', async (ctx) => {
      created = (await record(ctx)) as typeof created;
      ctx.send(201, { Id: 'c0ffee', Warnings: [] });
    });
    on('POST /containers/c0ffee/attach', async (ctx) => {
      const s = ctx.hijack();
      s.write('ready> ');
      s.on('data', (d: Buffer) => {
        s.write(`[${d.toString('hex')}]`);
        if (d.includes(0x71)) {
          s.end();
          done();
        }
      });
    });
    on('POST /containers/c0ffee/wait', async (ctx) => {
      const out = ctx.stream();
      await exited;
      out.writeJson({ StatusCode: 0 });
      out.end();
    });
    on('POST /containers/c0ffee/start', (ctx) => ctx.noContent());
    on('POST /containers/c0ffee/resize', async (ctx) => {
      resizes.push(`${ctx.query.str('h')}x${ctx.query.str('w')}`);
      ctx.noContent();
    });
    // script(1) gives the CLI a pseudo-terminal of 40 rows and 100 columns.
    const inner = `stty rows 40 cols 100; exec ${process.execPath} ${SHOAL} -H ${host} run -it --name tty busybox sh`;
    const p = spawn('script', ['-qec', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    const closed = new Promise<number | null>((r) => p.on('close', r));
    while (!out.includes('ready> ')) await new Promise((r) => setTimeout(r, 20));
    p.stdin.write('ab');
    while (!out.includes('[6162]')) await new Promise((r) => setTimeout(r, 20));
    p.stdin.write('q');
    const code = await closed;
    assert.equal(code, 0, out);
    assert.match(out, /ready> \[6162\]\[71\]/, 'typed keys reach the container unbuffered (raw mode) and come back as is');
    assert.equal(created?.Tty, true);
    assert.equal(created?.OpenStdin, true);
    assert.deepEqual(created?.HostConfig?.ConsoleSize, [40, 100]);
    assert.ok(resizes.includes('40x100'), `resize sent: ${resizes.join(',')}`);
  });

  it('run -it: ctrl-p ctrl-q detaches and leaves the container running', async function () {
    if (!existsSync('/usr/bin/script')) this.skip();
    const received: Buffer[] = [];
    let attachClosed = false;
    let waitAbandoned = false;
    on('POST /containers/create', (ctx) => ctx.send(201, { Id: 'c0ffee', Warnings: [] }));
    on('POST /containers/c0ffee/attach', async (ctx) => {
      const s = ctx.hijack();
      s.write('ready> ');
      s.on('data', (d: Buffer) => {
        received.push(d);
        s.write('.');
      });
      s.on('error', () => undefined); // the CLI drops the connection when it detaches
      s.on('close', () => (attachClosed = true));
    });
    on('POST /containers/c0ffee/wait', async (ctx) => {
      const out = ctx.stream();
      // The container never exits: only the CLI going away ends this wait.
      await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
      waitAbandoned = true;
      out.end();
    });
    on('POST /containers/c0ffee/start', (ctx) => ctx.noContent());
    on('POST /containers/c0ffee/resize', (ctx) => ctx.noContent());
    const inner = `stty rows 24 cols 80; exec ${process.execPath} ${SHOAL} -H ${host} run -it busybox sh`;
    const p = spawn('script', ['-qec', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    const closed = new Promise<number | null>((r) => p.on('close', r));
    while (!out.includes('ready> ')) await new Promise((r) => setTimeout(r, 20));
    // ctrl-p followed by something else is passed on; ctrl-p ctrl-q is not
    p.stdin.write('a\x10b');
    while (Buffer.concat(received).toString('latin1') !== 'a\x10b') await new Promise((r) => setTimeout(r, 20));
    p.stdin.write('c\x10\x11');
    assert.equal(await closed, 0, out);
    assert.equal(Buffer.concat(received).toString('latin1'), 'a\x10bc');
    while (!attachClosed || !waitAbandoned) await new Promise((r) => setTimeout(r, 20));
  });

  it('run -d prints the ID and does not attach', async () => {
    fakeContainer({ exitCode: 0 });
    const r = await shoal(host, ['run', '-d', '--name', 'x', 'busybox', 'sleep', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'c0ffee\n');
    assert.deepEqual(
      calls.map((c) => c.path),
      ['/containers/create', '/containers/c0ffee/start'],
    );
  });

  it('run: a create refused by the daemon is exit 125', async () => {
    on('POST /containers/create', () => {
      throw conflict('Conflict. The container name "/x" is already in use');
    });
    const r = await shoal(host, ['run', '--name', 'x', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'shoal: Error response from daemon: Conflict. The container name "/x" is already in use\n');
  });

  it('pull: status lines on stdout; an errorDetail is the message on stderr and exit 1', async () => {
    on('POST /images/create', async (ctx) => {
      await record(ctx, false);
      const out = ctx.stream();
      out.writeJson({ status: 'Pulling from x/y', id: '1' });
      out.writeJson({ errorDetail: { message: 'manifest for x/y:1 not found' }, error: 'manifest for x/y:1 not found' });
      out.end();
    });
    const r = await shoal(host, ['pull', 'localhost:5000/x/y:1']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '1: Pulling from x/y\n', 'manifest for x/y:1 not found\n']);
    assert.deepEqual(calls[0].query, { fromImage: ['localhost:5000/x/y'], tag: ['1'] });
    handlers.clear();
    on('POST /images/create', async (ctx) => {
      const out = ctx.stream();
      out.writeJson({ status: 'Digest: sha256:abc' });
      out.end();
    });
    const ok = await shoal(host, ['pull', 'busybox']);
    assert.deepEqual([ok.code, ok.stdout], [0, 'Using default tag: latest\nDigest: sha256:abc\ndocker.io/library/busybox:latest\n']);
  });

  it('build: packs the context with node-tar, passes the flags, prints the stream; -q prints the ID', async () => {
    const ctxDir = join(dir, 'ctx');
    await fs.mkdir(join(ctxDir, 'sub'), { recursive: true });
    await fs.writeFile(join(ctxDir, 'Dockerfile'), 'FROM busybox\nCOPY sub /sub\n');
    await fs.writeFile(join(ctxDir, 'sub', 'file.txt'), 'data');
    await fs.writeFile(join(dir, 'Outside.Dockerfile'), 'FROM busybox\n');
    const entries: string[][] = [];
    on('POST /build', async (ctx) => {
      await record(ctx, false);
      const names: string[] = [];
      const parser = new tar.Parser({ onReadEntry: (e) => { names.push(e.path); e.resume(); } });
      for await (const chunk of ctx.body()) parser.write(chunk as Buffer);
      parser.end();
      entries.push(names.sort());
      const out = ctx.stream();
      out.writeJson({ stream: 'Step 1/2 : FROM busybox\n' });
      out.writeJson({ stream: ' ---> 1234\n' });
      out.writeJson({ aux: { ID: 'sha256:feed' } });
      out.writeJson({ stream: 'Successfully built feed\n' });
      out.end();
    });
    const r = await shoal(host, ['build', '-t', 'app:1', '-t', 'app:latest', '--build-arg', 'A=1', '--build-arg', 'FROMENV', '--no-cache', '--label', 'k=v', '--target', 't1', '.'], { cwd: ctxDir, env: { FROMENV: 'yes' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Step 1/2 : FROM busybox\n ---> 1234\nSuccessfully built feed\n');
    assert.deepEqual(entries[0], ['Dockerfile', 'sub/', 'sub/file.txt']);
    assert.deepEqual(calls[0].query, { t: ['app:1', 'app:latest'], dockerfile: ['Dockerfile'], buildargs: ['{"A":"1","FROMENV":"yes"}'], labels: ['{"k":"v"}'], nocache: ['1'], target: ['t1'], version: ['1'] });
    const q = await shoal(host, ['build', '-q', '-f', join(dir, 'Outside.Dockerfile'), ctxDir]);
    assert.deepEqual([q.code, q.stdout], [0, 'sha256:feed\n']);
    const extra = entries[1].find((n) => n.startsWith('.dockerfile.'));
    assert.ok(extra, `Dockerfile from outside the context is sent as an extra entry: ${entries[1].join(',')}`);
    assert.equal(calls[1].query.dockerfile[0], extra);
    assert.equal(calls[1].query.q[0], '1');
    const stdin = await shoal(host, ['build', '-'], { input: 'FROM busybox\n' });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.deepEqual(entries[2], ['Dockerfile']);
  });

  it('build: a failing step is its message on stderr and exit 1', async () => {
    on('POST /build', async (ctx) => {
      await ctx.bodyBuffer();
      const out = ctx.stream();
      out.writeJson({ stream: 'Step 1/1 : RUN exit 3\n' });
      out.writeJson({ errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
      out.end();
    });
    const r = await shoal(host, ['build', '-'], { input: 'FROM busybox\nRUN exit 3\n' });
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, 'Step 1/1 : RUN exit 3\n', "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n"]);
  });

  it('logs: stdout and stderr frames go to stdout and stderr; since is converted to a timestamp', async () => {
    on('GET /containers/web/json', (ctx) => ctx.json200({ Id: 'c1', Config: { Tty: false } }));
    on('GET /containers/c1/logs', async (ctx) => {
      await record(ctx);
      const out = ctx.stream('application/vnd.docker.multiplexed-stream');
      out.write(frame(StreamType.Stdout, Buffer.from('line 1\n')));
      out.write(frame(StreamType.Stderr, Buffer.from('warn 1\n')));
      out.write(frame(StreamType.Stdout, Buffer.from('line 2\n')));
      out.end();
    });
    const before = Math.floor(Date.now() / 1000);
    const r = await shoal(host, ['logs', '--tail', '5', '--since', '10m', '-t', 'web']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'line 1\nline 2\n', 'warn 1\n']);
    const q = calls[0].query;
    assert.deepEqual([q.stdout, q.stderr, q.tail, q.timestamps], [['1'], ['1'], ['5'], ['1']]);
    const since = Number(q.since[0]);
    assert.ok(since >= before - 600 - 1 && since <= before - 600 + 5, `since ${since}`);
  });

  it('exec: hijacked start, exit code from the exec inspect', async () => {
    on('POST /containers/web/exec', async (ctx) => {
      await record(ctx);
      ctx.send(201, { Id: 'e1' });
    });
    let startBody: unknown;
    on('POST /exec/e1/start', async (ctx) => {
      // On an Upgrade request the JSON body follows the headers on the hijacked socket.
      const len = Number(ctx.header('content-length') ?? 0);
      const s = ctx.hijack();
      startBody = JSON.parse((await readBytes(s, len)).toString());
      s.end(frame(StreamType.Stdout, Buffer.from('in the container\n')));
    });
    on('GET /exec/e1/json', (ctx) => ctx.json200({ ExitCode: 7, Running: false }));
    const r = await shoal(host, ['exec', '-e', 'A=1', '-w', '/tmp', '-u', 'nobody', 'web', 'sh', '-c', 'exit 7']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [7, 'in the container\n', '']);
    assert.deepEqual(calls[0].body, { User: 'nobody', Privileged: false, Tty: false, AttachStdin: false, AttachStderr: true, AttachStdout: true, Detach: false, DetachKeys: '', Env: ['A=1'], WorkingDir: '/tmp', Cmd: ['sh', '-c', 'exit 7'] });
    assert.deepEqual(startBody, { Detach: false, Tty: false });
  });

  it('ps: docker\'s table, -q, --format and filters', async () => {
    const now = Math.floor(Date.now() / 1000);
    on('GET /containers/json', async (ctx) => {
      await record(ctx);
      ctx.json200([
        { Id: 'a'.repeat(64), Names: ['/web'], Image: 'busybox', ImageID: 'sha256:' + 'b'.repeat(64), Command: 'sleep 1000', Created: now - 300, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }], Labels: { tier: 'front' }, State: 'running', Status: 'Up 5 minutes' },
      ]);
    });
    const r = await shoal(host, ['ps', '-a', '-f', 'status=running']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'CONTAINER ID   IMAGE     COMMAND        CREATED         STATUS         PORTS                  NAMES\n' + 'aaaaaaaaaaaa   busybox   "sleep 1000"   5 minutes ago   Up 5 minutes   0.0.0.0:8080->80/tcp   web\n',
    );
    assert.deepEqual(calls[0].query, { all: ['1'], filters: ['{"status":{"running":true}}'] });
    assert.equal((await shoal(host, ['ps', '-q'])).stdout, 'aaaaaaaaaaaa\n');
    assert.equal((await shoal(host, ['container', 'ls', '--no-trunc', '-q'])).stdout, `${'a'.repeat(64)}\n`);
    assert.equal((await shoal(host, ['ps', '--format', '{{.Names}} {{.Label "tier"}} {{json .State}}'])).stdout, 'web front "running"\n');
    assert.equal((await shoal(host, ['ps', '--format', 'table {{.Names}}\\t{{.Status}}'])).stdout, 'NAMES     STATUS\nweb       Up 5 minutes\n');
    const bad = await shoal(host, ['ps', '--format', '{{.Names']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^template parsing error: template: :1: unclosed action\n$/);
  });

  it('inspect: indented JSON, templates, not-found errors after the output', async () => {
    on('GET /containers/web/json', (ctx) => ctx.json200({ Id: 'c1', Name: '/web', State: { Running: true, Pid: 9 } }));
    on('GET /containers/nope/json', () => {
      throw notFound('No such container: nope');
    });
    on('GET /images/nope/json', () => {
      throw notFound('No such image: nope');
    });
    on('GET /networks/nope', () => {
      throw notFound('network nope not found');
    });
    on('GET /volumes/nope', () => {
      throw notFound('get nope: no such volume');
    });
    const r = await shoal(host, ['inspect', 'web']);
    assert.equal(r.stdout, '[\n    {\n        "Id": "c1",\n        "Name": "/web",\n        "State": {\n            "Running": true,\n            "Pid": 9\n        }\n    }\n]\n');
    const f = await shoal(host, ['container', 'inspect', '-f', '{{.State.Pid}} {{.Name}}', 'web', 'nope']);
    assert.deepEqual([f.code, f.stdout, f.stderr], [1, '9 /web\n', 'Error response from daemon: No such container: nope\n']);
    const any = await shoal(host, ['inspect', 'nope']);
    assert.deepEqual([any.code, any.stdout, any.stderr], [1, '[]\n', 'Error: No such object: nope\n']);
    const bad = await shoal(host, ['inspect', '-f', '{{.State.Pid', 'web']);
    assert.equal(bad.code, 64);
  });
});
