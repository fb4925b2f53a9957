// The real shoal binary running containers on a real shoald (crun, conmon, overlayfs, bridge).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../../shared/client';
import { startDaemon, loadBusybox, type TestDaemon } from '../../helpers/daemon';
import { shoal as run } from './helpers';

describe('shoal CLI against shoald: containers', function () {
  this.timeout(120_000);
  let d: TestDaemon | undefined;
  let dir: string;
  const shoal = (args: string[], opts?: Parameters<typeof run>[2]) => run(d!.host, args, opts);

  before(async function () {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-cli-containers-'));
    d = await startDaemon();
    try {
      await d.client.get('/containers/json');
    } catch (e) {
      // Until the container engine is wired into shoald there is nothing to run.
      if (e instanceof ApiError && e.status === 404 && /page not found/.test(e.message)) this.skip();
      throw e;
    }
    await loadBusybox(d);
  });
  after(async () => {
    await d?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('run --rm echo: output, exit 0, nothing left', async () => {
    const r = await shoal(['run', '--rm', 'busybox', 'echo', 'hello', 'world']);
    assert.deepEqual(r, { code: 0, stdout: 'hello world\n', stderr: '' });
    assert.equal((await shoal(['ps', '-aq'])).stdout, '');
  });

  it('run: stdout and stderr apart, the container\'s exit code', async () => {
    const r = await shoal(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('run -i forwards stdin; -e, -w, -u, -h reach the process', async () => {
    const cat = await shoal(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'line one\nline two\n' });
    assert.deepEqual(cat, { code: 0, stdout: 'line one\nline two\n', stderr: '' });
    const env = await shoal(['run', '--rm', '-e', 'GREETING=hi', '-w', '/tmp', '-u', '65534', '-h', 'box', 'busybox', 'sh', '-c', 'echo $GREETING $(pwd) $(id -u) $(hostname)']);
    assert.deepEqual(env, { code: 0, stdout: 'hi /tmp 65534 box\n', stderr: '' });
  });

  it('run: 127 for a missing command, 126 for one that cannot be invoked, 125 for bad input', async () => {
    const missing = await shoal(['run', '--rm', 'busybox', 'no-such-command']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /^shoal: Error response from daemon: /);
    const dirCmd = await shoal(['run', '--rm', 'busybox', '/etc']);
    assert.equal(dirCmd.code, 126, dirCmd.stderr);
    const notExec = await shoal(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(notExec.code, 126, notExec.stderr);
    assert.equal((await shoal(['ps', '-aq'])).stdout, '', '--rm removes containers that failed to start');
    const mem = await shoal(['run', '-m', '12x', 'busybox']);
    assert.deepEqual([mem.code, mem.stderr], [125, `invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'\nSee 'shoal run --help'.\n`]);
    const noImage = await shoal(['run', '--rm', '--pull', 'never', 'nosuchimage:1']);
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /^shoal: Error response from daemon: .*nosuchimage/);
  });

  it('run -d, ps, logs, exec, stop, start, restart, kill, wait, rm', async () => {
    const started = await shoal(['run', '-d', '--name', 'web', '-l', 'role=test', 'busybox', 'sh', '-c', 'echo booted; trap "exit 0" TERM; while true; do sleep 1; done']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await shoal(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n/);
    assert.match(ps.stdout, new RegExp(`\\n${id.slice(0, 12)} +busybox +"sh -c echo booted; …" +.+ ago +Up .+ +web\\n$`));
    assert.equal((await shoal(['ps', '-q', '-f', 'label=role=test'])).stdout, `${id.slice(0, 12)}\n`);
    assert.equal((await shoal(['ps', '--format', '{{.Names}} {{.State}} {{.Label "role"}}'])).stdout, 'web running test\n');

    assert.deepEqual(await shoal(['logs', 'web']), { code: 0, stdout: 'booted\n', stderr: '' });
    assert.deepEqual(await shoal(['exec', 'web', 'sh', '-c', 'echo in; echo oops >&2']), { code: 0, stdout: 'in\n', stderr: 'oops\n' });
    assert.equal((await shoal(['exec', 'web', 'sh', '-c', 'exit 5'])).code, 5);
    assert.deepEqual(await shoal(['exec', '-i', '-e', 'X=1', '-w', '/tmp', 'web', 'sh', '-c', 'cat; echo $X $(pwd)'], { input: 'fed\n' }), { code: 0, stdout: 'fed\n1 /tmp\n', stderr: '' });
    assert.equal((await shoal(['inspect', '-f', '{{.State.Running}} {{.Config.Labels.role}}', 'web'])).stdout, 'true test\n');

    assert.deepEqual(await shoal(['stop', '-t', '5', 'web']), { code: 0, stdout: 'web\n', stderr: '' });
    assert.match((await shoal(['ps', '-a', '--format', '{{.Status}}'])).stdout, /^Exited \(0\) .*ago\n$/);
    assert.deepEqual(await shoal(['start', 'web']), { code: 0, stdout: 'web\n', stderr: '' });
    assert.deepEqual(await shoal(['restart', '-t', '5', 'web']), { code: 0, stdout: 'web\n', stderr: '' });
    assert.deepEqual(await shoal(['kill', '-s', 'KILL', 'web']), { code: 0, stdout: 'web\n', stderr: '' });
    assert.deepEqual(await shoal(['wait', 'web']), { code: 0, stdout: '137\n', stderr: '' });
    const rmMissing = await shoal(['rm', 'web', 'nosuch']);
    assert.equal(rmMissing.code, 1);
    assert.equal(rmMissing.stdout, 'web\n');
    assert.match(rmMissing.stderr, /^Error response from daemon: .*nosuch.*\n$/);
    assert.equal((await shoal(['ps', '-aq'])).stdout, '');
  });

  it('create with limits, start -a, inspect the mapping, commit, container prune', async () => {
    const c = await shoal(['create', '--name', 'limited', '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo made > /made; echo done; exit 4']);
    assert.equal(c.code, 0, c.stderr);
    const insp = await shoal(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{json .Config.Cmd}}', 'limited']);
    assert.equal(insp.stdout, '67108864 500000000 50 ["sh","-c","echo made > /made; echo done; exit 4"]\n');
    const att = await shoal(['start', '-a', 'limited']);
    assert.deepEqual(att, { code: 4, stdout: 'done\n', stderr: '' });
    const rp = await shoal(['create', '--name', 'policy', '--restart', 'on-failure:2', 'busybox', 'true']);
    assert.equal(rp.code, 0, rp.stderr);
    assert.equal((await shoal(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'policy'])).stdout, 'on-failure:2\n');
    assert.equal((await shoal(['rm', 'policy'])).code, 0);
    const commit = await shoal(['commit', '-m', 'from cli', '-c', 'ENV FROM_COMMIT=yes', 'limited', 'committed:1']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.deepEqual(await shoal(['run', '--rm', 'committed:1', 'sh', '-c', 'cat /made; echo $FROM_COMMIT']), { code: 0, stdout: 'made\nyes\n', stderr: '' });
    const prune = await shoal(['container', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
    await shoal(['rmi', 'committed:1']);
  });

  it('volumes and networks from run flags; network connect and disconnect', async () => {
    assert.equal((await shoal(['run', '--rm', '-v', 'clidata:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'])).code, 0);
    assert.deepEqual(await shoal(['run', '--rm', '--mount', 'type=volume,src=clidata,dst=/d,readonly', 'busybox', 'cat', '/d/f']), { code: 0, stdout: 'kept\n', stderr: '' });
    const hostDir = join(dir, 'bind');
    await fs.mkdir(hostDir);
    await fs.writeFile(join(hostDir, 'in.txt'), 'from host\n');
    assert.deepEqual(await shoal(['run', '--rm', '-v', `${hostDir}:/h:ro`, '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'cat /h/in.txt; touch /h/x 2>/dev/null || echo ro; touch /scratch/ok && echo tmp']), { code: 0, stdout: 'from host\nro\ntmp\n', stderr: '' });

    assert.equal((await shoal(['network', 'create', '--subnet', '10.233.9.0/24', 'clinet2'])).code, 0);
    const ip = await shoal(['run', '--rm', '--network', 'clinet2', '--ip', '10.233.9.50', 'busybox', 'sh', '-c', "ip -4 addr show eth0 | grep -o '10.233.9.50'"]);
    assert.deepEqual(ip, { code: 0, stdout: '10.233.9.50\n', stderr: '' });
    assert.equal((await shoal(['run', '-d', '--name', 'netbox', 'busybox', 'sleep', '300'])).code, 0);
    assert.deepEqual(await shoal(['network', 'connect', '--alias', 'nb', 'clinet2', 'netbox']), { code: 0, stdout: '', stderr: '' });
    assert.equal((await shoal(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'clinet2'])).stdout, 'netbox 10.233.9.2/24\n');
    assert.deepEqual(await shoal(['network', 'disconnect', 'clinet2', 'netbox']), { code: 0, stdout: '', stderr: '' });
    assert.equal((await shoal(['rm', '-f', 'netbox'])).code, 0);
    assert.equal((await shoal(['network', 'rm', 'clinet2'])).code, 0);
    assert.deepEqual((await shoal(['volume', 'rm', 'clidata'])).stdout, 'clidata\n');
  });

  it('name conflicts and unknown containers are daemon errors', async () => {
    assert.equal((await shoal(['create', '--name', 'twice', 'busybox', 'true'])).code, 0);
    const again = await shoal(['create', '--name', 'twice', 'busybox', 'true']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /^shoal: Error response from daemon: .*twice.*\n$/);
    const logs = await shoal(['logs', 'nobody']);
    assert.equal(logs.code, 1);
    assert.match(logs.stderr, /^Error response from daemon: .*nobody.*\n$/);
    assert.equal((await shoal(['rm', 'twice'])).code, 0);
  });
});
