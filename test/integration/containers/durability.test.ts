import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../shared/exec';
import { isMountPoint, mountOverlay } from '../../../worker/engine/rootfs';
import { collect, eventually, makeStack, runContainer, type Stack } from './fixture';

describe('containers: daemon restart survival and crash safety', function () {
  this.timeout(60_000);
  let s: Stack;

  before(async () => {
    s = await makeStack();
  });
  after(async () => {
    await s?.destroy();
  });

  const logText = async (id: string) => {
    let t = '';
    for await (const e of s.cm.logs(id, { stdout: true, stderr: true }).entries) t += e.data.toString();
    return t;
  };

  it('running containers keep running across a manager restart and are adopted', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'i=0; trap "exit 7" TERM; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done'] });
    await s.cm.start(Id);
    const pid = s.cm.get(Id).State.Pid;
    assert.ok(await eventually(async () => (await logText(Id)).includes('tick2')));
    const before = (await logText(Id)).split('\n').length;
    await s.reopen();
    // The process never noticed: same pid, still logging through its conmon.
    const rec = s.cm.get(Id);
    assert.equal(rec.State.Status, 'running');
    assert.equal(rec.State.Pid, pid);
    process.kill(pid, 0);
    assert.ok(await eventually(async () => (await logText(Id)).split('\n').length > before + 2), 'logs continue');
    const ex = s.cm.execCreate(Id, { AttachStdout: true, Cmd: ['echo', 'adopted'] }).Id;
    assert.equal((await collect((await s.cm.execStart(ex, { detach: false }))!)).stdout, 'adopted\n');
    await s.cm.stop(Id, { timeout: 5 });
    assert.equal(s.cm.get(Id).State.ExitCode, 7, 'the new manager sees the exit');
    await s.cm.remove(Id);
  });

  it('an exit while no manager watched is recorded on open; `always` comes back, `unless-stopped` stays stopped', async () => {
    const quitter = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'read x; exit 9'], OpenStdin: true, StdinOnce: true });
    const always = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
    const unless = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } } });
    for (const c of [quitter, always, unless]) await s.cm.start(c.Id);
    await s.cm.stop(always.Id, { timeout: 0 });
    await s.cm.stop(unless.Id, { timeout: 0 });
    const sess = await s.cm.attach(quitter.Id, { stdin: true, stdout: true, stderr: true, logs: false, stream: true });
    await s.cm.close();
    // The container exits while no manager is open: conmon records the code.
    await sess.write(Buffer.from('go\n'));
    sess.closeStdin();
    assert.ok(await eventually(() => existsSync(join(s.config.execRoot, 'exits', quitter.Id))));
    await s.reopen();
    assert.equal(s.cm.get(quitter.Id).State.Status, 'exited');
    assert.equal(s.cm.get(quitter.Id).State.ExitCode, 9);
    assert.ok(await eventually(() => s.cm.get(always.Id).State.Status === 'running'), 'always restarts with the daemon');
    assert.equal(s.cm.get(unless.Id).State.Status, 'exited', 'unless-stopped stopped by the user stays down');
    for (const c of [quitter, always, unless]) await s.cm.remove(c.Id, { force: true });
  });

  it('a half-made container (directory and mount, no record) is swept on open', async () => {
    const id = 'f'.repeat(64);
    const dir = join(s.config.dataRoot, 'containers', id);
    const img = await s.images.resolveForRun('busybox');
    await mountOverlay({ lowerDirs: img.layerDirs, upperDir: join(dir, 'upper'), workDir: join(dir, 'work'), target: join(dir, 'merged') });
    await fs.mkdir(join(s.config.execRoot, 'containers', id), { recursive: true });
    assert.ok(await isMountPoint(join(dir, 'merged')));
    await s.reopen();
    assert.equal(await isMountPoint(join(dir, 'merged')), false);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(join(s.config.execRoot, 'containers', id)), false);
    assert.equal((await s.cm.list({ all: true })).length, 0, 'nothing half-made in ps -a');
  });

  it('a failed create leaves no record, directory, mount or volume', async () => {
    const before = await fs.readdir(join(s.config.dataRoot, 'containers'));
    const vols = s.volumes.list().Volumes.length;
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], User: 'nosuchuser', HostConfig: { Binds: ['keepme:/data'] } }), /unable to find user nosuchuser/);
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], Volumes: { '/anon': {} }, HostConfig: { Binds: ['keepme2:/data'], Mounts: [{ Type: 'bind', Source: '/no/such/dir', Target: '/x' }] } }), /bind source path does not exist: \/no\/such\/dir/);
    await assert.rejects(s.cm.create({ Image: 'nosuchimage', Cmd: ['true'] }), /No such image: nosuchimage/);
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: -5 } }), /Memory/);
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: { Name: 'sometimes' as never, MaximumRetryCount: 0 } } }), /invalid restart policy/);
    assert.deepEqual(await fs.readdir(join(s.config.dataRoot, 'containers')), before);
    assert.equal(s.volumes.list().Volumes.length, vols, 'the named volume acquired for the failed create was released');
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(join(s.config.dataRoot, 'containers')), 'no container mounts');
  });

  it('volumes: named ones persist across containers; anonymous ones go with rm -v', async () => {
    const w = await runContainer(s.cm, { Cmd: ['sh', '-c', 'echo kept > /data/f; echo anon > /scratch/g'], Volumes: { '/scratch': {} }, HostConfig: { Binds: ['shared-vol:/data'] } });
    assert.equal(w.code, 0, w.stderr);
    const insp = s.cm.get(w.id);
    const anon = insp.Mounts.find((m) => m.Destination === '/scratch')!;
    assert.equal(anon.Type, 'volume');
    assert.ok(existsSync(join(anon.Source, 'g')));
    const r = await runContainer(s.cm, { Cmd: ['cat', '/data/f'], HostConfig: { Binds: ['shared-vol:/data:ro'] } });
    assert.equal(r.stdout, 'kept\n');
    const from = await runContainer(s.cm, { Cmd: ['sh', '-c', 'cat /data/f /scratch/g; touch /data/x 2>/dev/null || echo ro'], HostConfig: { VolumesFrom: [`${w.id}:ro`] } });
    assert.equal(from.stdout, 'kept\nanon\nro\n', '--volumes-from');
    await s.cm.remove(from.id, { volumes: true });
    await s.cm.remove(w.id, { volumes: true });
    await s.cm.remove(r.id, { volumes: true });
    assert.equal(existsSync(anon.Source), false, 'anonymous volume removed');
    const again = await runContainer(s.cm, { Cmd: ['cat', '/data/f'], HostConfig: { Binds: ['shared-vol:/data'] } });
    assert.equal(again.stdout, 'kept\n', 'named volume kept');
    await s.cm.remove(again.id, { volumes: true });
  });

  it('binds a host directory, read-only when asked', async () => {
    const host = join(s.base, 'hostdir');
    await fs.mkdir(host);
    await fs.writeFile(join(host, 'in.txt'), 'from host\n');
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'cat /h/in.txt; echo x > /h/out.txt 2>/dev/null || echo read-only'], HostConfig: { Mounts: [{ Type: 'bind', Source: host, Target: '/h', ReadOnly: true }] } });
    assert.equal(r.stdout, 'from host\nread-only\n');
    await s.cm.remove(r.id);
    await run('rm', ['-rf', host]);
  });
});

