import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, loadBusybox, type TestDaemon } from '../../helpers/daemon';
import { docker } from '../../helpers/docker';

// The client scenarios, end to end: the stock docker CLI 28, unchanged, against shoald.
describe('stock docker CLI against shoald', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let dir: string;
  const dk = (...args: string[]) => docker(d.host, args);

  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-dockercli-'));
  });
  after(async () => {
    await d?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('run --rm busybox echo hi', async () => {
    const r = await dk('run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const left = await dk('ps', '-aq');
    assert.equal(left.stdout.trim(), '', 'the --rm container is gone');
  });

  it('reports the container exit code and separates stderr', async () => {
    const r = await dk('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('run -d, ps, logs, exec (with stdin), stop, rm', async () => {
    const run = await dk('run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'echo started; exec sleep 300');
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await dk('ps', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps.stdout, /^svc Up /m);
    let logs = await dk('logs', 'svc');
    for (let i = 0; i < 50 && !logs.stdout.includes('started'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await dk('logs', 'svc');
    }
    assert.equal(logs.stdout, 'started\n');
    const ex = await dk('exec', 'svc', 'sh', '-c', 'echo $((6*7))');
    assert.equal(ex.stdout, '42\n');
    const stdin = await docker(d.host, ['exec', '-i', 'svc', 'cat'], { input: 'through stdin\n' });
    assert.equal(stdin.stdout, 'through stdin\n');
    const stop = await dk('stop', '-t', '1', 'svc');
    assert.equal(stop.code, 0, stop.stderr);
    // sleep is PID 1 and ignores SIGTERM, so the grace period ends in SIGKILL, as with dockerd.
    const state = await dk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'svc');
    assert.equal(state.stdout.trim(), 'exited 137');
    const rm = await dk('rm', 'svc');
    assert.equal(rm.code, 0, rm.stderr);
    const gone = await dk('inspect', 'svc');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such object: svc|No such container: svc/);
  });

  it('build -t, images, tag, save and load', async () => {
    await fs.writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\nCMD ["cat", "/built"]\n');
    const b = await docker(d.host, ['build', '-t', 'cli-test:1', dir]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Successfully tagged cli-test:1/);
    const r = await dk('run', '--rm', 'cli-test:1');
    assert.equal(r.stdout, 'built\n');
    const tag = await dk('tag', 'cli-test:1', 'cli-test:copy');
    assert.equal(tag.code, 0, tag.stderr);
    const imgs = await dk('images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.ok(imgs.stdout.includes('cli-test:1') && imgs.stdout.includes('cli-test:copy'), imgs.stdout);
    const tar = join(dir, 'img.tar');
    assert.equal((await dk('save', '-o', tar, 'cli-test:1')).code, 0);
    const id1 = (await dk('image', 'inspect', '-f', '{{.Id}}', 'cli-test:1')).stdout.trim();
    assert.equal((await dk('rmi', 'cli-test:1', 'cli-test:copy')).code, 0);
    const load = await dk('load', '-i', tar);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: cli-test:1/);
    assert.equal((await dk('image', 'inspect', '-f', '{{.Id}}', 'cli-test:1')).stdout.trim(), id1);
  });

  it('volume create, use from two containers, ls, rm', async () => {
    assert.equal((await dk('volume', 'create', 'vdata')).code, 0);
    assert.equal((await dk('run', '--rm', '-v', 'vdata:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f')).code, 0);
    const r = await dk('run', '--rm', '-v', 'vdata:/data:ro', 'busybox', 'cat', '/data/f');
    assert.equal(r.stdout, 'kept\n');
    const ls = await dk('volume', 'ls', '-q');
    assert.match(ls.stdout, /^vdata$/m);
    assert.equal((await dk('volume', 'rm', 'vdata')).code, 0);
  });

  it('network connect shows in the container and its /etc/hosts; containers resolve each other by name', async () => {
    assert.equal((await dk('network', 'create', 'appnet')).code, 0);
    assert.equal((await dk('run', '-d', '--name', 'db', '--network', 'appnet', 'busybox', 'sleep', '300')).code, 0);
    assert.equal((await dk('run', '-d', '--name', 'app', 'busybox', 'sleep', '300')).code, 0);
    const c = await dk('network', 'connect', 'appnet', 'app');
    assert.equal(c.code, 0, c.stderr);
    const ip = (await dk('inspect', '-f', '{{(index .NetworkSettings.Networks "appnet").IPAddress}}', 'app')).stdout.trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/, 'inspect shows the connected network');
    const hosts = await dk('exec', 'app', 'cat', '/etc/hosts');
    assert.ok(hosts.stdout.includes(ip), `/etc/hosts has the new address:\n${hosts.stdout}`);
    const ping = await dk('exec', 'app', 'ping', '-c', '1', '-W', '2', 'db');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal((await dk('network', 'disconnect', 'appnet', 'app')).code, 0);
    const after = (await dk('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'app')).stdout;
    assert.ok(!after.includes('appnet'), after);
    assert.equal((await dk('rm', '-f', 'app', 'db')).code, 0);
    assert.equal((await dk('network', 'rm', 'appnet')).code, 0);
  });

  it('refuses bad input with a clear message and leaves nothing', async () => {
    const before = (await dk('ps', '-aq')).stdout;
    const unknown = await dk('run', '--rm', 'no-such-image-here:1');
    assert.notEqual(unknown.code, 0);
    const mem = await dk('run', '--rm', '-m', '12x', 'busybox', 'true');
    assert.notEqual(mem.code, 0);
    assert.match(mem.stderr, /invalid/i);
    const bind = await dk('run', '--rm', '--mount', 'type=bind,src=/no/such/dir/here,dst=/x', 'busybox', 'true');
    assert.notEqual(bind.code, 0);
    assert.match(bind.stderr, /bind source path does not exist: \/no\/such\/dir\/here/);
    assert.equal((await dk('run', '-d', '--name', 'dup', 'busybox', 'sleep', '30')).code, 0);
    const dup = await dk('run', '-d', '--name', 'dup', 'busybox', 'true');
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /Conflict\. The container name "\/dup" is already in use/);
    assert.equal((await dk('rm', '-f', 'dup')).code, 0);
    assert.equal((await dk('ps', '-aq')).stdout, before, 'nothing half-created');
    assert.equal((await dk('version')).code, 0, 'shoald still serves');
  });
});
