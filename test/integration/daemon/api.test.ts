import assert from 'node:assert/strict';
import http from 'node:http';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { docker } from '../../helpers/docker';
import { readAll } from '../../../shared/client';

function rawGet(socket: string, path: string, method = 'GET', body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path, method, headers: body ? { 'Content-Type': 'application/json' } : {} }, async (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: (await readAll(res)).toString() }),
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('shoald API server (real daemon, stock docker CLI)', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => d?.destroy());

  it('answers /_ping with the headers the docker CLI negotiates on', async () => {
    const r = await rawGet(d.socket, '/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
    assert.equal(r.headers['api-version'], '1.50');
    assert.equal(r.headers['builder-version'], '1');
    assert.equal(r.headers['ostype'], 'linux');
    const head = await rawGet(d.socket, '/_ping', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('serves docker version and info to the stock CLI', async () => {
    const v = await docker(d.host, ['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.50 linux');
    const i = await docker(d.host, ['info', '--format', '{{.DockerRootDir}}']);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout.trim(), d.dataRoot);
  });

  it('answers errors with Docker\'s JSON body and status', async () => {
    const tooNew = await rawGet(d.socket, '/v1.99/info');
    assert.equal(tooNew.status, 400);
    assert.match(JSON.parse(tooNew.body).message, /client version 1\.99 is too new/);
    const missing = await rawGet(d.socket, '/v1.50/no/such/path');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { message: 'page not found' });
    const wrongMethod = await rawGet(d.socket, '/v1.50/version', 'DELETE');
    assert.equal(wrongMethod.status, 405);
  });

  it('streams /events and honours since/until', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await rawGet(d.socket, `/v1.50/events?since=${now - 5}&until=${now}`);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /json/);
    const bad = await rawGet(d.socket, '/v1.50/events?since=yesterday-ish');
    assert.equal(bad.status, 400);
  });

  it('ends an /events stream by itself when a future until comes', async () => {
    const until = Math.floor(Date.now() / 1000) + 2;
    const r = await rawGet(d.socket, `/v1.50/events?until=${until}`);
    assert.equal(r.status, 200);
    assert.ok(Date.now() >= (until - 1) * 1000, 'not before until');
  });

  it('keeps serving after a malformed request', async () => {
    const r = await rawGet(d.socket, '/v1.50/events?filters=%7Bnot-json');
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).message, /invalid filters parameter/);
    assert.equal((await rawGet(d.socket, '/_ping')).status, 200);
  });
});
