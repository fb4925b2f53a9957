import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { loadBusybox, SHOAL, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { shoal as runShoal, type ShoalResult } from '../cli/helpers';

interface Inspect {
  Id: string;
  Name: string;
  Created: string;
  State: { Status: string; Running: boolean; StartedAt: string; Health?: { Status: string; Log: Array<{ End: string; ExitCode: number }> } };
  Config: { Env: string[]; Labels: Record<string, string> };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
}

/** Three services: web waits for db to be healthy, client for web to be started. */
function composeFile(opts: { clientEnv?: string } = {}): string {
  return `services:
  db:
    image: busybox
    command: ["sh", "-c", "echo db ready; mkdir -p /www; echo db-page > /www/index.html; exec httpd -f -p 80 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 1s
      retries: 30
    volumes:
      - data:/data
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sh", "-c", "echo web ready; mkdir -p /www; echo web-page > /www/index.html; exec httpd -f -p 80 -h /www"]
    depends_on:
      db:
        condition: service_healthy
    ports:
      - "80"
    stop_grace_period: 1s
  client:
    image: busybox
    command: ["sh", "-c", "echo client ready; exec sleep 600"]
    environment:
      ROLE: ${opts.clientEnv ?? 'client'}
    depends_on: [web]
    secrets: [pw]
    stop_grace_period: 1s
volumes:
  data:
secrets:
  pw:
    file: ./pw.txt
`;
}

describe('shoal compose on one node (no swarm)', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  let dir: string;
  const P = 'cmpt';

  const shoal = (args: string[], cwd = dir): Promise<ShoalResult> => runShoal(d.host, args, { cwd });
  const compose = (...args: string[]) => shoal(['compose', '-p', P, ...args]);
  const ok = async (p: Promise<ShoalResult>): Promise<ShoalResult> => {
    const r = await p;
    assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };
  const inspect = (name: string) => d.client.get<Inspect>(`/containers/${name}/json`);
  const projectContainers = async (project = P) => (await d.client.get<Array<{ Id: string; Names: string[]; State: string }>>('/containers/json', { query: { all: 1, filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) } })).sort((a, b) => (a.Names[0] < b.Names[0] ? -1 : 1));
  const projectNetworks = async (project = P) => d.client.get<Array<{ Name: string; Driver: string }>>('/networks', { query: { filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) } });
  const projectVolumes = async (project = P) => (await d.client.get<{ Volumes: Array<{ Name: string; Labels: Record<string, string> }> | null }>('/volumes', { query: { filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) } })).Volumes ?? [];
  const ids = async () => Object.fromEntries((await projectContainers()).map((c) => [c.Names[0].slice(1), c.Id]));

  before(async () => {
    d = await startDaemon();
    await loadBusybox(d);
    dir = mkdtempSync(join(tmpdir(), 'shoal-compose-'));
    writeFileSync(join(dir, 'compose.yaml'), composeFile());
    writeFileSync(join(dir, 'pw.txt'), 's3cret\n');
  });
  after(async () => {
    await d?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('up -d creates the project network and containers, in depends_on order', async () => {
    const r = await ok(compose('up', '-d'));
    assert.match(r.stderr, /Network cmpt_default {2}Created/);
    assert.match(r.stderr, /Container cmpt-db-1 {2}Healthy/);
    const nets = await projectNetworks();
    assert.deepEqual(nets.map((n) => [n.Name, n.Driver]), [['cmpt_default', 'bridge']]);
    assert.deepEqual((await projectVolumes()).map((v) => [v.Name, v.Labels['com.docker.compose.volume']]), [['cmpt_data', 'data']]);
    assert.deepEqual((await projectContainers()).map((c) => [c.Names[0], c.State]), [['/cmpt-client-1', 'running'], ['/cmpt-db-1', 'running'], ['/cmpt-web-1', 'running']]);

    const [db, web, client] = await Promise.all(['cmpt-db-1', 'cmpt-web-1', 'cmpt-client-1'].map(inspect));
    assert.equal(web.Config.Labels['com.docker.compose.service'], 'web');
    assert.equal(web.Config.Labels['com.docker.compose.container-number'], '1');
    assert.deepEqual(web.NetworkSettings.Networks.cmpt_default.Aliases?.includes('web'), true);
    // db was healthy (a probe had passed) before web was created; web started before client was created.
    const firstPass = db.State.Health!.Log.find((e) => e.ExitCode === 0)!;
    assert.ok(firstPass, 'db has a passing health probe');
    assert.ok(new Date(firstPass.End) <= new Date(web.Created), `db healthy at ${firstPass.End}, web created ${web.Created}`);
    assert.ok(new Date(db.State.StartedAt) <= new Date(web.Created));
    assert.ok(new Date(web.State.StartedAt) <= new Date(client.Created), `web started ${web.State.StartedAt}, client created ${client.Created}`);
  });

  it('services reach each other by name on the project network; secrets are bind-mounted', async () => {
    const get = (url: string) => ok(shoal(['exec', 'cmpt-client-1', 'sh', '-c', `timeout 5 wget -q -O - ${url}`]));
    assert.equal((await get('http://web/')).stdout, 'web-page\n');
    assert.equal((await get('http://db/')).stdout, 'db-page\n');
    assert.equal((await ok(shoal(['exec', 'cmpt-client-1', 'cat', '/run/secrets/pw']))).stdout, 's3cret\n');
  });

  it('ps and logs print as docker compose does', async () => {
    const ps = (await ok(compose('ps'))).stdout.split('\n');
    assert.match(ps[0], /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS$/);
    assert.deepEqual(ps.slice(1, -1).map((l) => l.split(/ +/)[0]), ['cmpt-client-1', 'cmpt-db-1', 'cmpt-web-1']);
    assert.match(ps.find((l) => l.startsWith('cmpt-web-1'))!, / web +.*Up .*0\.0\.0\.0:\d+->80\/tcp$/);
    assert.match(ps.find((l) => l.startsWith('cmpt-db-1'))!, /\(healthy\)/);
    const q = (await ok(compose('ps', '-q'))).stdout.trim().split('\n');
    assert.deepEqual(q.sort(), Object.values(await ids()).sort());
    assert.equal((await ok(compose('ps', '--format', '{{.Service}}:{{.Name}}', 'web'))).stdout, 'web:cmpt-web-1\n');

    const logs = (await ok(compose('logs'))).stdout.split('\n').filter((l) => l);
    assert.deepEqual(logs.sort(), ['client-1  | client ready', 'db-1      | db ready', 'web-1     | web ready']);
    assert.equal((await ok(compose('logs', '--no-log-prefix', 'db'))).stdout, 'db ready\n');
    assert.match((await ok(compose('logs', '-t', '--tail', '1', 'web'))).stdout, /^web-1  \| \d{4}-\d\d-\d\dT[0-9:.]+Z web ready\n$/);
  });

  it('up -d again with the same file recreates nothing', async () => {
    const before = await ids();
    const r = await ok(compose('up', '-d'));
    assert.doesNotMatch(r.stderr, /Creat|Recreat/);
    assert.match(r.stderr, /Container cmpt-web-1 {2}Running/);
    assert.deepEqual(await ids(), before);
  });

  it('a changed environment recreates only that service', async () => {
    const before = await ids();
    writeFileSync(join(dir, 'compose.yaml'), composeFile({ clientEnv: 'changed' }));
    const r = await ok(compose('up', '-d'));
    assert.match(r.stderr, /Container cmpt-client-1 {2}Recreated/);
    const after = await ids();
    assert.equal(after['cmpt-db-1'], before['cmpt-db-1']);
    assert.equal(after['cmpt-web-1'], before['cmpt-web-1']);
    assert.notEqual(after['cmpt-client-1'], before['cmpt-client-1']);
    assert.ok((await inspect('cmpt-client-1')).Config.Env.includes('ROLE=changed'));
  });

  it('stop and start', async () => {
    await ok(compose('stop', 'web'));
    assert.equal((await inspect('cmpt-web-1')).State.Running, false);
    assert.equal((await inspect('cmpt-db-1')).State.Running, true);
    assert.deepEqual((await ok(compose('ps', '--services'))).stdout, 'client\ndb\n');
    assert.match((await ok(compose('ps', '-a', 'web'))).stdout, /cmpt-web-1 .* Exited \(\d+\)/);
    await ok(compose('stop'));
    assert.deepEqual((await projectContainers()).map((c) => c.State), ['exited', 'exited', 'exited']);
    const r = await ok(compose('start'));
    assert.match(r.stderr, /Container cmpt-db-1 {2}Started/);
    assert.deepEqual((await projectContainers()).map((c) => c.State), ['running', 'running', 'running']);
  });

  it('an invalid file changes nothing and prints every error as file:line:col', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'services:\n  web:\n    image: busybox\n    ports: ["99999:80"]\n  other:\n    image: busybox\n    depends_on: [ghost]\n');
    const r = await shoal(['compose', '-f', bad, '-p', 'badproj', 'up', '-d']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length >= 2, r.stderr);
    for (const l of lines) assert.match(l, new RegExp(`^${bad}:\\d+:\\d+: `));
    assert.ok(lines.some((l) => l.startsWith(`${bad}:4:`)), r.stderr);
    assert.ok(lines.some((l) => /ghost/.test(l) && l.startsWith(`${bad}:7:`)), r.stderr);
    assert.deepEqual(await projectContainers('badproj'), []);
    assert.deepEqual(await projectNetworks('badproj'), []);
  });

  it('up in the foreground shows prefixed logs until the containers exit', async () => {
    const fg = mkdtempSync(join(tmpdir(), 'shoal-compose-Fg.App-'));
    try {
      writeFileSync(join(fg, 'docker-compose.yml'), 'services:\n  once:\n    image: busybox\n    command: ["sh", "-c", "echo hello; echo bye"]\n');
      // The project is named after the directory, normalized.
      const name = fg.split('/').pop()!.toLowerCase().replace(/[^a-z0-9_-]/g, '');
      const r = await shoal(['compose', 'up'], fg);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'Attaching to once-1\nonce-1  | hello\nonce-1  | bye\nonce-1 exited with code 0\n');
      assert.equal((await projectContainers(name)).length, 1);
      await ok(shoal(['compose', 'down'], fg));
      assert.deepEqual(await projectContainers(name), []);
      assert.deepEqual(await projectNetworks(name), []);
    } finally {
      rmSync(fg, { recursive: true, force: true });
    }
  });

  it('Ctrl-C on a foreground up stops the containers', async () => {
    const fg = mkdtempSync(join(tmpdir(), 'shoal-compose-int-'));
    try {
      writeFileSync(join(fg, 'compose.yaml'), 'services:\n  srv:\n    image: busybox\n    command: ["sh", "-c", "echo serving; exec httpd -f -p 80"]\n    stop_grace_period: 1s\n');
      const p = spawn(process.execPath, [SHOAL, '-H', d.host, 'compose', '-p', 'intr', 'up'], { cwd: fg, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
      // Interrupt once the container's first line has come through the attached logs.
      await new Promise<void>((resolve) => {
        p.stdout.on('data', (b) => {
          stdout += b;
          if (stdout.includes('srv-1  | serving')) resolve();
        });
        p.stderr.on('data', (b) => (stderr += b));
        void exited.then(() => resolve());
      });
      p.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)\n Container intr-srv-1 {2}Stopping\n Container intr-srv-1 {2}Stopped/);
      assert.match(stdout, /srv-1 exited with code \d+\n$/);
      assert.equal((await inspect('intr-srv-1')).State.Running, false);
      await ok(shoal(['compose', '-p', 'intr', 'down'], fg));
      assert.deepEqual(await projectContainers('intr'), []);
    } finally {
      rmSync(fg, { recursive: true, force: true });
    }
  });

  it('down -v removes every container, network and volume of the project', async () => {
    const r = await ok(compose('down', '-v'));
    assert.match(r.stderr, /Network cmpt_default {2}Removed/);
    assert.match(r.stderr, /Volume cmpt_data {2}Removed/);
    assert.deepEqual(await projectVolumes(), []);
    assert.deepEqual(await projectContainers(), []);
    assert.deepEqual(await projectNetworks(), []);
  });
});
