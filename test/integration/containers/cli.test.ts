import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as tar from 'tar';
import { join } from 'node:path';
import { ApiServer, Demuxer, Router } from '../../../shared/api';
import { EngineClient, readAll } from '../../../shared/client';
import { logger } from '../../../shared/log';
import { registerContainerRoutes } from '../../../worker/api/containers';
import { registerExecRoutes } from '../../../worker/api/exec';
import { registerSystemRoutes } from '../../../worker/api/system';
import { docker, runCli } from '../../helpers/docker';
import { eventually, makeStack, type Stack } from './fixture';

// The stock docker CLI against the container routes, served by an ApiServer over this
// test's own stack (until the daemon wires the module in, this is what shoald will serve).
describe('containers: docker CLI against the container routes', function () {
  this.timeout(60_000);
  let s: Stack;
  let server: ApiServer;
  let host: string;
  const dk = (...args: string[]) => docker(host, args);

  before(async () => {
    s = await makeStack();
    const router = new Router();
    registerSystemRoutes(router, { config: s.config, events: s.events, info: async () => ({ ...(await s.cm.info()) }) });
    registerContainerRoutes(router, { containers: s.cm });
    registerExecRoutes(router, { containers: s.cm });
    server = new ApiServer(router, logger('api'));
    const sock = join(s.config.execRoot, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    host = `unix://${sock}`;
  });
  after(async () => {
    await server?.close();
    await s?.destroy();
  });

  it('docker run --rm busybox echo hi', async () => {
    const r = await dk('run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0);
    assert.equal((await s.cm.list({ all: true })).length, 0, 'removed');
  });

  it('passes the exit code through, and separates stdout from stderr', async () => {
    const r = await dk('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.code, 7);
  });

  it('echo data | docker run -i busybox cat', async () => {
    const r = await runCli('docker', ['-H', host, 'run', '-i', '--rm', 'busybox', 'cat'], { input: 'data\nmore\n', env: { DOCKER_CONFIG: '/tmp/shoal-test-docker-config' } });
    assert.equal(r.stdout, 'data\nmore\n');
    assert.equal(r.code, 0);
  });

  it('docker run -t gives a terminal', async () => {
    const r = await dk('run', '--rm', '-t', 'busybox', 'sh', '-c', '[ -t 1 ] && echo tty');
    assert.equal(r.stdout, 'tty\r\n');
    assert.equal(r.code, 0);
  });

  it('docker run -it under a pty', async () => {
    const child = spawn('script', ['-qec', `docker -H ${host} run -it --rm --name ptyc busybox sh -c 'echo ready; read x; echo got:$x'`, '/dev/null'], { env: { ...process.env, DOCKER_CONFIG: '/tmp/shoal-test-docker-config' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      // Type only once the CLI has its terminal in raw mode and the container reads.
      assert.ok(await eventually(() => out.includes('ready')), out);
      child.stdin.write('hello\r');
      assert.equal(await exited, 0, out);
      assert.match(out, /got:hello/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await s.cm.remove('ptyc', { force: true }).catch(() => undefined);
    }
  });

  it('docker run -it detaches on ctrl-p ctrl-q and the container keeps running', async () => {
    const child = spawn('script', ['-qec', `docker -H ${host} run -it --name detacher busybox sh -c 'echo ready; while true; do sleep 1; done'`, '/dev/null'], { env: { ...process.env, DOCKER_CONFIG: '/tmp/shoal-test-docker-config' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      // The CLI puts its terminal in raw mode before it starts the container; only then do
      // ctrl-p ctrl-q reach it (a cooked tty would take ctrl-q as XON).
      assert.ok(await eventually(() => out.includes('ready')), 'container started');
      child.stdin.write('\x10\x11');
      assert.equal(await exited, 0, out);
      assert.equal(s.cm.get('detacher').State.Status, 'running');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await s.cm.remove('detacher', { force: true }).catch(() => undefined);
    }
  });

  it('a missing binary: exit 127 and the message', async () => {
    const r = await dk('run', '--rm', 'busybox', 'nope');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /exec: "nope": executable file not found in \$PATH/);
    assert.equal((await s.cm.list({ all: true })).length, 0, 'auto-removed after the failed start');
  });

  it('run -d, ps, logs, exec, stop, rm', async () => {
    const run = await dk('run', '-d', '--name', 'bg', 'busybox', 'sh', '-c', 'echo up; trap "exit 0" TERM; while true; do sleep 0.1; done');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await dk('ps', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^bg Up /m);
    assert.ok(await eventually(async () => (await dk('logs', 'bg')).stdout === 'up\n'));
    const ex = await dk('exec', 'bg', 'sh', '-c', 'echo in-exec; echo e >&2; exit 5');
    assert.equal(ex.stdout, 'in-exec\n', JSON.stringify(ex));
    assert.equal(ex.stderr, 'e\n');
    assert.equal(ex.code, 5);
    const exi = await runCli('docker', ['-H', host, 'exec', '-i', 'bg', 'cat'], { input: 'piped\n', env: { DOCKER_CONFIG: '/tmp/shoal-test-docker-config' } });
    assert.equal(exi.stdout, 'piped\n');
    const exm = await dk('exec', 'bg', 'nope');
    assert.notEqual(exm.code, 0);
    assert.match(exm.stdout + exm.stderr, /executable file not found/);
    const name = await dk('create', '--name', 'bg', 'busybox', 'true');
    assert.notEqual(name.code, 0);
    assert.match(name.stderr, new RegExp(`The container name "/bg" is already in use by container "${id}"`));
    const stop = await dk('stop', '-t', '5', 'bg');
    assert.equal(stop.code, 0, stop.stderr);
    const insp = JSON.parse((await dk('inspect', 'bg')).stdout)[0];
    assert.equal(insp.State.Status, 'exited');
    assert.equal(insp.State.ExitCode, 0);
    assert.equal(insp.Name, '/bg');
    assert.equal((await dk('rm', 'bg')).code, 0);
  });

  it('bad input: clear 4xx, nothing left behind', async () => {
    const m = await dk('run', '--rm', '-m', '1m', 'busybox', 'true');
    assert.equal(m.code, 125);
    assert.match(m.stderr, /Minimum memory limit allowed is 6MB/);
    const rp = await dk('create', '--restart', 'sometimes', 'busybox');
    assert.notEqual(rp.code, 0);
    const bind = await dk('create', '--mount', 'type=bind,source=/does/not/exist,target=/x', 'busybox', 'true');
    assert.notEqual(bind.code, 0);
    assert.match(bind.stderr, /invalid mount config for type "bind": bind source path does not exist: \/does\/not\/exist/);
    const img = await s.cm.create({ Image: 'no-such-image:1' }).catch((e: Error) => e);
    assert.match(String(img), /No such image: no-such-image:1/);
    assert.equal((await s.cm.list({ all: true })).length, 0);
  });

  it('the API answers with Docker\'s statuses and messages', async () => {
    const c = new EngineClient(host);
    try {
      const status = async (method: string, path: string, opts: Parameters<EngineClient['raw']>[2] = {}) => {
        const r = await c.raw(method, path, opts);
        const body = (await readAll(r.stream)).toString();
        return { status: r.status, body };
      };
      assert.deepEqual(await status('GET', '/containers/nope/json'), { status: 404, body: JSON.stringify({ message: 'No such container: nope' }) });
      const bad = await status('POST', '/containers/create', { body: Buffer.from('{not json'), headers: { 'Content-Type': 'application/json' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body, /invalid JSON/);
      assert.equal((await status('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 'lots' } } })).status, 400);
      assert.equal((await status('GET', '/containers/json', { query: { filters: JSON.stringify({ colour: ['red'] }) } })).status, 400);
      const { Id } = await c.post<{ Id: string }>('/containers/create', { query: { name: 'api1' }, body: { Image: 'busybox', Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; sleep 30'] } });
      const conflict = await status('POST', '/containers/create', { query: { name: 'api1' }, body: { Image: 'busybox', Cmd: ['true'] } });
      assert.equal(conflict.status, 409);
      assert.match(conflict.body, new RegExp(Id));
      assert.equal((await status('POST', `/containers/${Id}/stop`)).status, 304);
      assert.equal((await status('POST', `/containers/${Id}/start`)).status, 204);
      assert.equal((await status('POST', `/containers/${Id}/start`)).status, 304);
      assert.equal((await status('POST', `/containers/${Id}/stop`, { query: { t: 'soon' } })).status, 400);
      assert.equal((await status('POST', `/containers/${Id}/kill`, { query: { signal: 'SIGNOPE' } })).status, 400);
      assert.equal((await status('POST', `/containers/${Id}/wait`, { query: { condition: 'whenever' } })).status, 400);
      assert.equal((await status('DELETE', `/containers/${Id}`)).status, 409);
      assert.ok(await eventually(async () => (await status('GET', `/containers/${Id}/logs`, { query: { stdout: 1, stderr: 1 } })).body.includes('to-err')));
      const raw = await c.raw('GET', `/containers/${Id}/logs`, { query: { stdout: 1, stderr: 1 } });
      assert.equal(raw.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
      const frames = new Demuxer().push(await readAll(raw.stream));
      assert.deepEqual(frames.map((f) => [f.stream, f.data.toString()]).sort(), [[1, 'to-out\n'], [2, 'to-err\n']]);
      const diff = await c.get<Array<{ Path: string; Kind: number }> | null>(`/containers/${Id}/changes`);
      assert.equal(diff, null);
      assert.equal((await status('DELETE', `/containers/${Id}`, { query: { force: 1 } })).status, 204);
    } finally {
      c.close();
    }
  });

  it('docker stats --no-stream shows usage against the limit', async () => {
    const run = await dk('run', '-d', '--name', 'busy', '-m', '32m', 'busybox', 'sh', '-c', 'while :; do :; done');
    assert.equal(run.code, 0, run.stderr);
    const st = await dk('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', 'busy');
    assert.equal(st.code, 0, st.stderr);
    const m = /^busy (\d+\.\d+)% (\S+) \/ 32MiB (\d+)$/.exec(st.stdout.trim());
    assert.ok(m, st.stdout);
    assert.ok(Number(m[1]) > 1, `a busy loop uses CPU: ${m[1]}%`);
    assert.equal(m[3], '1');
    assert.equal((await dk('rm', '-f', 'busy')).code, 0);
  });

  it('docker cp in and out of running and stopped containers', async () => {
    const work = await fs.mkdtemp(join(s.base, 'cp-'));
    await fs.mkdir(join(work, 'tree/sub'), { recursive: true });
    await fs.writeFile(join(work, 'tree/sub/f.txt'), 'from host\n');
    const run = await dk('run', '-d', '--name', 'cp1', '-v', 'cpvol:/vol', 'busybox', 'sh', '-c', 'echo in-container > /made.txt; echo in-vol > /vol/v.txt; sleep 30');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(await eventually(async () => (await dk('exec', 'cp1', 'cat', '/vol/v.txt')).stdout === 'in-vol\n'));
    assert.equal((await dk('cp', 'cp1:/made.txt', join(work, 'made.txt'))).code, 0);
    assert.equal(await fs.readFile(join(work, 'made.txt'), 'utf8'), 'in-container\n');
    assert.equal((await dk('cp', 'cp1:/etc/hostname', join(work, 'hn'))).code, 0);
    assert.equal((await fs.readFile(join(work, 'hn'), 'utf8')).trim(), s.cm.get('cp1').Config.Hostname);
    assert.equal((await dk('cp', join(work, 'tree'), 'cp1:/tmp/')).code, 0);
    assert.equal((await dk('exec', 'cp1', 'cat', '/tmp/tree/sub/f.txt')).stdout, 'from host\n');
    assert.match((await dk('exec', 'cp1', 'stat', '-c', '%u', '/tmp/tree/sub/f.txt')).stdout, /^0$/m);
    const missing = await dk('cp', 'cp1:/no/such', join(work, 'x'));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such in container cp1/);
    await dk('stop', '-t', '0', 'cp1');
    assert.equal((await dk('cp', 'cp1:/vol/v.txt', join(work, 'v.txt'))).code, 0, 'from a volume of a stopped container');
    assert.equal(await fs.readFile(join(work, 'v.txt'), 'utf8'), 'in-vol\n');
    assert.equal((await dk('cp', 'cp1:/tmp/tree', join(work, 'back'))).code, 0, 'a directory from the rootfs of a stopped container');
    assert.equal(await fs.readFile(join(work, 'back/sub/f.txt'), 'utf8'), 'from host\n');
    assert.equal((await dk('rm', '-v', 'cp1')).code, 0);
    // An absolute symlink in the container points into the container, never the host.
    const hostSide = await fs.mkdtemp('/tmp/shoal-escape-');
    const esc = await dk('run', '-d', '--name', 'cp2', 'busybox', 'sh', '-c', `mkdir -p ${hostSide}; ln -s ${hostSide} /esc; sleep 30`);
    assert.equal(esc.code, 0, esc.stderr);
    assert.ok(await eventually(async () => (await dk('exec', 'cp2', 'ls', '-l', '/esc')).code === 0));
    assert.equal((await dk('cp', join(work, 'made.txt'), 'cp2:/esc/')).code, 0);
    // The CLI follows the link itself; the API must be safe when asked for the link's path.
    const c = new EngineClient(host);
    try {
      const body = await readAll(tar.c({ cwd: work }, ['made.txt']) as unknown as AsyncIterable<Buffer>);
      await c.request('PUT', '/containers/cp2/archive', { query: { path: '/esc' }, body, headers: { 'Content-Type': 'application/x-tar' } });
    } finally {
      c.close();
    }
    assert.deepEqual(await fs.readdir(hostSide), [], 'nothing written on the host');
    assert.equal((await dk('exec', 'cp2', 'cat', `${hostSide}/made.txt`)).stdout, 'in-container\n');
    await dk('rm', '-f', 'cp2');
    await fs.rm(hostSide, { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  });

  it('docker logs --tail and --timestamps, docker wait', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'for i in 1 2 3 4; do echo line$i; done; exit 2'] });
    await s.cm.start(Id);
    const w = await dk('wait', Id);
    assert.equal(w.stdout.trim(), '2');
    const tail = await dk('logs', '--tail', '2', Id);
    assert.equal(tail.stdout, 'line3\nline4\n');
    const ts = await dk('logs', '-t', '--tail', '1', Id);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line4\n$/);
    await dk('rm', Id);
  });
});
