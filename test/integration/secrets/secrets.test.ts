import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../../shared/client';
import { run } from '../../../shared/exec';
import { liveDir } from '../../../shared/keys';
import { SHOAL, loadBusybox, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { docker, runCli } from '../../helpers/docker';
import { eventually, running, taskContainers } from '../../helpers/swarm';

interface PayloadJson {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}

const status = (code: number, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, String(e));
  assert.equal(e.status, code, e.message);
  if (message) assert.match(e.message, message);
  return true;
};

/** Mount points under a directory, from the daemon's (our) mount table. */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return table
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && p.startsWith(`${dir}/`));
}

describe('secrets and configs on a one-manager swarm (docker and shoal CLIs, real etcd, busybox tasks)', function () {
  this.timeout(180_000);
  let d: TestDaemon;
  const port = 27000 + Math.floor(Math.random() * 500) * 6;
  const shoal = (args: string[], input?: string) => runCli(process.execPath, [SHOAL, '-H', d.host, ...args], { input });
  const secretsDir = () => join(d.execRoot, 'secrets');
  const snapshot = async () => JSON.stringify([await d.client.get('/secrets'), await d.client.get('/configs')]);

  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
  });
  after(async () => {
    await d?.client.post('/swarm/leave', { query: { force: 1 } }).catch(() => undefined);
    // A failed test may leave a task's tmpfs; it goes before the roots do.
    if (d) for (const m of await mountsUnder(secretsDir())) await run('umount', ['-l', m]).catch(() => undefined);
    await d?.destroy();
  });

  it('outside a swarm the routes answer as dockerd does off a manager', async () => {
    await assert.rejects(d.client.get('/secrets'), status(503, /This node is not a swarm manager/));
    await assert.rejects(d.client.post('/configs/create', { body: { Name: 'x', Data: 'eA==' } }), status(503, /not a swarm manager/));
    const r = await docker(d.host, ['secret', 'ls']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is not a swarm manager/);
  });

  it('swarm init writes the cluster data key 0600 in the data root', async () => {
    const init = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`]);
    assert.equal(init.code, 0, init.stderr);
    const st = await fs.stat(join(d.dataRoot, 'swarm', 'data.key'));
    assert.equal(st.mode & 0o777, 0o600);
  });

  it('create, ls, inspect with both CLIs; a secret\'s data is never returned and is not in etcd in clear', async () => {
    const a = await docker(d.host, ['secret', 'create', '--label', 'env=prod', 'db_pass', '-'], { input: 'Sup3r-Secret-Value' });
    assert.equal(a.code, 0, a.stderr);
    const file = join(d.dataRoot, '..', 'token.txt');
    await fs.writeFile(file, 'api-token-PLAINTEXT');
    const b = await shoal(['secret', 'create', '-l', 'tier=api', 'api_token', file]);
    assert.equal(b.code, 0, b.stderr);
    await fs.rm(file);

    const ls = await docker(d.host, ['secret', 'ls', '--format', '{{.Name}} {{.Labels}}']);
    assert.deepEqual(ls.stdout.trim().split('\n'), ['api_token tier=api', 'db_pass env=prod']);
    assert.equal((await shoal(['secret', 'ls', '-q'])).stdout.trim().split('\n').sort().join(), [a.stdout.trim(), b.stdout.trim()].sort().join());
    assert.equal((await shoal(['secret', 'ls', '--filter', 'label=env=prod', '--format', '{{.ID}}'])).stdout.trim(), a.stdout.trim());
    const table = (await shoal(['secret', 'ls'])).stdout.split('\n')[0];
    assert.match(table, /^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/);

    const [viaDocker] = JSON.parse((await docker(d.host, ['secret', 'inspect', 'db_pass'])).stdout) as PayloadJson[];
    assert.equal(viaDocker.ID, a.stdout.trim());
    assert.deepEqual(viaDocker.Spec, { Name: 'db_pass', Labels: { env: 'prod' } });
    const pretty = await shoal(['secret', 'inspect', '--pretty', 'api_token']);
    assert.match(pretty.stdout, /^ID:\s+\w+\nName:\s+api_token\nLabels:\n - tier=api\nDriver:\s+\nCreated at:/);
    // By ID prefix too; Data appears nowhere in the API.
    const one = await d.client.get<PayloadJson>(`/secrets/${a.stdout.trim().slice(0, 6)}`);
    assert.equal(one.Spec.Name, 'db_pass');
    const all = JSON.stringify([one, await d.client.get('/secrets')]);
    assert.ok(!all.includes('Data') && !all.includes('Sealed'), all);
    assert.ok(!all.includes(Buffer.from('Sup3r-Secret-Value').toString('base64')));

    // etcd's loopback side takes the manager's own certificate (mutual TLS), minted at each start and kept in RAM.
    const tls = join(liveDir(join(d.dataRoot, 'swarm')), 'etcd-tls');
    const etcd = await run('etcdctl', ['--endpoints', `https://127.0.0.1:${port + 2}`, '--cacert', join(tls, 'ca.crt'), '--cert', join(tls, 'local.crt'), '--key', join(tls, 'local.key'), 'get', '--prefix', '/shoal/v1/secrets/'], { env: { ...process.env, ETCDCTL_API: '3' } });
    assert.match(etcd.stdout, /db_pass/);
    assert.match(etcd.stdout, /AES-256-GCM/);
    for (const plain of ['Sup3r-Secret-Value', 'api-token-PLAINTEXT']) {
      assert.ok(!etcd.stdout.includes(plain) && !etcd.stdout.includes(Buffer.from(plain).toString('base64')), `${plain} is in etcd`);
    }
  });

  it('configs keep and show their data; both CLIs create and list them', async () => {
    const a = await docker(d.host, ['config', 'create', 'app_conf', '-'], { input: 'listen=8080\n' });
    assert.equal(a.code, 0, a.stderr);
    const b = await shoal(['config', 'create', '--label', 'x=y', 'motd', '-'], 'hello from a config\n');
    assert.equal(b.code, 0, b.stderr);
    const [c] = JSON.parse((await shoal(['config', 'inspect', 'app_conf'])).stdout) as PayloadJson[];
    assert.equal(Buffer.from(c.Spec.Data!, 'base64').toString(), 'listen=8080\n');
    assert.equal((await docker(d.host, ['config', 'ls', '--format', '{{.Name}}'])).stdout, 'app_conf\nmotd\n');
    assert.match((await shoal(['config', 'inspect', '--pretty', 'motd'])).stdout, /Labels:\n - x=y\n[\s\S]*Data:\nhello from a config\n/);
  });

  it('bad input gets a clear 4xx and changes nothing', async () => {
    const before = await snapshot();
    const dup = await docker(d.host, ['secret', 'create', 'db_pass', '-'], { input: 'x' });
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /secret db_pass already exists/);
    await assert.rejects(d.client.post('/configs/create', { body: { Name: 'motd', Data: 'eA==' } }), status(409, /^config motd already exists$/));
    await assert.rejects(d.client.post('/secrets/create', { body: { Name: '-bad', Data: 'eA==' } }), status(400, /^invalid name, only 64/));
    await assert.rejects(d.client.post('/secrets/create', { body: { Name: 'big', Data: Buffer.alloc(500 * 1024).toString('base64') } }), status(400, /^secret data must be larger than 0 and less than 512000 bytes$/));
    await assert.rejects(d.client.post('/secrets/create', { body: { Name: 'empty', Data: '' } }), status(400, /secret data must be larger than 0/));
    await assert.rejects(d.client.post('/secrets/create', { body: { Name: 'b64', Data: '%%%' } }), status(400, /Data: must be base64/));
    await assert.rejects(d.client.post('/secrets/create', { body: { Name: 'typo', Data: 'eA==', Lables: {} } }), status(400, /Lables: unknown field \(did you mean Labels\?\)/));
    const tmpl = await shoal(['config', 'create', '--template-driver', 'golang', 'tmpl', '-'], 'x');
    assert.notEqual(tmpl.code, 0);
    assert.match(tmpl.stderr, /template drivers are not supported/);
    const s = await d.client.get<PayloadJson>('/secrets/db_pass');
    await assert.rejects(d.client.post(`/secrets/${s.ID}/update`, { query: { version: s.Version.Index }, body: { Name: 'db_pass', Data: 'eA==' } }), status(400, /^only updates to Labels are allowed$/));
    await assert.rejects(d.client.post(`/secrets/${s.ID}/update`, { query: { version: s.Version.Index }, body: { Name: 'renamed' } }), status(400, /only updates to Labels/));
    await assert.rejects(d.client.get('/secrets/nope'), status(404, /^secret nope not found$/));
    const missing = await docker(d.host, ['config', 'rm', 'nope']);
    assert.match(missing.stderr, /config nope not found/);
    assert.equal(await snapshot(), before);

    // Labels may change, at the version read; the same data may be given again.
    await d.client.post(`/secrets/${s.ID}/update`, { query: { version: s.Version.Index }, body: { Name: 'db_pass', Labels: { env: 'staging' }, Data: Buffer.from('Sup3r-Secret-Value').toString('base64') } });
    assert.deepEqual((await d.client.get<PayloadJson>('/secrets/db_pass')).Spec.Labels, { env: 'staging' });
    await assert.rejects(d.client.post(`/secrets/${s.ID}/update`, { query: { version: s.Version.Index }, body: { Name: 'db_pass' } }), status(409));
  });

  it('a service sees its secrets and configs with their content, uid, gid and mode; they cannot be removed meanwhile', async () => {
    const create = await docker(d.host, [
      'service', 'create', '--detach', '--name', 'app', '--stop-grace-period', '1s',
      '--secret', 'source=db_pass,target=db,uid=1000,gid=1001,mode=0400',
      '--secret', 'source=api_token,target=/etc/api.token',
      '--config', 'source=app_conf,target=/etc/app.conf,uid=33,gid=34,mode=0440',
      '--config', 'motd',
      'busybox', 'sleep', '3600',
    ]);
    assert.equal(create.code, 0, create.stderr);
    const [t] = await running(d.client, 'app', 1);
    const [c] = await taskContainers(d.client);
    const sh = async (cmd: string) => {
      const r = await docker(d.host, ['exec', c.Id, 'sh', '-c', cmd]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(await sh('cat /run/secrets/db; echo; cat /etc/api.token; echo; cat /etc/app.conf /motd'), 'Sup3r-Secret-Value\napi-token-PLAINTEXT\nlisten=8080\nhello from a config\n');
    assert.equal(await sh('stat -c "%n %u %g %a" /run/secrets/db /etc/api.token /etc/app.conf /motd'), '/run/secrets/db 1000 1001 400\n/etc/api.token 0 0 444\n/etc/app.conf 33 34 440\n/motd 0 0 444\n');
    // Read-only in the container.
    assert.notEqual((await docker(d.host, ['exec', c.Id, 'sh', '-c', 'echo x > /run/secrets/db'])).code, 0);
    // On the host: the files live on the task's own tmpfs.
    assert.deepEqual(await mountsUnder(secretsDir()), [join(secretsDir(), t.ID)]);

    const rm = await docker(d.host, ['secret', 'rm', 'db_pass']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /secret 'db_pass' is in use by the following service: app/);
    const rmc = await shoal(['config', 'rm', 'motd']);
    assert.notEqual(rmc.code, 0);
    assert.match(rmc.stderr, /Error response from daemon: config 'motd' is in use by the following service: app/);
    assert.equal((await d.client.get<PayloadJson[]>('/secrets')).length, 2);
  });

  it('a service naming a secret that does not exist is refused', async () => {
    const r = await docker(d.host, ['service', 'create', '--detach', '--name', 'nosecret', '--secret', 'ghost', 'busybox', 'sleep', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /secret not found: ghost/);
    await assert.rejects(
      d.client.post('/services/create', { body: { Name: 'raw', TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 'nosuchid', SecretName: 'ghost', File: { Name: 'g' } }] } } } }),
      status(400, /secret not found: ghost/),
    );
  });

  it('after a daemon restart the manager loads its data key: the running task keeps its files and a new task gets the secret', async () => {
    const [before] = await taskContainers(d.client);
    await d.stop();
    await d.restart();
    await eventually('the manager to answer again', async () => (await d.client.get<PayloadJson[]>('/secrets')).length === 2);
    const r = await docker(d.host, ['service', 'create', '--detach', '--name', 'again', '--stop-grace-period', '1s', '--secret', 'db_pass', 'busybox', 'sleep', '3600']);
    assert.equal(r.code, 0, r.stderr);
    await running(d.client, 'again', 1);
    const [c] = await taskContainers(d.client, (await d.client.get<{ ID: string }>('/services/again')).ID);
    assert.equal((await docker(d.host, ['exec', c.Id, 'cat', '/run/secrets/db_pass'])).stdout, 'Sup3r-Secret-Value');
    assert.equal((await docker(d.host, ['exec', before.Id, 'cat', '/run/secrets/db'])).stdout, 'Sup3r-Secret-Value');
    assert.equal((await docker(d.host, ['service', 'rm', 'again'])).code, 0);
  });

  it('after the service goes, no tmpfs or directory is left and the objects can be removed', async () => {
    assert.equal((await docker(d.host, ['service', 'rm', 'app'])).code, 0);
    await eventually('the task container to go', async () => (await taskContainers(d.client)).length === 0);
    await eventually('the task tmpfs to go', async () => (await mountsUnder(secretsDir())).length === 0 && (await fs.readdir(secretsDir()).catch(() => [])).length === 0);
    const rm = await docker(d.host, ['secret', 'rm', 'db_pass', 'api_token']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'db_pass\napi_token\n');
    assert.equal((await shoal(['config', 'rm', 'app_conf', 'motd'])).code, 0);
    assert.deepEqual(await d.client.get('/secrets'), []);
    assert.deepEqual(await d.client.get('/configs'), []);
  });

  it('swarm leave takes the task containers and their secrets\' tmpfs with it', async () => {
    const made = await docker(d.host, ['secret', 'create', 'parting', '-'], { input: 'bye' });
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await docker(d.host, ['service', 'create', '--detach', '--name', 'last', '--secret', 'parting', 'busybox', 'sleep', '3600'])).code, 0);
    await running(d.client, 'last', 1);
    assert.equal((await mountsUnder(secretsDir())).length, 1, 'the task has its tmpfs');
    assert.equal((await docker(d.host, ['swarm', 'leave', '--force'])).code, 0);
    assert.deepEqual(await mountsUnder(secretsDir()), []);
    assert.deepEqual(await fs.readdir(secretsDir()).catch(() => []), []);
  });
});
