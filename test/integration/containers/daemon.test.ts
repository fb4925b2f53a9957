import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { docker, runCli } from '../../helpers/docker';
import { loadBusybox, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { eventually } from './fixture';

// Through a real shoald (test/helpers/daemon.ts): the stock CLI, and containers that outlive
// the daemon (SIGTERM and SIGKILL) and are adopted by the next one.
describe('containers: through shoald, across daemon restarts', function () {
  this.timeout(90_000);
  let d: TestDaemon;
  let cgroupParent: string;
  const dk = (...args: string[]) => docker(d.host, args);
  const inspect = async (ref: string) => JSON.parse((await dk('inspect', ref)).stdout)[0];

  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
    cgroupParent = d.proc.spawnargs[d.proc.spawnargs.indexOf('--cgroup-parent') + 1];
  });
  after(async () => {
    await d?.destroy();
    // With no containers left, the daemon removes its cgroup parent when it stops.
    assert.ok(!existsSync(`/sys/fs/cgroup/memory${cgroupParent}`), 'cgroup parent removed');
  });

  it('docker run --rm busybox echo hi', async () => {
    const r = await dk('run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.stdout, 'hi\n', r.stderr);
    assert.equal(r.code, 0);
    const p = await runCli('docker', ['-H', d.host, 'run', '-i', '--rm', 'busybox', 'cat'], { input: 'data\n', env: { DOCKER_CONFIG: '/tmp/shoal-test-docker-config' } });
    assert.equal(p.stdout, 'data\n');
  });

  it('a container keeps running through a daemon restart (SIGTERM) and is adopted', async () => {
    const run = await dk('run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'trap "exit 3" TERM; i=0; while true; do echo n$i; i=$((i+1)); sleep 0.1; done');
    assert.equal(run.code, 0, run.stderr);
    const pid = (await inspect('survivor')).State.Pid;
    await d.stop();
    process.kill(pid, 0); // still alive with no daemon
    await d.restart();
    const after = await inspect('survivor');
    assert.equal(after.State.Status, 'running');
    assert.equal(after.State.Pid, pid);
    const ex = await dk('exec', 'survivor', 'echo', 'still here');
    assert.equal(ex.stdout, 'still here\n');
    const logs = (await dk('logs', 'survivor')).stdout;
    assert.match(logs, /^n0\nn1\n/);
    assert.equal((await dk('stop', 'survivor')).code, 0);
    assert.equal((await inspect('survivor')).State.ExitCode, 3);
    assert.equal((await dk('rm', 'survivor')).code, 0);
  });

  it('a container that exits while the daemon is dead (SIGKILL) is seen exited by the next one; always restarts it', async () => {
    const quick = await dk('run', '-d', '--name', 'quick', 'busybox', 'sh', '-c', 'sleep 1; exit 6');
    const always = await dk('run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; exit 1');
    assert.equal(quick.code + always.code, 0);
    await d.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await d.restart();
    const q = await inspect('quick');
    assert.equal(q.State.Status, 'exited');
    assert.equal(q.State.ExitCode, 6);
    assert.ok(await eventually(async () => (await inspect('always')).RestartCount >= 1), 'always container restarted');
    assert.equal((await dk('rm', '-f', 'quick', 'always')).code, 0);
  });
});
