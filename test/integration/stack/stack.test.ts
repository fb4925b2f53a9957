import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SHOAL, loadBusybox, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { docker, runCli } from '../../helpers/docker';
import { eventually, taskContainers } from '../../helpers/swarm';
import type { Service, Task } from '../../../shared/swarm/types';

const EXAMPLE = join(REPO_ROOT, 'deploy/stacks/example.yml');
const LABEL = 'com.docker.stack.namespace';

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('shoal stack on a one-node swarm (shoal and docker CLIs, the example stack)', function () {
  this.timeout(180_000);
  let d: TestDaemon;
  let dir: string;
  const swarmPort = 29000 + Math.floor(Math.random() * 150) * 6;
  const webPort = 31000 + Math.floor(Math.random() * 2000);
  const env = { WEB_PORT: String(webPort) };
  const shoal = (args: string[], cwd?: string) => runCli(process.execPath, [SHOAL, '-H', d.host, ...args], { env, cwd, timeoutMs: 120_000 });
  const labelled = (ns: string) => ({ query: { filters: JSON.stringify({ label: [`${LABEL}=${ns}`] }) } });
  const services = async (ns: string) => new Map((await d.client.get<Service[]>('/services', labelled(ns))).map((s) => [s.Spec.Name!, s]));
  const tasks = (service: string) => d.client.get<Task[]>('/tasks', { query: { filters: JSON.stringify({ service: [service] }) } });
  const runningTasks = async (service: string) => (await tasks(service)).filter((t) => t.DesiredState === 'running').map((t) => t.ID).sort();
  const versions = async (ns: string) => Object.fromEntries([...(await services(ns))].map(([n, s]) => [n, s.Version!.Index]));
  const everything = async (ns: string) =>
    JSON.stringify(await Promise.all(['/services', '/networks', '/secrets', '/configs'].map(async (p) => (await d.client.get<Array<{ ID?: string; Id?: string }>>(p, labelled(ns))).map((o) => o.ID ?? o.Id).sort())));

  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-stack-'));
    const init = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${swarmPort}`]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await d?.client.post('/swarm/leave', { query: { force: 1 } }).catch(() => undefined);
    await d?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('deploys the example: three services on two overlay networks, talking by name, dependencies started first', async () => {
    const r = await shoal(['stack', 'deploy', '-c', EXAMPLE, 'ex']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Creating secret ex_db_password\nCreating network ex_back\nCreating network ex_front\nCreating service ex_db\n/);
    assert.match(r.stdout, /Waiting for service ex_db to be ready \(ex_api depends on it\)/);
    const ls = await shoal(['stack', 'services', 'ex', '--format', '{{.Name}} {{.Replicas}} {{.Ports}}']);
    assert.deepEqual(ls.stdout.trim().split('\n'), ['ex_api 1/1 ', 'ex_db 1/1 ', `ex_web 2/2 *:${webPort}->80/tcp`]);
    // web (front) -> api (front and back) -> db (back only), by service name, through the routing mesh.
    assert.equal((await eventually('the web front', async () => get(webPort, '/cgi-bin/api'))).trim(), 'api ok; db says: db ok');

    // depends_on: each dependent's tasks were created after its dependency's task was running.
    const byName = await services('ex');
    const first = async (svc: string) => (await tasks(byName.get(svc)!.ID)).filter((t) => t.DesiredState === 'running');
    const [db] = await first('ex_db');
    const [api] = await first('ex_api');
    const web = await first('ex_web');
    assert.equal(db.Status.State, 'running');
    assert.ok(Date.parse(api.CreatedAt!) >= Date.parse(db.Status.Timestamp!), `api created ${api.CreatedAt}, db running at ${db.Status.Timestamp}`);
    for (const w of web) assert.ok(Date.parse(w.CreatedAt!) >= Date.parse(api.Status.Timestamp!), `web created ${w.CreatedAt}, api running at ${api.Status.Timestamp}`);

    // The secret is in db's container only.
    const [dbC] = await taskContainers(d.client, byName.get('ex_db')!.ID);
    const [apiC] = await taskContainers(d.client, byName.get('ex_api')!.ID);
    assert.equal((await docker(d.host, ['exec', dbC.Id, 'cat', '/run/secrets/db_password'])).stdout, 's3cr3t-example-password\n');
    assert.notEqual((await docker(d.host, ['exec', apiC.Id, 'ls', '/run/secrets/db_password'])).code, 0);

    const ps = await shoal(['stack', 'ps', 'ex', '--format', '{{.Name}} {{.CurrentState}}']);
    assert.deepEqual(ps.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')), ['ex_api.1 Running', 'ex_db.1 Running', 'ex_web.1 Running', 'ex_web.2 Running']);
  });

  it('re-deploying the same file changes nothing: no service version moves, no task restarts', async () => {
    const ids = await services('ex');
    const before = { versions: await versions('ex'), tasks: await Promise.all([...ids.values()].map((s) => runningTasks(s.ID))) };
    const r = await shoal(['stack', 'deploy', '-c', EXAMPLE, 'ex']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/is up to date/g) ?? []).length, 3, r.stdout);
    assert.doesNotMatch(r.stdout, /Updating|Creating service/);
    assert.deepEqual({ versions: await versions('ex'), tasks: await Promise.all([...ids.values()].map((s) => runningTasks(s.ID))) }, before);
  });

  it('an override that changes one service\'s environment updates only that service', async () => {
    const over = join(dir, 'override.yml');
    await fs.writeFile(over, 'services:\n  api:\n    environment:\n      API_MODE: changed\n');
    const ids = await services('ex');
    const before = await versions('ex');
    const untouched = { db: await runningTasks(ids.get('ex_db')!.ID), web: await runningTasks(ids.get('ex_web')!.ID) };
    const r = await shoal(['stack', 'deploy', '-c', EXAMPLE, '-c', over, 'ex']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Updating service ex_api \(id: \w+\)/);
    const after = await versions('ex');
    assert.ok(after.ex_api! > before.ex_api!);
    assert.deepEqual([after.ex_db, after.ex_web], [before.ex_db, before.ex_web]);
    assert.deepEqual({ db: await runningTasks(ids.get('ex_db')!.ID), web: await runningTasks(ids.get('ex_web')!.ID) }, untouched);
    const api = (await services('ex')).get('ex_api')!;
    assert.ok(api.Spec.TaskTemplate!.ContainerSpec!.Env!.includes('API_MODE=changed'));
  });

  it('an invalid file deploys nothing and lists every error with file:line:column', async () => {
    const bad = join(dir, 'bad.yml');
    await fs.writeFile(bad, 'services:\n  api:\n    image: 3\n    deploy:\n      replicas: many\n  web:\n    depends_on: [nope]\n');
    const before = await everything('ex');
    const versionsBefore = await versions('ex');
    const r = await shoal(['stack', 'deploy', '-c', EXAMPLE, '-c', bad, 'ex']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trim().split('\n'), [
      `${bad}:3:12: services.api.image must be a string, not 3`,
      `${bad}:5:17: services.api.deploy.replicas must be an integer, not 'many'`,
      `${bad}:7:18: services.web.depends_on: service 'nope' is not defined`,
    ]);
    assert.equal(await everything('ex'), before);
    assert.deepEqual(await versions('ex'), versionsBefore);
  });

  it('a dependency that never gets ready stops the deploy with its name, and a summary of what was applied', async () => {
    const file = join(dir, 'slow.yml');
    await fs.writeFile(
      file,
      [
        'services:',
        '  dep:',
        '    image: busybox:latest',
        '    command: ["sleep", "3600"]',
        '    stop_grace_period: 1s',
        '    healthcheck: { test: ["CMD", "false"], interval: 1s, retries: 1000 }',
        '  app:',
        '    image: busybox:latest',
        '    command: ["sleep", "3600"]',
        '    depends_on: [dep]',
        '',
      ].join('\n'),
    );
    const r = await shoal(['stack', 'deploy', '--wait-timeout', '2s', '-c', file, 'slow']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\nfailed to deploy stack slow: service slow_dep did not become ready within 2s: 0\/1 tasks ready\n/);
    assert.match(r.stderr, /Applied \(2 of 3\):\n - create network slow_default\n - create service slow_dep\nNot applied \(1\):\n - create service slow_app \(failed\)\n/);
    assert.deepEqual([...(await services('slow')).keys()], ['slow_dep']);
    const rm = await shoal(['stack', 'rm', 'slow']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(await everything('slow'), '[[],[],[],[]]');
  });

  it('the stock docker CLI deploys a stack; each CLI sees the other\'s stacks; shoal finds nothing to change in it', async () => {
    const file = join(dir, 'dk.yml');
    await fs.writeFile(
      file,
      [
        'version: "3.8"',
        'services:',
        '  one:',
        '    image: busybox:latest',
        '    command: ["sleep", "3600"]',
        '    stop_grace_period: 1s',
        '    configs: [{ source: motd, target: /etc/motd }]',
        '    networks: [inner]',
        '  two:',
        '    image: busybox:latest',
        '    command: ["sleep", "3600"]',
        '    stop_grace_period: 1s',
        '    deploy: { replicas: 2 }',
        '    networks: [inner]',
        'networks:',
        '  inner: {}',
        'configs:',
        '  motd:',
        '    file: ./motd.txt',
        '',
      ].join('\n'),
    );
    await fs.writeFile(join(dir, 'motd.txt'), 'hello\n');
    const r = await docker(d.host, ['stack', 'deploy', '-c', file, 'dk']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Creating service dk_one/);
    const expect = 'NAME      SERVICES\ndk        2\nex        3\n';
    assert.equal((await shoal(['stack', 'ls'])).stdout, expect);
    assert.equal((await docker(d.host, ['stack', 'ls'])).stdout, expect);
    const ds = await docker(d.host, ['stack', 'services', 'ex', '--format', '{{.Name}}']);
    assert.equal(ds.stdout, 'ex_api\nex_db\nex_web\n');
    await eventually('dk running', async () => (await shoal(['stack', 'services', 'dk', '--format', '{{.Replicas}}'])).stdout === '1/1\n2/2\n');
    const dps = await docker(d.host, ['stack', 'ps', 'ex', '-q', '--filter', 'desired-state=running']);
    assert.equal(dps.stdout.trim().split('\n').length, 4);

    const before = await versions('dk');
    const again = await shoal(['stack', 'deploy', '-c', file, 'dk']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/is up to date/g) ?? []).length, 2, again.stdout);
    assert.deepEqual(await versions('dk'), before);

    // --prune: a service the file no longer has goes; the others stay as they are.
    const smaller = join(dir, 'dk-one.yml');
    await fs.writeFile(smaller, (await fs.readFile(file, 'utf8')).replace(/ {2}two:\n(?: {4}.*\n)+/, ''));
    const pruned = await shoal(['stack', 'deploy', '--prune', '-d', '-c', smaller, 'dk']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^Removing service dk_two\n/);
    assert.deepEqual(await versions('dk'), { dk_one: before.dk_one });
  });

  it('stack rm leaves no service, network, secret or config of either stack', async () => {
    const r = await shoal(['stack', 'rm', 'ex', 'dk']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /dk_two/);
    assert.match(r.stdout, /^Removing service ex_api\nRemoving service ex_db\nRemoving service ex_web\nRemoving secret ex_db_password\n/);
    assert.match(r.stdout, /Removing config dk_motd\n/);
    for (const ns of ['ex', 'dk']) assert.equal(await everything(ns), '[[],[],[],[]]', ns);
    const left = (await d.client.get<Array<{ Name: string }>>('/networks')).map((n) => n.Name).filter((n) => /^(ex|dk)_/.test(n));
    assert.deepEqual(left, []);
    const none = await shoal(['stack', 'rm', 'ex']);
    assert.equal(none.stderr, 'Nothing found in stack: ex\n');
    assert.equal((await shoal(['stack', 'ls'])).stdout, 'NAME      SERVICES\n');
  });

  it('volumes: a named volume is made on the node where the task lands; a bind whose source is missing fails the task with a clear error', async () => {
    const file = join(dir, 'vol.yml');
    await fs.writeFile(file, [
      'version: "3.8"',
      'services:',
      '  keeper:',
      '    image: busybox:latest',
      '    command: ["sh", "-c", "echo kept > /data/f; exec sleep 3600"]',
      '    stop_grace_period: 1s',
      '    volumes: ["data:/data"]',
      '  broken:',
      '    image: busybox:latest',
      '    command: ["sleep", "3600"]',
      '    volumes: ["/no/such/source/dir:/x"]',
      '    deploy:',
      '      restart_policy: { condition: none }',
      'volumes:',
      '  data: {}',
      '',
    ].join('\n'));
    const r = await shoal(['stack', 'deploy', '-d', '-c', file, 'vol']);
    assert.equal(r.code, 0, r.stderr);
    await eventually('keeper runs', async () => (await tasks('vol_keeper')).some((t) => t.Status.State === 'running'));
    const vols = await d.client.get<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null }> }>('/volumes');
    const made = vols.Volumes.find((v) => v.Name === 'vol_data');
    assert.ok(made, 'the stack volume exists on the node');
    const [broken] = await eventually('the broken task fails', async () => {
      const ts = (await tasks('vol_broken')).filter((t) => t.Status.State === 'rejected' || t.Status.State === 'failed');
      return ts.length ? ts : undefined;
    });
    assert.match(broken.Status.Err ?? '', /bind source path does not exist: \/no\/such\/source\/dir/);
    assert.equal((await shoal(['stack', 'rm', 'vol'])).code, 0);
  });
});
