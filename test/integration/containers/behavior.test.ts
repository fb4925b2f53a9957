import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { collect, eventually, makeStack, runContainer, type Stack } from './fixture';

const ms = (n: number) => n * 1e6; // ns

describe('containers: stop, wait, restart policies, logs, exec, commit, health', function () {
  this.timeout(60_000);
  let s: Stack;

  before(async () => {
    s = await makeStack();
  });
  after(async () => {
    await s?.destroy();
  });

  const actions = (id: string) => s.events.history(0).filter((e) => e.Actor.ID === id).map((e) => (e.Action === 'kill' ? `kill:${e.Actor.Attributes.signal}` : e.Action === 'die' ? `die:${e.Actor.Attributes.exitCode}` : e.Action));

  it('stop sends the stop signal and waits: a graceful exit keeps its code', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 0.1; done'] });
    await s.cm.start(Id);
    assert.ok(await eventually(async () => (await fs.readFile(s.cm.get(Id).LogPath, 'utf8').catch(() => '')).includes('ready')));
    assert.equal(await s.cm.stop(Id, { timeout: 10 }), 'stopped');
    const st = s.cm.get(Id).State;
    assert.equal(st.ExitCode, 0);
    assert.deepEqual(actions(Id), ['create', 'start', 'kill:15', 'die:0', 'stop']);
    assert.equal(await s.cm.stop(Id), 'already');
    await s.cm.remove(Id);
  });

  it('stop kills with SIGKILL after the grace period (137); ?signal and the image StopSignal are used', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await s.cm.start(Id);
    await s.cm.stop(Id, { timeout: 1 });
    assert.equal(s.cm.get(Id).State.ExitCode, 137);
    assert.deepEqual(actions(Id).slice(-4), ['kill:15', 'kill:9', 'die:137', 'stop']);
    await s.cm.remove(Id);

    const sig = await s.cm.create({ Image: 'busybox', StopSignal: 'SIGUSR1', Cmd: ['sh', '-c', 'trap "exit 10" USR1; trap "exit 20" INT; echo trapped; while true; do sleep 0.1; done'] });
    const trapped = async (n: number) => eventually(async () => (await fs.readFile(s.cm.get(sig.Id).LogPath, 'utf8').catch(() => '')).split('trapped').length - 1 >= n);
    await s.cm.start(sig.Id);
    assert.ok(await trapped(1));
    await s.cm.stop(sig.Id, { timeout: 10 });
    assert.equal(s.cm.get(sig.Id).State.ExitCode, 10, 'StopSignal');
    await s.cm.start(sig.Id);
    assert.ok(await trapped(2));
    await s.cm.stop(sig.Id, { timeout: 10, signal: 'SIGINT' });
    assert.equal(s.cm.get(sig.Id).State.ExitCode, 20, '?signal');
    await s.cm.remove(sig.Id);
  });

  it('wait: not-running answers at once for a stopped container; next-exit and removed wait', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 4'] });
    assert.deepEqual(await s.cm.wait(Id, 'not-running'), { StatusCode: 0 });
    const next = s.cm.wait(Id, 'next-exit');
    const removed = s.cm.wait(Id, 'removed');
    await s.cm.start(Id);
    assert.deepEqual(await next, { StatusCode: 4 });
    assert.deepEqual(await s.cm.wait(Id, 'not-running'), { StatusCode: 4 });
    await s.cm.remove(Id);
    assert.deepEqual(await removed, { StatusCode: 4 });
    const ac = new AbortController();
    const { Id: other } = await s.cm.create({ Image: 'busybox', Cmd: ['true'] });
    const w = s.cm.wait(other, 'next-exit', ac.signal);
    ac.abort();
    await assert.rejects(w, /cancelled/);
    await s.cm.remove(other);
  });

  it('on-failure:2 restarts twice, then stays down', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo run; exit 3'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
    await s.cm.start(Id);
    assert.ok(await eventually(() => s.cm.get(Id).RestartCount === 2 && s.cm.get(Id).State.Status === 'exited'));
    await new Promise((r) => setTimeout(r, 600)); // a third start would come within 400 ms
    const r = s.cm.get(Id);
    assert.equal(r.RestartCount, 2);
    assert.equal(r.State.ExitCode, 3);
    assert.equal(actions(Id).filter((a) => a === 'start').length, 3);
    const lines: string[] = [];
    for await (const e of s.cm.logs(Id, { stdout: true }).entries) lines.push(e.data.toString());
    assert.deepEqual(lines, ['run\n', 'run\n', 'run\n']);
    await s.cm.remove(Id);
  });

  it('always restarts even after exit 0, until stopped', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.2'], HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
    await s.cm.start(Id);
    assert.ok(await eventually(() => s.cm.get(Id).RestartCount >= 2));
    await s.cm.stop(Id, { timeout: 1 });
    const count = s.cm.get(Id).RestartCount;
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(s.cm.get(Id).State.Status, 'exited');
    assert.equal(s.cm.get(Id).RestartCount, count);
    assert.equal(s.cm.get(Id).shoal.manuallyStopped, true);
    await s.cm.remove(Id);
  });

  it('--rm removes the container when it exits', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
    const removed = s.cm.wait(Id, 'removed');
    await s.cm.start(Id);
    assert.deepEqual(await removed, { StatusCode: 0 });
    assert.throws(() => s.cm.get(Id), /No such container/);
    assert.deepEqual(actions(Id).slice(-2), ['die:0', 'destroy']);
  });

  it('logs: follow until the container stops, tail, timestamps, since', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.1; done'] });
    await s.cm.start(Id);
    const got: string[] = [];
    for await (const e of s.cm.logs(Id, { follow: true, stdout: true, stderr: true }).entries) got.push(`${e.stream}:${e.data.toString()}`);
    assert.deepEqual(got.filter((g) => g.startsWith('1:')), ['1:out1\n', '1:out2\n', '1:out3\n', '1:out4\n', '1:out5\n']);
    assert.deepEqual(got.filter((g) => g.startsWith('2:')), ['2:err1\n', '2:err2\n', '2:err3\n', '2:err4\n', '2:err5\n']);
    assert.equal(s.cm.get(Id).State.Status, 'exited', 'follow ended because the container stopped');
    const tail: string[] = [];
    for await (const e of s.cm.logs(Id, { stdout: true, tail: '2' }).entries) tail.push(e.data.toString());
    assert.deepEqual(tail, ['out4\n', 'out5\n']);
    const all: bigint[] = [];
    for await (const e of s.cm.logs(Id, { stdout: true }).entries) all.push(e.timeNs);
    const since = all[2];
    const fromThird: string[] = [];
    const sinceArg = `${since / 1_000_000_000n}.${(since % 1_000_000_000n).toString().padStart(9, '0')}`;
    for await (const e of s.cm.logs(Id, { stdout: true, since: sinceArg }).entries) fromThird.push(e.data.toString());
    assert.deepEqual(fromThird, ['out3\n', 'out4\n', 'out5\n']);
    assert.ok(Number(all[4] - all[0]) > ms(300), 'timestamps are when the lines were written');
    assert.throws(() => s.cm.logs(Id, {}), /choose at least one stream/);
    await s.cm.remove(Id);
  });

  it('exec: output and exit code, a tty, env and user, stdin; errors for stopped containers', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], Env: ['FROM=container'] });
    await s.cm.start(Id);
    const e1 = s.cm.execCreate(Id, { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo $FROM $EXTRA; id -u; exit 3'], Env: ['EXTRA=exec'], User: '33' }).Id;
    const o1 = await collect((await s.cm.execStart(e1, { detach: false }))!);
    assert.equal(o1.stdout, 'container exec\n33\n');
    assert.equal(s.cm.execInspect(e1).ExitCode, 3);
    assert.equal(s.cm.execInspect(e1).Running, false);
    const e2 = s.cm.execCreate(Id, { AttachStdout: true, Tty: true, Cmd: ['sh', '-c', '[ -t 0 ] && echo tty'] }).Id;
    const o2 = await collect((await s.cm.execStart(e2, { detach: false }))!);
    assert.equal(o2.stdout, 'tty\r\n');
    const e3 = s.cm.execCreate(Id, { AttachStdin: true, AttachStdout: true, Cmd: ['cat'] }).Id;
    const sess = (await s.cm.execStart(e3, { detach: false }))!;
    const out3 = collect(sess);
    await sess.write(Buffer.from('via stdin\n'));
    sess.closeStdin();
    assert.equal((await out3).stdout, 'via stdin\n');
    const e4 = s.cm.execCreate(Id, { Cmd: ['sh', '-c', 'echo detached > /tmp/d'] }).Id;
    await s.cm.execStart(e4, { detach: true });
    assert.ok(await eventually(() => s.cm.execInspect(e4).ExitCode === 0));
    const e5 = s.cm.execCreate(Id, { AttachStdout: true, Cmd: ['nope'] }).Id;
    const o5 = await collect((await s.cm.execStart(e5, { detach: false }))!);
    assert.match(o5.stdout, /executable file not found/);
    assert.equal(s.cm.execInspect(e5).ExitCode, 127);
    assert.ok((await s.cm.inspect(Id)).ExecIDs);
    await assert.rejects(s.cm.execStart(e1, { detach: false }), /already been started/);
    assert.ok(actions(Id).some((a) => a.startsWith('exec_create: sh -c')) && actions(Id).includes('exec_die'));
    await s.cm.stop(Id, { timeout: 0 });
    assert.throws(() => s.cm.execCreate(Id, { Cmd: ['true'] }), /is not running/);
    assert.throws(() => s.cm.execInspect('nope'), /No such exec instance/);
    await s.cm.remove(Id);
  });

  it('attach to a running container with open stdin (docker run -d -i, then attach)', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Cmd: ['sh', '-c', 'while read l; do echo got:$l; done'], OpenStdin: true });
    await s.cm.start(Id);
    const sess = await s.cm.attach(Id, { stdin: true, stdout: true, stderr: true, logs: false, stream: true });
    const chunks: string[] = [];
    const reader = (async () => {
      for await (const c of sess.output()) {
        chunks.push(c.data.toString());
        if (chunks.join('').includes('got:two')) break;
      }
    })();
    await sess.write(Buffer.from('one\ntwo\n'));
    await reader;
    sess.close();
    assert.equal(chunks.join(''), 'got:one\ngot:two\n');
    // stdin stays open for the next client (no StdinOnce)
    assert.equal(s.cm.get(Id).State.Running, true);
    const again = await s.cm.attach(Id, { stdin: true, stdout: true, stderr: true, logs: true, stream: true });
    const all = collect(again);
    await again.write(Buffer.from('three\n'));
    again.closeStdin();
    assert.ok(await eventually(async () => (await fs.readFile(s.cm.get(Id).LogPath, 'utf8')).includes('got:three')));
    await s.cm.kill(Id);
    assert.match((await all).stdout, /got:one\ngot:two\n.*got:three\n/s);
    await s.cm.remove(Id);
  });

  it('resizes the tty of a container and of an exec', async () => {
    const { Id } = await s.cm.create({ Image: 'busybox', Tty: true, Cmd: ['sh', '-c', 'while [ "$(stty size 2>/dev/null)" != "30 100" ]; do sleep 0.05; done; echo resized; sleep 30'] });
    const sess = await s.cm.attach(Id, { stdin: false, stdout: true, stderr: true, logs: false, stream: true });
    await s.cm.start(Id);
    await s.cm.resize(Id, 30, 100);
    let out = '';
    for await (const c of sess.output()) {
      out += c.data.toString();
      if (out.includes('resized')) break;
    }
    sess.close();
    assert.match(out, /resized\r\n/);
    const ex = s.cm.execCreate(Id, { AttachStdout: true, Tty: true, ConsoleSize: [24, 80], Cmd: ['sh', '-c', 'while [ "$(stty size 2>/dev/null)" != "12 34" ]; do sleep 0.05; done; echo exec-resized'] }).Id;
    const es = (await s.cm.execStart(ex, { detach: false }))!;
    const eo = collect(es);
    await s.cm.execResize(ex, 12, 34);
    assert.equal((await eo).stdout, 'exec-resized\r\n');
    await s.cm.remove(Id, { force: true });
  });

  it('commit turns the container layer into an image that runs', async () => {
    const r = await runContainer(s.cm, { Cmd: ['sh', '-c', 'echo committed > /hello.txt; rm /etc/group'] });
    assert.deepEqual(await s.cm.changes(r.id), [
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/group', Kind: 2 },
      { Path: '/hello.txt', Kind: 1 },
    ]);
    const { Id: imageId } = await s.cm.commit(r.id, { repo: 'committed', tag: 'v1', comment: 'a test', changes: ['CMD ["cat", "/hello.txt"]', 'ENV MARK=1'] });
    assert.match(imageId, /^sha256:/);
    const again = await runContainer(s.cm, { Image: 'committed:v1', Cmd: null as never });
    assert.equal(again.stdout, 'committed\n');
    const check = await runContainer(s.cm, { Image: 'committed:v1', Cmd: ['sh', '-c', 'echo $MARK; [ -e /etc/group ] && echo group || echo no-group'] });
    assert.equal(check.stdout, '1\nno-group\n');
    assert.ok(s.events.history(0).some((e) => e.Action === 'commit' && e.Actor.ID === r.id));
    for (const id of [r.id, again.id, check.id]) await s.cm.remove(id);
  });

  it('health checks go healthy, or unhealthy after the retries, with events', async () => {
    const ok = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], Healthcheck: { Test: ['CMD-SHELL', 'echo fine'], Interval: 100e6, Timeout: 2e9, Retries: 2 } });
    const bad = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'], Healthcheck: { Test: ['CMD', 'false'], Interval: 100e6, Timeout: 2e9, Retries: 2 } });
    await s.cm.start(ok.Id);
    // Right after start, before the first probe (100 ms later); asking after starting the other
    // container raced that probe on a slow machine.
    assert.equal(s.cm.get(ok.Id).State.Health?.Status, 'starting');
    await s.cm.start(bad.Id);
    assert.ok(await eventually(() => s.cm.get(ok.Id).State.Health?.Status === 'healthy'));
    assert.ok(await eventually(() => s.cm.get(bad.Id).State.Health?.Status === 'unhealthy'));
    const h = s.cm.get(ok.Id).State.Health!;
    assert.equal(h.Log[0].Output, 'fine\n');
    assert.equal(h.Log[0].ExitCode, 0);
    assert.ok(s.cm.get(bad.Id).State.Health!.FailingStreak >= 2);
    assert.ok(actions(ok.Id).includes('health_status: healthy'));
    assert.ok(actions(bad.Id).includes('health_status: unhealthy'));
    const list = await s.cm.list({ filters: new Map([['health', ['healthy']]]) });
    assert.deepEqual(list.map((c) => c.Id), [ok.Id]);
    await s.cm.remove(ok.Id, { force: true });
    await s.cm.remove(bad.Id, { force: true });
  });

  it('names: conflicts name the holder, rename, list filters and prune', async () => {
    const a = await s.cm.create({ Image: 'busybox', Cmd: ['true'], Labels: { tier: 'front' } }, { name: 'alpha' });
    await assert.rejects(s.cm.create({ Image: 'busybox', Cmd: ['true'] }, { name: 'alpha' }), (e: Error) => e.message.includes(`"/alpha" is already in use by container "${a.Id}"`));
    await s.cm.rename('alpha', 'beta');
    assert.equal(s.cm.get(a.Id).Name, '/beta');
    const b = await s.cm.create({ Image: 'busybox', Cmd: ['sleep', '30'] }, { name: 'gamma' });
    await s.cm.start(b.Id);
    const names = async (q: Parameters<typeof s.cm.list>[0]) => (await s.cm.list(q)).map((c) => (c.Names as string[])[0]);
    assert.deepEqual(await names({}), ['/gamma']);
    assert.deepEqual((await names({ all: true })).sort(), ['/beta', '/gamma']);
    assert.deepEqual(await names({ all: true, filters: new Map([['label', ['tier=front']]]) }), ['/beta']);
    assert.deepEqual(await names({ filters: new Map([['status', ['created']]]) }), ['/beta']);
    assert.deepEqual(await names({ all: true, filters: new Map([['ancestor', ['busybox']]]) }).then((n) => n.sort()), ['/beta', '/gamma']);
    assert.deepEqual(await names({ all: true, limit: 1 }), ['/gamma']);
    const top = await s.cm.top(b.Id);
    assert.ok(top.Processes.some((p) => p.join(' ').includes('sleep 30')));
    const info = await s.cm.info();
    assert.deepEqual(info, { Containers: 2, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 1 });
    assert.deepEqual([...(await s.cm.imagesInUse()).keys()], [s.busyboxId]);
    const pr = await s.cm.prune(new Map());
    assert.deepEqual(pr.ContainersDeleted, [a.Id]);
    await assert.rejects(s.cm.remove(b.Id), /container is running: stop the container before removing or force remove/);
    await s.cm.remove(b.Id, { force: true });
  });
});
