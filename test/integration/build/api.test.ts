// POST /build and /build/prune over HTTP on a unix socket, and the stock docker CLI's classic
// build against them (builds without RUN: the containers module is not involved here).

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ApiServer, Router } from '../../../shared/api';
import { EngineClient, ApiError } from '../../../shared/client';
import { logger } from '../../../shared/log';
import { compileConfig } from '../../../worker/daemon/config';
import { registerSystemRoutes } from '../../../worker/api/system';
import { registerImageRoutes } from '../../../worker/api/images';
import { registerBuildRoutes } from '../../../worker/api/build';
import { BuildHarness, tarOf, writeFiles } from './harness';
import { runCli } from '../../helpers/docker';

function docker(host: string, args: string[], cwd: string, configDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('docker', ['-H', host, ...args], { cwd, env: { ...process.env, DOCKER_CONFIG: configDir, DOCKER_BUILDKIT: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('build API (POST /build over a unix socket, docker CLI)', function () {
  this.timeout(120_000);
  let h: BuildHarness;
  let server: ApiServer;
  let client: EngineClient;
  let host: string;

  before(async () => {
    h = await BuildHarness.open();
    const router = new Router();
    const config = compileConfig({ 'data-root': join(h.base, 'data'), 'exec-root': join(h.base, 'run') });
    registerSystemRoutes(router, { config, events: h.events, info: async () => ({}) });
    registerImageRoutes(router, { images: h.images, events: h.events });
    registerBuildRoutes(router, { builder: h.builder });
    server = new ApiServer(router, logger('test'));
    const sock = join(h.base, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    host = `unix://${sock}`;
    client = new EngineClient(host);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await h?.close();
  });

  it('streams the classic builder\'s JSON messages and tags the image', async () => {
    const body = await tarOf({ Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n', 'hello.txt': 'hi\n' });
    const msgs: Array<Record<string, unknown>> = [];
    for await (const m of client.jsonStream('POST', '/build', { query: { t: ['api:one', 'api:two'], rm: 1 }, body, headers: { 'Content-Type': 'application/x-tar' } })) msgs.push(m);
    const text = msgs.map((m) => m.stream ?? '').join('');
    assert.match(text, /^Step 1\/3 : FROM busybox\n ---> [0-9a-f]{12}\nStep 2\/3 : COPY hello.txt \/hello.txt\n ---> [0-9a-f]{12}\nStep 3\/3 : CMD \["cat", "\/hello.txt"\]\n ---> [0-9a-f]{12}\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged api:one\nSuccessfully tagged api:two\n$/);
    const aux = msgs.find((m) => m.aux) as { aux: { ID: string } };
    const img = await client.get<{ Id: string; Config: { Cmd: string[] } }>('/images/api:two/json');
    assert.equal(img.Id, aux.aux.ID);
    assert.deepEqual(img.Config.Cmd, ['cat', '/hello.txt']);
  });

  it('a bad Dockerfile is HTTP 400 naming the line; bad query values are 400 too; nothing is made', async () => {
    const before = (await client.get<unknown[]>('/images/json', { query: { all: 1 } })).length;
    const bad = await tarOf({ Dockerfile: 'FROM busybox\nCOPY a /a\nFOOBAR x\n', a: 'a' });
    await assert.rejects(client.post('/build', { body: bad }), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === 'Dockerfile parse error line 3: unknown instruction: FOOBAR');
    const ok = await tarOf({ Dockerfile: 'FROM busybox\n' });
    await assert.rejects(client.post('/build', { body: ok, query: { remote: 'https://example.com/repo.git' } }), (e: unknown) => e instanceof ApiError && e.status === 400 && /remote build contexts are not supported/.test(e.message));
    await assert.rejects(client.post('/build', { body: ok, query: { buildargs: '{"a": 1}' } }), (e: unknown) => e instanceof ApiError && e.status === 400 && /buildargs/.test(e.message));
    await assert.rejects(client.post('/build', { body: ok, query: { version: '2' } }), (e: unknown) => e instanceof ApiError && e.status === 400 && /BuildKit/.test(e.message));
    assert.equal((await client.get<unknown[]>('/images/json', { query: { all: 1 } })).length, before);
    assert.deepEqual(await h.leftovers(), []);
  });

  it('a failing step is an error message in the stream', async () => {
    const body = await tarOf({ Dockerfile: 'FROM busybox\nCOPY missing.txt /x\n' });
    const msgs: Array<Record<string, unknown>> = [];
    for await (const m of client.jsonStream('POST', '/build', { body })) msgs.push(m);
    const last = msgs[msgs.length - 1] as { error: string; errorDetail: { message: string } };
    assert.match(last.error, /^COPY failed: file not found in build context/);
    assert.equal(last.errorDetail.message, last.error);
  });

  it('POST /build/prune answers CachesDeleted and SpaceReclaimed', async () => {
    const body = await tarOf({ Dockerfile: 'FROM busybox\nCOPY p /p\n', p: 'prune me\n' });
    for await (const _ of client.jsonStream('POST', '/build', { body })) void _;
    const r = await client.post<{ CachesDeleted: string[]; SpaceReclaimed: number }>('/build/prune');
    assert.ok(Array.isArray(r.CachesDeleted) && r.CachesDeleted.length > 0);
    assert.equal(typeof r.SpaceReclaimed, 'number');
    const again = await client.post<{ CachesDeleted: string[] }>('/build/prune');
    assert.deepEqual(again.CachesDeleted, []);
  });

  it('the stock docker CLI builds with the classic builder', async () => {
    const dir = join(h.base, 'cli-ctx');
    const cfg = join(h.base, 'cli-config');
    await fs.mkdir(cfg, { recursive: true });
    await writeFiles(dir, {
      Dockerfile: 'FROM busybox\nARG WHO=world\nCOPY greeting.txt /greeting.txt\nLABEL who=$WHO\n',
      'greeting.txt': 'hello\n',
      '.dockerignore': 'junk\n',
      'junk/big.bin': 'x'.repeat(1000),
    });
    const r = await docker(host, ['build', '-t', 'cli-built:v1', '--build-arg', 'WHO=docker', '--label', 'via=cli', '.'], dir, cfg);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/5 : FROM busybox/);
    assert.match(r.stdout, /Successfully tagged cli-built:v1/);
    const img = await client.get<{ Config: { Labels: Record<string, string> } }>('/images/cli-built:v1/json');
    assert.deepEqual(img.Config.Labels, { who: 'docker', via: 'cli' });

    const again = await docker(host, ['build', '-q', '-t', 'cli-built:v1', '--build-arg', 'WHO=docker', '--label', 'via=cli', '.'], dir, cfg);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout.trim(), /^sha256:[0-9a-f]{64}$/);

    // Dockerfile on stdin: alone (no context), and with a context directory.
    const stdinOnly = await runCli('docker', ['-H', host, 'build', '-t', 'cli-stdin', '-'], { cwd: dir, input: 'FROM busybox\nLABEL from=stdin\n', env: { DOCKER_CONFIG: cfg } });
    assert.equal(stdinOnly.code, 0, stdinOnly.stderr);
    assert.deepEqual((await client.get<{ Config: { Labels: unknown } }>('/images/cli-stdin/json')).Config.Labels, { from: 'stdin' });
    const stdinCtx = await runCli('docker', ['-H', host, 'build', '-t', 'cli-stdin-ctx', '-f', '-', '.'], { cwd: dir, input: 'FROM busybox\nCOPY greeting.txt /g.txt\n', env: { DOCKER_CONFIG: cfg } });
    assert.equal(stdinCtx.code, 0, stdinCtx.stderr);
    assert.ok((await client.get<{ RootFS: { Layers: string[] } }>('/images/cli-stdin-ctx/json')).RootFS.Layers.length === 2);

    await fs.writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN true\nFOOBAR x\n');
    const bad = await docker(host, ['build', '.'], dir, cfg);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Dockerfile parse error line 3: unknown instruction: FOOBAR/);
  });
});
