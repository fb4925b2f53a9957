import assert from 'node:assert/strict';
import { startDaemon, loadBusybox, type TestDaemon } from '../helpers/daemon';
import { docker } from '../helpers/docker';

interface Inspect {
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// kill -9 of shoald: containers are held by their conmon monitors, not by the daemon.
describe('fault: shoald killed with SIGKILL while containers run', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
  });
  after(async () => d?.destroy());

  it('keeps containers running, and the new daemon adopts them with their logs and exit codes', async () => {
    const long = await docker(d.host, ['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
    assert.equal(long.code, 0, long.stderr);
    const short = await docker(d.host, ['run', '-d', '--name', 'exits-while-down', 'busybox', 'sh', '-c', 'sleep 2; exit 5']);
    assert.equal(short.code, 0, short.stderr);
    const before = await d.client.get<Inspect>('/containers/survivor/json');
    assert.ok(before.State.Running);
    await until('first log lines', async () => ((await docker(d.host, ['logs', 'survivor'])).stdout.includes('tick 2') ? true : undefined));

    await d.kill();
    assert.ok(alive(before.State.Pid), 'the container process outlives SIGKILL of shoald');
    await new Promise((r) => setTimeout(r, 2500)); // the short one exits while no daemon runs
    await d.restart();

    const after = await d.client.get<Inspect>('/containers/survivor/json');
    assert.equal(after.State.Running, true);
    assert.equal(after.State.Pid, before.State.Pid, 'the same process, adopted, not restarted');
    const logs = await until('logs written while the daemon was down', async () => {
      const out = (await docker(d.host, ['logs', 'survivor'])).stdout;
      const n = out.split('\n').filter((l) => l.startsWith('tick ')).length;
      return n >= 15 ? out : undefined;
    });
    assert.match(logs, /^tick 0$/m, 'the log from before the kill is intact');

    const exited = await until('the exit recorded while down', async () => {
      const j = await d.client.get<Inspect>('/containers/exits-while-down/json');
      return j.State.Status === 'exited' ? j : undefined;
    });
    assert.equal(exited.State.ExitCode, 5);

    // The adopted container is fully controllable again.
    const stop = await docker(d.host, ['stop', '-t', '1', 'survivor']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(alive(before.State.Pid), false);
    assert.equal((await docker(d.host, ['rm', 'survivor', 'exits-while-down'])).code, 0);
  });
});
