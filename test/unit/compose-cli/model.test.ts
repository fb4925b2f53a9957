import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStackErrors, isStackError } from '../../../shared/compose';
import { containerRequest, fileTarget, loadProject, OneNodeError, restartPolicy, type ComposeProject } from '../../../cli/compose';

const FILE = `
version: "3.9"
services:
  web:
    image: busybox
    command: httpd -f -p 80
    environment:
      GREETING: hello
      TEMPLATE: "{{.Task.Slot}}"
    hostname: front
    ports:
      - "8080:80"
      - target: 53
        protocol: udp
    networks:
      front:
        aliases: [www]
      default:
    depends_on:
      db:
        condition: service_healthy
      cache:
    secrets:
      - db_password
      - source: db_password
        target: /etc/pw
    configs:
      - source: site
        target: /etc/site.conf
      - site
    volumes:
      - data:/data
      - ./html:/html:ro
    restart: unless-stopped
    deploy:
      replicas: 3
      placement:
        constraints: [node.role == manager]
      resources:
        limits: { memory: 64M }
  db:
    image: busybox:1.36
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
    deploy:
      restart_policy:
        condition: on-failure
        max_attempts: 3
  cache:
    image: busybox
    depends_on: [db]
networks:
  front:
    driver: overlay
    labels: { tier: front }
volumes:
  data:
secrets:
  db_password:
    file: ./pw.txt
configs:
  site:
    file: ./site.conf
`;

