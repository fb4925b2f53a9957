import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Supervisor, processArgv, readPidFile, type SupervisorEvent } from '../../shared/supervisor';
import { isShoalError } from '../../shared/errors';
import { within } from '../helpers/etcd';

const SH = '/bin/sh';
const alive = async (pid: number) => (await processArgv(pid)) !== undefined;

async function waitFor(sup: Supervisor, match: (e: SupervisorEvent) => boolean): Promise<SupervisorEvent> {
  const ctl = new AbortController();
  try {
    for await (const ev of sup.changes(ctl.signal)) if (match(ev)) return ev;
    throw new Error('no more state changes');
  } finally {
    ctl.abort();
  }
}

describe('Supervisor with real child processes', function () {
  this.timeout(60_000);
  let dir: string;
  const sups: Supervisor[] = [];
  const strays: number[] = [];
  const make = (name: string, script: string, extra: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) => {
    const s = new Supervisor({ name, command: SH, args: ['-c', script], stateDir: dir, probe: async () => true, initialBackoffMs: 50, stopGraceMs: 1000, ...extra });
    sups.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-sup-'));
  });
  afterEach(async () => {
    for (const s of sups.splice(0)) await s.stop();
    for (const pid of strays.splice(0)) if (await alive(pid)) process.kill(pid, 'SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("writes the child's output to its log file, not the daemon's stdout, and keeps a pid file", async () => {
    const tag = randomBytes(4).toString('hex');
    const s = make('echo', `echo out-${tag}; echo err-${tag} >&2; exec sleep 1000`);
    await s.start();
    assert.equal(s.state, 'ready');
    const rec = await readPidFile(s.pidFile);
    assert.equal(rec?.pid, s.pid);
    let log = '';
    for (let i = 0; i < 50 && !log.includes(`err-${tag}`); i++) {
      log = await fs.readFile(s.logFile, 'utf8');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(log, new RegExp(`out-${tag}`));
    assert.match(log, new RegExp(`err-${tag}`));
    const pid = s.pid as number;
    await s.stop();
    assert.equal(await alive(pid), false);
    assert.equal(s.state, 'stopped');
    assert.equal(await readPidFile(s.pidFile), undefined, 'the pid file goes with the child');
  });

  it('restarts a child that dies, reporting how it ended', async () => {
    const s = make('dies', 'sleep 0.2; exit 7');
    await s.start();
    const ev = await within(waitFor(s, (e) => e.state === 'backoff'));
    assert.deepEqual(ev.exit, { code: 7, signal: null });
    await within(waitFor(s, (e) => e.state === 'ready' && e.restarts >= 1));
    assert.ok(s.restarts >= 1);
  });

  it('restarts a child killed with SIGKILL under a new PID', async () => {
    const s = make('killed', 'exec sleep 1000');
    await s.start();
    const first = s.pid as number;
    const restarted = within(waitFor(s, (e) => e.state === 'ready' && e.restarts === 1));
    process.kill(first, 'SIGKILL');
    const ev = await restarted;
    assert.notEqual(ev.pid, first);
    assert.equal(await alive(ev.pid as number), true);
  });

  it('gives up on a first start that keeps failing, with the tail of the child log', async () => {
    const s = make('broken', 'echo "bad flag --nope" >&2; exit 1', { probe: async () => false, startAttempts: 2 });
    await assert.rejects(s.start(), (e) => isShoalError(e, 'UNAVAILABLE') && /broken did not become ready after 2 attempts: bad flag --nope/.test((e as Error).message));
    assert.equal(s.state, 'stopped');
  });

  it('waits for the readiness probe', async () => {
    const flag = join(dir, 'ready-flag');
    const s = make('slow', `sleep 0.3; touch ${flag}; exec sleep 1000`, {
      probe: async () =>
        fs
          .stat(flag)
          .then(() => true)
          .catch(() => false),
    });
    await s.start();
    await fs.stat(flag); // ready only after the child said so
  });

  it('sends SIGKILL to a child that ignores SIGTERM', async () => {
    const s = make('stubborn', "trap '' TERM; exec sleep 1000");
    await s.start();
    const pid = s.pid as number;
    await s.stop();
    assert.equal(await alive(pid), false);
  });

  it('stops when the start signal aborts', async () => {
    const s = make('aborted', 'exec sleep 1000');
    const ctl = new AbortController();
    await s.start(ctl.signal);
    const pid = s.pid as number;
    const stopped = within(waitFor(s, (e) => e.state === 'stopped'));
    ctl.abort();
    await stopped;
    assert.equal(await alive(pid), false);
  });

  it('kills a child left running by a crashed daemon before starting a new one', async () => {
    const tag = `orphan-${randomBytes(4).toString('hex')}`;
    // an idle node process (not a shell: a shell may exec its command and change its command line)
    const idle = ['-e', 'setInterval(() => {}, 1 << 30)', tag];
    // A daemon stand-in: supervises `sleep` and is then killed with SIGKILL, leaving the child.
    const supervisorModule = resolve(__dirname, '../../shared/supervisor');
    const script = `
      const { Supervisor } = require(${JSON.stringify(supervisorModule)});
      require(${JSON.stringify(resolve(__dirname, '../../shared/log'))}).silenceLogging();
      const s = new Supervisor({ name: 'child', command: process.execPath, args: ${JSON.stringify(idle)}, stateDir: ${JSON.stringify(dir)}, probe: async () => true });
      s.start().then(() => console.log('READY ' + s.pid));`;
    const daemon = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const orphan = await within(
      new Promise<number>((res, rej) => {
        let out = '';
        daemon.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /READY (\d+)/.exec(out);
          if (m) res(Number(m[1]));
        });
        daemon.on('exit', () => rej(new Error(`stand-in daemon exited: ${out}`)));
      }),
    );
    strays.push(orphan);
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('exit', r));
    assert.equal(await alive(orphan), true, 'the child outlived its daemon');

    const s = make('child', '', { command: process.execPath, args: idle });
    await s.start();
    assert.equal(await alive(orphan), false, 'the orphan was killed');
    assert.notEqual(s.pid, orphan);
  });

  it('leaves alone a process whose command line does not match the pid file', async () => {
    const stranger = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
    strays.push(stranger.pid as number);
    await fs.writeFile(join(dir, 'child.pid'), JSON.stringify({ pid: stranger.pid, command: SH, args: ['-c', 'exec sleep 1000'], startedAt: '' }));
    const s = make('child', 'exec sleep 1000');
    await s.start();
    assert.equal(await alive(stranger.pid as number), true);
    stranger.kill('SIGKILL');
  });
});