describe('containers: runc smoke test', function () {
  this.timeout(60_000);
  let s: Stack;
  before(async () => {
    s = await makeStack({ runtime: 'runc' });
  });
  after(async () => {
    await s?.destroy();
  });

  it('runs, limits, execs, stops and removes with runc', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'echo via runc; exit 5'], HostConfig: { Memory: 32 * 1024 * 1024 } });
    assert.equal(r.stdout, 'via runc\n');
    assert.equal(r.code, 5);
    assert.equal(s.cm.get(r.id).shoal.runtime, 'runc');
    await s.cm.remove(r.id);
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await s.cm.start(Id);
    const ex = s.cm.execCreate(Id, { AttachStdout: true, Cmd: ['echo', 'exec'] }).Id;
    assert.equal((await collect((await s.cm.execStart(ex, { detach: false }))!)).stdout, 'exec\n');
    await s.cm.stop(Id, { timeout: 0 });
    assert.equal(s.cm.get(Id).State.ExitCode, 137);
    await s.cm.remove(Id);
    const missing = await s.cm.create({ Image: 'busybox', Cmd: ['nope'] });
    await assert.rejects(s.cm.start(missing.Id), /exec: "nope": executable file not found in \$PATH/);
    assert.equal(s.cm.get(missing.Id).State.ExitCode, 127);
    await s.cm.remove(missing.Id);
  });
});
