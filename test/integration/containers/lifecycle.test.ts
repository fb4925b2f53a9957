import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { isShoalError } from '../../../shared/errors';
import { run } from '../../../shared/exec';
import { cgroups } from '../../../worker/engine/runtime';
import { isMountPoint, isOverlayMounted } from '../../../worker/engine/rootfs';
import { collect, eventually, makeStack, runContainer, type Stack } from './fixture';

function rejectsWith(code: string, re?: RegExp) {
  return (e: unknown) => {
    assert.ok(isShoalError(e), `expected a ShoalError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

describe('containers: lifecycle (crun + conmon + overlayfs)', function () {
  this.timeout(60_000);
  let s: Stack;

  before(async () => {
    s = await makeStack();
  });
  after(async () => {
    await s?.destroy();
  });

  it('runs a command and collects its output from the first byte, with its exit code', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 3'] });
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 3);
    const c = await s.cm.inspect(r.id);
    assert.equal((c.State as { Status: string }).Status, 'exited');
    assert.equal((c.State as { ExitCode: number }).ExitCode, 3);
    await s.cm.remove(r.id);
  });

  it('feeds stdin and ends it on half-close (docker run -i)', async () => {
    const r = await runContainer(s.cm, { Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true }, { stdin: 'data from stdin\n' });
    assert.equal(r.stdout, 'data from stdin\n');
    assert.equal(r.code, 0);
    await s.cm.remove(r.id);
  });

  it('reports 128+N for a signal and keeps logs', async () => {
    // Not the init of a pid namespace (which ignores signals it has no handler for): PidMode host.
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo started; sleep 30'], HostConfig: { PidMode: 'host' } });
    await s.cm.start(Id);
    await eventually(async () => (await fs.readFile(s.cm.get(Id).LogPath, 'utf8').catch(() => '')).includes('started'));
    await s.cm.kill(Id, 'SIGTERM');
    const w = await s.cm.wait(Id, 'not-running');
    assert.equal(w.StatusCode, 143);
    const lines: string[] = [];
    for await (const e of s.cm.logs(Id, { stdout: true, stderr: true }).entries) lines.push(e.data.toString());
    assert.deepEqual(lines, ['started\n']);
    await s.cm.remove(Id);
    const k = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await s.cm.start(k.Id);
    await s.cm.kill(k.Id);
    assert.equal(s.cm.get(k.Id).State.ExitCode, 137);
    await s.cm.remove(k.Id);
  });

  it('fails start of a missing binary with exit code 127 and docker\'s message', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['nope'] });
    await assert.rejects(s.cm.start(Id), rejectsWith('INVALID_ARGUMENT', /exec: "nope": executable file not found in \$PATH/));
    const st = s.cm.get(Id).State;
    assert.equal(st.ExitCode, 127);
    assert.match(st.Error, /executable file not found/);
    assert.equal(st.Status, 'created');
    await s.cm.remove(Id);
  });

  it('removal leaves no mount, cgroup, record or directory', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { Memory: 32 * 1024 * 1024 } });
    await s.cm.start(Id);
    const rec = s.cm.get(Id);
    const merged = `${s.config.dataRoot}/containers/${Id}/merged`;
    assert.ok(await isMountPoint(merged));
    assert.ok(await isOverlayMounted(merged), 'the stat-based check agrees with the mount table');
    assert.equal(await isOverlayMounted(`${s.config.dataRoot}/containers/${Id}`), false, 'the container directory itself is no overlay mount');
    const dirs = await cgroups.cgroupDirs(`${s.config.cgroupParent}/${Id}`);
    assert.ok(dirs.some(({ dir }) => require('node:fs').existsSync(dir)), 'cgroup exists while running');
    await s.cm.remove(Id, { force: true });
    assert.equal(await isMountPoint(merged), false);
    assert.equal(await isOverlayMounted(merged), false);
    assert.ok(dirs.every(({ dir }) => !require('node:fs').existsSync(dir)), 'cgroup removed');
    await assert.rejects(fs.stat(`${s.config.dataRoot}/containers/${Id}`));
    assert.throws(() => s.cm.get(Id), rejectsWith('NOT_FOUND'));
    assert.ok(rec.Name);
  });

  it('a started container is running in the runtime\'s own view, on the shared init layer', async () => {
    // start releases crun's exec fifo itself: crun must see the container as started.
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await s.cm.start(Id);
    const { stdout } = await run('crun', [`--root=${s.config.execRoot}/runtime-crun`, 'state', Id]);
    const st = JSON.parse(stdout) as { status: string; pid: number };
    assert.equal(st.status, 'running');
    assert.equal(st.pid, s.cm.get(Id).State.Pid);
    await assert.rejects(fs.stat(`${s.config.execRoot}/runtime-crun/${Id}/exec.fifo`));
    // Every container stacks the one init layer; none gets its own.
    const layers = s.cm.get(Id).shoal.layerDirs;
    assert.equal(layers[layers.length - 1], `${s.config.dataRoot}/init-layer`);
    assert.ok((await fs.stat(`${s.config.dataRoot}/init-layer/etc/hosts`)).isFile());
    await assert.rejects(fs.stat(`${s.config.dataRoot}/containers/${Id}/init`));
    await s.cm.remove(Id, { force: true });
  });

  it('an exit check that finds the container not yet running does not block later checks', async () => {
    // Regression: the watch event for the exit file can arrive before start marks the
    // container running; that early check must not leave a settled promise in its slot.
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['true'] });
    const live = (s.cm as unknown as { byId: Map<string, { exitCheck?: Promise<void> }> }).byId.get(Id)!;
    await (s.cm as unknown as { checkExit(c: unknown): Promise<void> }).checkExit(live);
    assert.equal(live.exitCheck, undefined);
    const w = s.cm.wait(Id, 'next-exit');
    await s.cm.start(Id);
    assert.deepEqual(await w, { StatusCode: 0 });
    await s.cm.remove(Id);
  });

  it('attach before start sees output of a process that exits at once', async () => {
    for (let i = 0; i < 3; i++) {
      const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['echo', `fast ${i}`], AttachStdout: true });
      const session = await s.cm.attach(Id, { stdin: false, stdout: true, stderr: true, logs: false, stream: true });
      const out = collect(session);
      await s.cm.start(Id);
      assert.equal((await out).stdout, `fast ${i}\n`);
      await s.cm.remove(Id, { force: true });
    }
  });
});
