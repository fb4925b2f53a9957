// The example stack on the 3-host lab: its services spread over the hosts and talk by name over
// two overlay networks; the secret reaches only db's containers; an unchanged re-deploy touches
// nothing, a changed image rolls only that service; stack rm leaves nothing on any host.
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO_ROOT, SHOAL } from '../../helpers/daemon';
import { runCli } from '../../helpers/docker';
import { startLab, type TestLab } from '../../helpers/lab';
import { eventually } from '../../helpers/swarm';
import type { Service, Task } from '../../../shared/swarm/types';

const EXAMPLE = join(REPO_ROOT, 'deploy/stacks/example.yml');
const LABEL = 'com.docker.stack.namespace=ex';

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 8000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('the example stack on the 3-host lab (shoal CLI, real etcd, NATS, crun, VXLAN)', function () {
  this.timeout(300_000);
  let lab: TestLab;
  let dir: string;
  const webPort = 18080;
  const shoal = (args: string[]) => runCli(process.execPath, [SHOAL, '-H', lab.host('m1').host, ...args], { env: { WEB_PORT: String(webPort) }, timeoutMs: 150_000 });
  const labelled = { query: { filters: JSON.stringify({ label: [LABEL] }) } };
  const services = async () => new Map((await lab.host('m1').client.get<Service[]>('/services', labelled)).map((s) => [s.Spec.Name!, s]));
  const liveTasks = async () => (await lab.host('m1').client.get<Task[]>('/tasks', { query: { filters: JSON.stringify({ 'desired-state': ['running'] }) } })).filter((t) => t.Status.State === 'running');

  before(async () => {
    lab = await startLab({ managers: 1, workers: 2 });
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-stack-lab-'));
  });
  after(async () => {
    await lab?.down();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('deploys across the hosts; web reaches api and db by name from every host; only db holds the secret', async () => {
    const r = await shoal(['stack', 'deploy', '-c', EXAMPLE, 'ex']);
    assert.equal(r.code, 0, r.stderr);
    const tasks = await liveTasks();
    assert.equal(tasks.length, 4, 'web x2, api, db');
    const nodes = await lab.host('m1').client.get<Array<{ ID: string; Description: { Hostname: string } }>>('/nodes');
    const hostOf = (t: Task) => nodes.find((n) => n.ID === t.NodeID)!.Description.Hostname;
    assert.ok(new Set(tasks.map(hostOf)).size >= 2, `tasks spread over the hosts: ${tasks.map(hostOf).join(', ')}`);
    // Through the mesh on every host: web -> api (front network) -> db (back network), wherever they run.
    for (const h of lab.hosts) await eventually(`${h.name}:${webPort} answers`, async () => (await get(`http://${h.address}:${webPort}/cgi-bin/api`)) === 'api ok; db says: db ok');
    const byService = new Map([...(await services())].map(([name, s]) => [s.ID, name]));
    for (const t of tasks) {
      const ls = await lab.docker(hostOf(t), ['exec', t.Status.ContainerStatus!.ContainerID!, 'sh', '-c', 'cat /run/secrets/db_password 2>/dev/null || echo none']);
      const name = byService.get(t.ServiceID)!;
      if (name === 'ex_db') assert.equal(ls.stdout.trim(), (await fs.readFile(join(REPO_ROOT, 'deploy/stacks/example-secret.txt'), 'utf8')).trim());
      else assert.equal(ls.stdout.trim(), 'none', `${name} must not see the secret`);
    }
  });

  it('an unchanged re-deploy touches nothing; a new image for api rolls api alone', async () => {
    const versions = async () => Object.fromEntries([...(await services())].map(([n, s]) => [n, s.Version!.Index]));
    const taskIds = async () => (await liveTasks()).map((t) => t.ID).sort();
    const [v0, t0] = [await versions(), await taskIds()];
    const again = await shoal(['stack', 'deploy', '-c', EXAMPLE, 'ex']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await versions(), v0, 'no service version moved');
    assert.deepEqual(await taskIds(), t0, 'no task was replaced');

    // The same image under a new tag on every host (there is no registry here).
    for (const h of lab.hosts) assert.equal((await lab.docker(h.name, ['tag', 'busybox:latest', 'busybox:v2'])).code, 0);
    const override = join(dir, 'override.yml');
    await fs.writeFile(override, 'version: "3.8"\nservices:\n  api:\n    image: busybox:v2\n');
    const roll = await shoal(['stack', 'deploy', '-c', EXAMPLE, '-c', override, 'ex']);
    assert.equal(roll.code, 0, roll.stderr);
    const v1 = await versions();
    assert.notEqual(v1.ex_api, v0.ex_api, 'api was updated');
    assert.deepEqual({ ...v1, ex_api: 0 }, { ...v0, ex_api: 0 }, 'the others were not');
    const apiId = (await services()).get('ex_api')!.ID;
    const now = await liveTasks();
    assert.ok(now.filter((t) => t.ServiceID === apiId).every((t) => !t0.includes(t.ID)), 'api runs new tasks');
    const others = now.filter((t) => t.ServiceID !== apiId).map((t) => t.ID);
    assert.equal(others.length, 3);
    assert.ok(others.every((id) => t0.includes(id)), 'web and db kept their tasks');
    assert.equal((await services()).get('ex_api')!.Spec.TaskTemplate!.ContainerSpec!.Image, 'busybox:v2');
    await eventually('the application still answers', async () => (await get(`http://${lab.hosts[0].address}:${webPort}/cgi-bin/api`)) === 'api ok; db says: db ok');
  });

  it('stack rm leaves no service, network or secret in the cluster, and no overlay device on any host', async () => {
    const r = await shoal(['stack', 'rm', 'ex']);
    assert.equal(r.code, 0, r.stderr);
    const m1 = lab.host('m1').client;
    assert.deepEqual(await m1.get('/services', labelled), []);
    assert.deepEqual(await m1.get('/secrets', labelled), []);
    await eventually('the stack networks go', async () => (await m1.get<unknown[]>('/networks', labelled)).length === 0);
    for (const h of lab.hosts) {
      await eventually(`${h.name} has no overlay device`, async () => !(await lab.exec(h.name, ['ip', '-o', 'link', 'show'])).stdout.split('\n').some((l) => / (ov|vx)\d+[:@]/.test(l)));
    }
  });
});
