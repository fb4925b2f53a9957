// The stock docker CLI pushing to and pulling from a real docker-registry through the API
// routes (image routes + distribution routes on a private API server, as shoald serves them).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { ApiServer, Router } from '../../../shared/api';
import { EventBus } from '../../../shared/events';
import { logger, silenceLogging } from '../../../shared/log';
import { ImageStore } from '../../../worker/engine/images';
import { Distribution } from '../../../worker/engine/registry';
import { registerDistributionRoutes } from '../../../worker/api/distribution';
import { registerImageRoutes } from '../../../worker/api/images';
import { registerSystemRoutes } from '../../../worker/api/system';
import { busyboxRootfs } from '../../helpers/daemon';
import { docker } from '../../helpers/docker';
import { registryAvailable, startRegistry, type TestRegistry } from '../../helpers/registry';

silenceLogging();

function post(socket: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('docker push / pull through the API routes', function () {
  this.timeout(120_000);
  let reg: TestRegistry;
  let tmp: string;
  let store: ImageStore;
  let server: ApiServer;
  let socket: string;
  let host: string;

  before(async function () {
    if (!registryAvailable()) return this.skip();
    reg = await startRegistry();
    tmp = await fs.mkdtemp(join(tmpdir(), 'shoal-distapi-'));
    const events = new EventBus();
    store = await ImageStore.open({ root: join(tmp, 'images'), events });
    const distribution = new Distribution({ store, timeoutMs: 10_000 });
    const router = new Router();
    const config = { dataRoot: tmp, execRoot: tmp, listeners: [], logLevel: 'error' as const, runtime: 'crun' as const, bridge: { name: 'none0', cidr: '10.255.0.1/24' }, cgroupParent: '/shoal-test', nodeName: 'test' };
    registerSystemRoutes(router, { config, events, info: async () => ({}) });
    registerImageRoutes(router, { images: store, events, pull: distribution.pullFn });
    registerDistributionRoutes(router, { distribution });
    server = new ApiServer(router, logger('test'));
    socket = join(tmp, 'api.sock');
    host = `unix://${socket}`;
    await server.listen([{ kind: 'unix', address: socket }]);
    await store.importRootfs(Readable.from([await busyboxRootfs()]), { repo: 'busybox', tag: 'latest' });
  });

  after(async () => {
    await server?.close();
    await reg?.destroy();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('docker push, docker rmi, docker pull: the same image comes back', async () => {
    const name = `${reg.domain}/x`;
    const tagged = await docker(host, ['tag', 'busybox', name]);
    assert.equal(tagged.code, 0, tagged.stderr);
    const id = store.resolve(name).id;
    const pushed = await docker(host, ['push', name]);
    assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
    assert.match(pushed.stdout, new RegExp(`The push refers to repository \\[${reg.domain.replace(/\./g, '\\.')}/x\\]`));
    const digest = /latest: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(pushed.stdout)?.[1];
    assert.ok(digest, pushed.stdout);

    const again = await docker(host, ['push', name]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Layer already exists/);

    const rmi = await docker(host, ['rmi', '-f', id]);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(store.list().length, 0);

    const pulled = await docker(host, ['pull', name]);
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
    assert.match(pulled.stdout, /Pull complete/);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    assert.match(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${reg.domain.replace(/\./g, '\\.')}/x:latest`));
    const inspect = await docker(host, ['image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', name]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), `${id} ${JSON.stringify([`${name}@${digest}`])}`);

    const upToDate = await docker(host, ['pull', name]);
    assert.match(upToDate.stdout, /Image is up to date/);
  });

  it('reports an unknown tag and an invalid name as docker does', async () => {
    const r = await docker(host, ['pull', `${reg.domain}/x:nope`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Error response from daemon: manifest for ${reg.domain.replace(/\./g, '\\.')}/x:nope not found: manifest unknown`));
    const bad = await post(socket, '/v1.50/images/create?fromImage=Bad%2FName&tag=latest');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid reference format/);
    const noImage = await post(socket, `/v1.50/images/${encodeURIComponent(`${reg.domain}/nothing`)}/push?tag=1`);
    assert.equal(noImage.status, 404);
    assert.match(JSON.parse(noImage.body).message, /An image does not exist locally with the tag/);
    const badAuth = await post(socket, `/v1.50/images/${encodeURIComponent(`${reg.domain}/x`)}/push?tag=latest`, { 'X-Registry-Auth': 'not base64!' });
    assert.equal(badAuth.status, 400);
  });

  it('serves /distribution/{name}/json', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ socketPath: socket, path: `/v1.50/distribution/${reg.domain}/x:latest/json` }, (r) => {
          let body = '';
          r.on('data', (b) => (body += b));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    assert.equal(res.status, 200, res.body);
    const j = JSON.parse(res.body);
    assert.match(j.Descriptor.digest, /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual(j.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
  });

  it('fails fast when the registry is down', async () => {
    await reg.stop();
    try {
      const r = await docker(host, ['pull', `${reg.domain}/x`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /connection refused/);
    } finally {
      await reg.start();
    }
  });

  it('fails quickly pulling plain busybox (docker.io is unreachable here)', async () => {
    const r = await docker(host, ['pull', 'busybox:does-not-matter'], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: .*registry-1\.docker\.io/);
  });
});
