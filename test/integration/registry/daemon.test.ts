// docker push / pull against a real shoald and a real docker-registry. Skips (saying why)
// while the daemon does not serve the distribution routes yet.
import assert from 'node:assert/strict';
import { startDaemon, loadBusybox, type TestDaemon } from '../../helpers/daemon';
import { docker } from '../../helpers/docker';
import { readAll } from '../../../shared/client';
import { registryAvailable, startRegistry, type TestRegistry } from '../../helpers/registry';

describe('shoald: docker push and pull with docker-registry', function () {
  this.timeout(180_000);
  let d: TestDaemon;
  let reg: TestRegistry;

  before(async function () {
    if (!registryAvailable()) return this.skip();
    d = await startDaemon();
    const probe = await d.client.raw('POST', '/images/shoal-probe/push', { query: { tag: 'x' } });
    const body = (await readAll(probe.stream)).toString();
    if (probe.status === 404 && /page not found/.test(body)) {
      console.log('      (skipped: this shoald does not serve POST /images/{name}/push yet)');
      return this.skip();
    }
    reg = await startRegistry();
    await loadBusybox(d);
  });

  after(async () => {
    await d?.destroy();
    await reg?.destroy();
  });

  it('pushes busybox, removes it and pulls it back: same image ID', async () => {
    const name = `${reg.domain}/x`;
    assert.equal((await docker(d.host, ['tag', 'busybox', name])).code, 0);
    const id = (await docker(d.host, ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
    const pushed = await docker(d.host, ['push', name]);
    assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
    assert.match(pushed.stdout, /latest: digest: sha256:[a-f0-9]{64} size: \d+/);
    const again = await docker(d.host, ['push', name]);
    assert.match(again.stdout, /Layer already exists/);
    assert.equal((await docker(d.host, ['rmi', '-f', id])).code, 0);
    const pulled = await docker(d.host, ['pull', name]);
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
    assert.match(pulled.stdout, /Status: Downloaded newer image/);
    assert.equal((await docker(d.host, ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim(), id);
  });

  it('fails clearly for an unknown tag, a stopped registry and docker.io', async () => {
    const unknown = await docker(d.host, ['pull', `${reg.domain}/x:nope`]);
    assert.match(unknown.stderr, /manifest for .*x:nope not found: manifest unknown/);
    const plain = await docker(d.host, ['pull', 'busybox:nosuchtag'], { timeoutMs: 60_000 });
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /registry-1\.docker\.io/);
    await reg.stop();
    try {
      const down = await docker(d.host, ['pull', `${reg.domain}/x`]);
      assert.match(down.stderr, /connection refused/);
    } finally {
      await reg.start();
    }
  });
});