describe('compose-cli: the project model (create requests from a stack file)', () => {
  let dir: string;
  let project: ComposeProject;

  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const load = (files = ['compose.yaml'], env: Record<string, string> = {}) => loadProject({ name: 'shop', files: files.map((f) => join(dir, f)), env, cwd: dir });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'compose-cli-model-'));
    write('compose.yaml', FILE);
    write('pw.txt', 'secret\n');
    write('site.conf', 'x=1\n');
    project = await load();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const service = (name: string) => project.services.find((s) => s.name === name)!;

  it('maps a service to one container create body: command, env, hostname, labels, ports, limits', () => {
    const web = service('web');
    assert.equal(web.replicas, 3);
    const b = web.body;
    assert.equal(b.Image, 'busybox:latest');
    assert.deepEqual(b.Cmd, ['httpd', '-f', '-p', '80']);
    // compose does not expand swarm's {{...}} templates
    assert.deepEqual(b.Env, ['GREETING=hello', 'TEMPLATE={{.Task.Slot}}']);
    assert.equal(b.Hostname, 'front');
    assert.equal(b.HostConfig!.Memory, 64 * 1024 * 1024);
    assert.deepEqual(b.HostConfig!.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
    assert.deepEqual(b.HostConfig!.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.deepEqual(b.Labels, {
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.depends_on': 'cache:service_started:false,db:service_healthy:false',
    });
    assert.ok(!Object.keys(b.Labels!).some((k) => k.startsWith('com.docker.swarm') || k === 'com.docker.stack.namespace'));
  });

  it('joins the project networks with the service name as alias', () => {
    const b = service('web').body;
    assert.equal(b.HostConfig!.NetworkMode, 'shop_default');
    assert.deepEqual(b.NetworkingConfig!.EndpointsConfig, { shop_default: { Aliases: ['web'] }, shop_front: { Aliases: ['www', 'web'] } });
    assert.deepEqual(
      project.networks.map((n) => [n.name, n.create?.Driver, n.create?.Labels]),
      [
        ['shop_default', 'bridge', { 'com.docker.compose.project': 'shop', 'com.docker.compose.network': 'default', 'com.docker.compose.version': '2.29.0' }],
        ['shop_front', 'bridge', { tier: 'front', 'com.docker.compose.project': 'shop', 'com.docker.compose.network': 'front', 'com.docker.compose.version': '2.29.0' }],
      ],
    );
    assert.deepEqual(project.volumes.map((v) => [v.name, v.create?.Labels['com.docker.compose.volume']]), [['shop_data', 'data']]);
  });

  it('mounts secrets and configs read-only from their files, volumes and binds as written', () => {
    const mounts = service('web').body.HostConfig!.Mounts!.map((m) => [m.Type, m.Source, m.Target, !!m.ReadOnly]);
    assert.deepEqual(mounts, [
      ['volume', 'shop_data', '/data', false],
      ['bind', join(dir, 'html'), '/html', true],
      ['bind', join(dir, 'pw.txt'), '/run/secrets/db_password', true],
      ['bind', join(dir, 'pw.txt'), '/etc/pw', true],
      ['bind', join(dir, 'site.conf'), '/etc/site.conf', true],
      ['bind', join(dir, 'site.conf'), '/site', true],
    ]);
  });

  it('keeps the health check and maps deploy.restart_policy', () => {
    const db = service('db').body;
    assert.deepEqual(db.Healthcheck, { Test: ['CMD', 'true'], Interval: 2e9 });
    assert.deepEqual(db.HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(service('cache').body.HostConfig!.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.deepEqual(service('cache').dependsOn, [{ service: 'db', condition: 'service_started' }]);
  });

  it('adds the container number, hash and project labels per container', () => {
    const req = containerRequest(project, service('web'), 2, 'sha256:abc');
    assert.equal(req.name, 'shop-web-2');
    const l = req.body.Labels!;
    assert.equal(l['com.docker.compose.container-number'], '2');
    assert.equal(l['com.docker.compose.config-hash'], service('web').hash);
    assert.equal(l['com.docker.compose.image'], 'sha256:abc');
    assert.equal(l['com.docker.compose.project.config_files'], join(dir, 'compose.yaml'));
    assert.equal(l['com.docker.compose.project.working_dir'], dir);
  });

  it('warns about what one node ignores, but not about restart, which it honours', () => {
    const text = project.warnings.map((w) => `${w.pos ? `${w.pos.line}:${w.pos.column}` : '-'} ${w.message}`);
    assert.ok(text.includes("37:7 service web: ignoring 'deploy.placement' on one node: placement needs a swarm"), text.join('\n'));
    assert.ok(text.some((t) => /^55:5 network front: driver overlay needs a swarm/.test(t)), text.join('\n'));
    assert.ok(!text.some((t) => /restart/.test(t)), text.join('\n'));
  });

  it('changes the hash of a changed service only', async () => {
    write('env.yaml', 'services:\n  cache:\n    environment: [X=1]\n');
    const changed = await load(['compose.yaml', 'env.yaml']);
    const hashes = (p: ComposeProject) => Object.fromEntries(p.services.map((s) => [s.name, s.hash]));
    const [a, b] = [hashes(project), hashes(changed)];
    assert.equal(a.web, b.web);
    assert.equal(a.db, b.db);
    assert.notEqual(a.cache, b.cache);
    assert.deepEqual(hashes(await load()), a, 'loading again gives the same hashes');
  });

  it('reports every error of an invalid file with file:line:col, and swarm-only secrets the same way', async () => {
    write('bad.yaml', 'services:\n  web:\n    image: busybox\n    ports: ["99999:80"]\n  db:\n    depends_on: [ghost]\n');
    const err = await load(['bad.yaml']).catch((e: unknown) => e);
    assert.ok(isStackError(err));
    const lines = formatStackErrors(err.issues).split('\n');
    assert.ok(lines.length >= 3, lines.join('\n'));
    for (const l of lines) assert.match(l, new RegExp(`^${join(dir, 'bad.yaml')}:\\d+:\\d+: `));

    write('ext.yaml', 'services:\n  web:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    external: true\n  unused:\n    external: true\n');
    const ext = await load(['ext.yaml']).catch((e: unknown) => e);
    assert.ok(ext instanceof OneNodeError);
    assert.deepEqual(ext.message, `${join(dir, 'ext.yaml')}:6:3: secrets.s: external secrets live in a swarm; on one node a secret needs a file`);
  });

  it('maps restart policies and file targets as docker compose does', () => {
    assert.deepEqual(restartPolicy('always', undefined), { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(restartPolicy('on-failure:5', undefined), { Name: 'on-failure', MaximumRetryCount: 5 });
    assert.deepEqual(restartPolicy('no', undefined), { Name: 'no', MaximumRetryCount: 0 });
    assert.deepEqual(restartPolicy(undefined, undefined), { Name: 'no', MaximumRetryCount: 0 });
    assert.deepEqual(restartPolicy('no', { Condition: 'any' }), { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(restartPolicy(undefined, { Condition: 'none' }), { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(fileTarget('secret', 'pw'), '/run/secrets/pw');
    assert.equal(fileTarget('secret', '/etc/pw'), '/etc/pw');
    assert.equal(fileTarget('config', 'site.conf'), '/site.conf');
  });
});
