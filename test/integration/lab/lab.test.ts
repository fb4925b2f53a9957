// The multi-host lab with real network namespaces, shoalds and docker-registry: hosts answer
// on their sockets, reach each other across the lab bridge (and not when cut), survive a
// daemon kill, pull from the lab registry, and `down` leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type TestLab } from '../../helpers/lab';
import { runCli } from '../../helpers/docker';
import { REPO_ROOT } from '../../helpers/daemon';
import { isShoalError } from '../../../shared/errors';
import { run } from '../../../shared/exec';
import { cgroupHierarchies } from '../../../worker/engine/runtime/cgroups';
import { Lab, LIB_ROOT, RUN_ROOT } from '../../../deploy/multihost';

const LAB_CLI = join(REPO_ROOT, 'deploy/lab');

/** Retry `fn` until it returns true; the lab's network settles in its own time (no timing asserted). */
async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`${what}: not true within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Everything a lab could leave behind, found by its name (not by its state file). */
async function leftovers(name: string, bridge: string): Promise<string[]> {
  const out: string[] = [];
  const roots = [join(RUN_ROOT, name), join(LIB_ROOT, name)];
  const ns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`shoal-lab-${name}-`));
  out.push(...ns.map((l) => `netns ${l}`));
  if ((await run('ip', ['link', 'show', bridge], { okCodes: [0, 1] })).code === 0) out.push(`bridge ${bridge}`);
  for (const d of roots) if (existsSync(d)) out.push(`directory ${d}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => roots.some((r) => l.includes(` ${r}`)));
  out.push(...mounts.map((m) => `mount ${m.split(' ')[4]}`));
  for (const h of await cgroupHierarchies()) {
    for (const e of readdirSync(h.mountPoint)) if (e.startsWith(`shoal-lab-${name}-`)) out.push(`cgroup ${join(h.mountPoint, e)}`);
  }
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const cl = (() => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (roots.some((r) => cl.includes(`${r}/`) || cl.includes(`${r}\0`))) out.push(`process ${p} ${cl.replace(/\0/g, ' ').slice(0, 120)}`);
  }
  const guard = `table ip shoal_lab_${bridge.replace('shlab', '')}`;
  if ((await run('nft', ['list', 'tables'])).stdout.split('\n').includes(guard)) out.push(`nft ${guard}`);
  return out;
}

async function reachable(lab: TestLab, from: string, url: string): Promise<boolean> {
  const r = await lab.exec(from, ['curl', '-s', '-m', '2', url]);
  return r.code === 0;
}

const WEB = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

describe('lab: standalone hosts in network namespaces', function () {
  this.timeout(120_000);
  let lab: TestLab;
  let bridge = '';
  let url = '';

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2, standalone: true });
    bridge = lab.lab.bridge;
    url = `http://${lab.host('w1').address}:18080/`;
  });
  after(async () => {
    await lab?.down();
  });

  it('has m1, w1 and w2, each answering /_ping on its own socket as its own node', async () => {
    assert.deepEqual(lab.hosts.map((h) => [h.name, h.role]), [['m1', 'manager'], ['w1', 'worker'], ['w2', 'worker']]);
    assert.equal(new Set(lab.hosts.map((h) => h.address)).size, 3);
    for (const h of lab.hosts) {
      assert.equal(await h.client.get('/_ping'), 'OK');
      assert.equal((await h.client.get<{ Name: string }>('/info')).Name, h.name);
    }
  });

  it('lists the hosts with deploy/lab ls --format json', async () => {
    const r = await runCli(LAB_CLI, ['ls', '--name', lab.name, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { name: string; subnet: string; hosts: Array<{ name: string; address: string; socket: string; state: string; pid: number }> };
    assert.equal(j.name, lab.name);
    assert.equal(j.subnet, lab.subnet);
    assert.deepEqual(
      j.hosts.map((h) => [h.name, h.address, h.socket, h.state]),
      lab.hosts.map((h) => [h.name, h.address, h.socket, 'running']),
    );
    assert.ok(j.hosts.every((h) => Number.isInteger(h.pid)));
  });

  it('runs a container with the docker CLI on a worker', async () => {
    const r = await lab.docker('w1', ['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  it("deploy/lab exec runs in the host's namespace with DOCKER_HOST set to its shoald", async () => {
    const r = await runCli(LAB_CLI, ['exec', '--name', lab.name, 'w2', '--', 'sh', '-c', 'echo "$DOCKER_HOST"; ip -o -4 addr show dev eth0; docker info --format "{{.Name}}"']);
    assert.equal(r.code, 0, r.stderr);
    const [dockerHost, addr, node] = r.stdout.trim().split('\n');
    assert.equal(dockerHost, lab.host('w2').host);
    assert.match(addr, new RegExp(` ${lab.host('w2').address.replace(/\./g, '\\.')}/24 `));
    assert.equal(node, 'w2');
    const failed = await runCli(LAB_CLI, ['exec', '--name', lab.name, 'w2', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3);
  });

  it("reaches a port published on w1 at w1's address from w2 (its namespace and a container on it)", async () => {
    const r = await lab.docker('w1', ['run', '-d', '--name', 'web', '-p', '18080:80', 'busybox', ...WEB]);
    assert.equal(r.code, 0, r.stderr);
    await eventually('web answers from w2', () => reachable(lab, 'w2', url));
    const fromHost = await lab.exec('w2', ['curl', '-s', '-m', '5', url]);
    assert.match(fromHost.stdout, /^hello from /);
    // busybox wget's -T option crashes this busybox build; curl above bounds the wait instead.
    const fromContainer = await lab.docker('w2', ['run', '--rm', 'busybox', 'wget', '-qO-', url]);
    assert.equal(fromContainer.code, 0, fromContainer.stderr);
    assert.equal(fromContainer.stdout, fromHost.stdout);
  });

  it('cut w1: w2 cannot reach it (its socket still answers); heal: reachable again', async () => {
    await lab.cut('w1');
    const cut = await lab.exec('w2', ['curl', '-s', '-m', '2', url]);
    assert.notEqual(cut.code, 0, 'w1 answered while cut');
    assert.equal((await lab.exec('m1', ['curl', '-s', '-m', '2', url])).code === 0, false, 'm1 reached w1 while cut');
    assert.equal(await lab.host('w1').client.get('/_ping'), 'OK');
    assert.equal(lab.lab.status().find((h) => h.name === 'w1')?.cut, true);
    await lab.heal('w1');
    await eventually('w2 reaches w1 after heal', () => reachable(lab, 'w2', url));
  });

  it("kill w1: its socket stops answering; start w1: it answers and adopts the running container", async () => {
    const before = (await lab.host('w1').client.get<{ State: { Pid: number } }>('/containers/web/json')).State.Pid;
    await lab.kill('w1');
    await assert.rejects(lab.host('w1').client.get('/_ping'), (e: unknown) => isShoalError(e, 'UNAVAILABLE'));
    assert.equal(lab.lab.status().find((h) => h.name === 'w1')?.state, 'stopped');
    // The container outlives its daemon.
    assert.equal(await reachable(lab, 'w2', url), true);
    await lab.start('w1');
    assert.equal(await lab.host('w1').client.get('/_ping'), 'OK');
    const after = (await lab.host('w1').client.get<{ State: { Running: boolean; Pid: number } }>('/containers/web/json')).State;
    assert.equal(after.Running, true);
    assert.equal(after.Pid, before);
    assert.equal(await reachable(lab, 'w2', url), true);
  });

  it('kill refuses a host whose daemon is not running, and start leaves a running one alone', async () => {
    await lab.kill('w2');
    await assert.rejects(lab.kill('w2'), /w2: shoald \(pid \d+\) is not running/);
    await lab.start('w2');
    const pid = lab.lab.status().find((h) => h.name === 'w2')?.pid;
    assert.deepEqual(await lab.lab.start('w2'), { pid, started: false });
  });

  it('down leaves no namespace, bridge, process, mount, cgroup, nft table or file of the lab', async () => {
    // A container the API cannot stop: its daemon is dead when down runs.
    const r = await lab.docker('w2', ['run', '-d', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    await lab.kill('w2');
    const name = lab.name;
    await lab.down();
    assert.deepEqual(await leftovers(name, bridge), []);
    await assert.rejects(Lab.open(name), /no lab named/);
  });
});

describe('lab: registry host', function () {
  this.timeout(120_000);
  let lab: TestLab;

  before(async () => {
    lab = await startLab({ managers: 0, workers: 2, registry: true, standalone: true });
  });
  after(async () => {
    await lab?.down();
  });

  it('serves <reg>:5000/busybox, which w2 pulls (over http, insecure-registry) after losing its local image', async () => {
    const ref = `${lab.registry}/busybox:latest`;
    assert.match(ref, /^10\.99\.\d+\.13:5000\/busybox:latest$/);
    const rmi = await lab.docker('w2', ['rmi', 'busybox:latest']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal((await lab.docker('w2', ['image', 'inspect', 'busybox:latest'])).code, 1);
    const pull = await lab.docker('w2', ['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const r = await lab.docker('w2', ['run', '--rm', ref, 'echo', 'pulled']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pulled\n');
  });

  it('kill reg: pulls fail; start reg: they work again', async () => {
    const ref = `${lab.registry}/busybox:latest`;
    await lab.kill('reg');
    const failed = await lab.docker('w1', ['pull', ref]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /connection refused/);
    await lab.start('reg');
    const pull = await lab.docker('w1', ['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('down removes the registry and its storage', async () => {
    const regPid = lab.lab.status().find((h) => h.name === 'reg')?.pid;
    const name = lab.name;
    const bridge = lab.lab.bridge;
    await lab.down();
    assert.equal(regPid !== undefined && existsSync(`/proc/${regPid}/cmdline`) && readFileSync(`/proc/${regPid}/cmdline`, 'utf8').includes('docker-registry'), false);
    assert.deepEqual(await leftovers(name, bridge), []);
  });
});

describe('lab: forming a cluster', function () {
  this.timeout(120_000);
  let name = '';

  after(async () => {
    if (name) await Lab.down(name).catch(() => undefined);
  });

  it('up either forms a cluster with every host ready on m1, or fails naming the swarm step and removes what it made', async () => {
    name = `c${Date.now().toString(36).slice(-6)}`;
    try {
      const lab = await Lab.up({ name, managers: 1, workers: 1 });
      const c = lab.client('m1');
      try {
        const nodes = await c.get<Array<{ Status: { State: string } }>>('/nodes');
        assert.equal(nodes.filter((n) => n.Status.State === 'ready').length, 2);
      } finally {
        c.close();
      }
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.match(String((e as Error).message), /^m1: POST \/swarm\/init (answered|failed)|^\w+: (GET \/swarm|POST \/swarm\/join)|cluster did not become ready/);
      assert.equal(existsSync(join(RUN_ROOT, name)), false);
      assert.equal((await run('ip', ['netns', 'list'])).stdout.includes(`shoal-lab-${name}-`), false);
      await fs.stat(join(LIB_ROOT, name)).then(
        () => assert.fail('data roots left behind'),
        () => undefined,
      );
    }
  });
});
