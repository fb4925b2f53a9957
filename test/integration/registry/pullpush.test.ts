// Push and pull the busybox test image between a real image store and a real docker-registry.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { EventBus } from '../../../shared/events';
import { run } from '../../../shared/exec';
import { silenceLogging } from '../../../shared/log';
import { ImageStore } from '../../../worker/engine/images';
import { Distribution, RegistryClient, encodeRegistryAuth, resolveEndpoint, type ProgressMessage } from '../../../worker/engine/registry';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_INDEX } from '../../../worker/engine/registry/mediatypes';
import { sha256Digest } from '../../../worker/engine/registry';
import { gzipSync } from 'node:zlib';
import { busyboxRootfs } from '../../helpers/daemon';
import { canMakeTokenCert, registryAvailable, startRegistry, type TestRegistry } from '../../helpers/registry';

silenceLogging();

async function collect(it: AsyncIterable<ProgressMessage>): Promise<ProgressMessage[]> {
  const out: ProgressMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

const statuses = (ms: ProgressMessage[]) => ms.map((m) => m.status).filter(Boolean) as string[];
const errorOf = (ms: ProgressMessage[]) => ms.find((m) => m.errorDetail)?.errorDetail?.message;

/** A small one-file rootfs tar with random content (so its layer is its own). */
async function tinyRootfs(dir: string): Promise<Buffer> {
  const root = await fs.mkdtemp(join(dir, 'tiny-'));
  await fs.writeFile(join(root, 'hello.txt'), randomBytes(4096).toString('hex'));
  const tar = join(dir, `tiny-${randomBytes(4).toString('hex')}.tar`);
  await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  const buf = await fs.readFile(tar);
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(tar, { force: true });
  return buf;
}

describe('pull and push against docker-registry', function () {
  this.timeout(120_000);
  let reg: TestRegistry;
  let tmp: string;
  let store: ImageStore;
  let dist: Distribution;
  let name: string; // 127.0.0.1:PORT/test/busybox

  before(async function () {
    if (!registryAvailable()) return this.skip();
    reg = await startRegistry();
    tmp = await fs.mkdtemp(join(tmpdir(), 'shoal-dist-'));
    store = await ImageStore.open({ root: join(tmp, 'images'), events: new EventBus() });
    dist = new Distribution({ store, timeoutMs: 10_000 });
    name = `${reg.domain}/test/busybox`;
    await store.importRootfs(Readable.from([await busyboxRootfs()]), { repo: 'busybox', tag: 'latest' });
    await store.tag('busybox:latest', name, '1');
  });

  after(async () => {
    await reg?.destroy();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  let pushedDigest = '';
  let imageId = '';
  let layerDigests: string[] = [];

  it('pushes busybox with per-layer progress and the final digest', async () => {
    const img = store.resolve(`${name}:1`);
    imageId = img.id;
    layerDigests = img.record.layers.map((l) => l.digest);
    const ms = await collect(dist.push(name, '1'));
    assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
    const st = statuses(ms);
    assert.equal(st[0], `The push refers to repository [${name}]`);
    const diffShort = img.record.layers[0].diffId.slice(7, 19);
    assert.ok(ms.some((m) => m.status === 'Preparing' && m.id === diffShort));
    assert.ok(ms.some((m) => m.status === 'Pushing' && m.id === diffShort && m.progressDetail?.total === img.record.layers[0].size));
    assert.ok(ms.some((m) => m.status === 'Pushed' && m.id === diffShort));
    const last = st[st.length - 1];
    const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(last);
    assert.ok(m, last);
    pushedDigest = m[1];
    assert.deepEqual(ms[ms.length - 1].aux, { Tag: '1', Digest: pushedDigest, Size: Number(m[2]) });
    // The registry has it under that digest, and the image records it as a repo digest.
    const c = new RegistryClient({ endpoint: resolveEndpoint(reg.domain), repository: 'test/busybox', actions: ['pull'] });
    assert.equal((await c.headManifest('1'))?.digest, pushedDigest);
    assert.ok(store.repoDigests(imageId).includes(`${name}@${pushedDigest}`));
  });

  it('says "Layer already exists" on a second push, with the same digest', async () => {
    const ms = await collect(dist.push(name, '1'));
    assert.equal(errorOf(ms), undefined);
    assert.ok(ms.some((m) => m.status === 'Layer already exists'));
    assert.ok(!ms.some((m) => m.status === 'Pushed'));
    assert.equal(ms[ms.length - 1].aux?.Digest, pushedDigest);
  });

  it('pushes every local tag of the repository when no tag is given', async () => {
    await store.tag(`${name}:1`, name, '2');
    const ms = await collect(dist.push(name, undefined));
    assert.deepEqual(ms.filter((m) => m.aux).map((m) => m.aux?.Tag), ['1', '2']);
    await store.remove(`${name}:2`);
  });

  it('pulls it back after removing it locally: same image ID and layer digests', async () => {
    await store.remove(imageId, { force: true });
    assert.equal(store.list().length, 0);
    for (const d of layerDigests) assert.equal(await store.hasBlob(d), false);
    const ms = await collect(dist.pull(`${name}:1`));
    assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
    const st = statuses(ms);
    assert.deepEqual(ms[0], { status: 'Pulling from test/busybox', id: '1' });
    const short = layerDigests[0].slice(7, 19);
    for (const s of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) {
      assert.ok(ms.some((m) => m.status === s && m.id === short), `${s} for ${short}`);
    }
    assert.ok(st.indexOf('Pull complete') > st.indexOf('Download complete'));
    assert.equal(st[st.length - 2], `Digest: ${pushedDigest}`);
    assert.equal(st[st.length - 1], `Status: Downloaded newer image for ${name}:1`);
    const img = store.resolve(`${name}:1`);
    assert.equal(img.id, imageId);
    assert.deepEqual(img.record.layers.map((l) => l.digest), layerDigests);
    assert.deepEqual(store.repoDigests(imageId), [`${name}@${pushedDigest}`]);
    // The layer was unpacked: busybox is in it.
    const dirs = store.layerDirs(img);
    assert.ok((await fs.stat(join(dirs[0], 'bin/busybox'))).isFile());
  });

  it('says "Image is up to date" when pulling again', async () => {
    const ms = await collect(dist.pull(`${name}:1`));
    assert.ok(ms.some((m) => m.status === 'Already exists'));
    assert.equal(ms[ms.length - 1].status, `Status: Image is up to date for ${name}:1`);
  });

  it('pulls by digest without adding a tag', async () => {
    await store.remove(imageId, { force: true });
    const ms = await collect(dist.pull(`${name}@${pushedDigest}`));
    assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
    assert.equal(ms[0].id, pushedDigest);
    assert.equal(store.resolve(`${name}@${pushedDigest}`).id, imageId);
    assert.deepEqual(store.repoTags(imageId), []);
  });

  it('picks linux/amd64 from an OCI index and records the index digest', async () => {
    const c = new RegistryClient({ endpoint: resolveEndpoint(reg.domain), repository: 'test/busybox', actions: ['pull', 'push'] });
    const m = await c.getManifest(pushedDigest);
    // distribution 2.8 insists an index's children exist, so the index lists just the real one.
    const real = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: m.mediaType, digest: pushedDigest, size: m.raw.length, platform: { os: 'linux', architecture: 'amd64' } }] }),
    );
    const indexDigest = await c.putManifest('multi', OCI_INDEX, real);
    const ms = await collect(dist.pull(`${name}:multi`));
    assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
    assert.equal(statuses(ms).at(-2), `Digest: ${indexDigest}`);
    assert.equal(store.resolve(`${name}:multi`).id, imageId);
    assert.ok(store.repoDigests(imageId).includes(`${name}@${indexDigest}`));
    const info = await dist.inspect(`${name}:multi`);
    assert.deepEqual(info, { Descriptor: { mediaType: OCI_INDEX, digest: indexDigest, size: real.length }, Platforms: [{ os: 'linux', architecture: 'amd64' }] });
  });

  it('inspects a manifest in the registry (descriptor and platform from its config)', async () => {
    const info = await dist.inspect(`${name}:1`);
    assert.equal(info.Descriptor.digest, pushedDigest);
    assert.deepEqual(info.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
  });

  it('reports an unknown tag as "manifest ... not found: manifest unknown" before any message', async () => {
    await assert.rejects(collect(dist.pull(`${name}:nope`)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'NOT_FOUND');
      assert.match(e.message, new RegExp(`^manifest for ${name.replace(/\./g, '\\.')}:nope not found: manifest unknown`));
      return true;
    });
    await assert.rejects(collect(dist.pull(`${reg.domain}/no/such/repo:1`)), { code: 'NOT_FOUND' });
  });

  it('rejects an invalid reference', async () => {
    await assert.rejects(collect(dist.pull('Not/Valid:ref')), { code: 'INVALID_ARGUMENT', message: /invalid reference format/ });
    await assert.rejects(collect(dist.pull(`${reg.domain}/a:b:c`)), { message: /invalid reference format/ });
    await assert.rejects(collect(dist.push('busybox@sha256:' + 'a'.repeat(64), '')), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(collect(dist.push(`${reg.domain}/not/local`, '1')), { code: 'NOT_FOUND', message: /An image does not exist locally with the tag/ });
    await assert.rejects(collect(dist.pull('busybox', { auth: 'garbage!' })), { code: 'INVALID_ARGUMENT', message: /X-Registry-Auth/ });
  });

  it('refuses a corrupted blob and leaves nothing in the store', async () => {
    const tiny = `${reg.domain}/test/tiny`;
    const id = await store.importRootfs(Readable.from([await tinyRootfs(tmp)]), { repo: tiny, tag: '1' });
    const layer = store.resolve(id).record.layers[0];
    const pushed = await collect(dist.push(tiny, '1'));
    assert.equal(errorOf(pushed), undefined);
    await store.remove(id, { force: true });
    const before = { images: store.list().map((i) => i.id).sort(), blob: await store.hasBlob(layer.digest) };
    assert.equal(before.blob, false);
    // Flip a byte of the layer in the registry's storage (same size, other content).
    const file = reg.blobPath(layer.digest);
    const bytes = await fs.readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x55;
    await fs.writeFile(file, bytes);
    const ms = await collect(dist.pull(`${tiny}:1`));
    const err = errorOf(ms);
    assert.ok(err, JSON.stringify(ms));
    assert.match(err!, new RegExp(`filesystem layer verification failed for digest ${layer.digest}`));
    assert.deepEqual(ms[ms.length - 1], { errorDetail: { message: err }, error: err });
    assert.deepEqual(store.list().map((i) => i.id).sort(), before.images);
    assert.equal(await store.hasBlob(layer.digest), false);
    assert.equal(await store.hasBlob(id), false, 'the config blob was not kept either');
    await assert.rejects(fs.stat(store.layerDir(layer.diffId)), { code: 'ENOENT' });
    assert.throws(() => store.resolve(`${tiny}:1`), { code: 'NOT_FOUND' });
  });

  it('fails fast with "connection refused" when the registry is stopped', async () => {
    await store.tag(imageId, name, '1');
    await reg.stop();
    try {
      await assert.rejects(collect(dist.pull(`${name}:1`)), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'UNAVAILABLE');
        assert.match(e.message, /connect: connection refused/);
        return true;
      });
      const ms = await collect(dist.push(name, '1'));
      assert.match(errorOf(ms) ?? '', /connection refused/);
    } finally {
      await reg.start();
    }
  });

  it('fails (never hangs) pulling a name without a domain: docker.io is out of reach here', async () => {
    const quick = new Distribution({ store, timeoutMs: 5000 });
    await assert.rejects(collect(quick.pull('busybox')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.message, /registry-1\.docker\.io/);
      return true;
    });
  });

  describe('a registry that stalls in the middle of a layer', () => {
    let front: import('node:http').Server;
    let stalled: import('node:http').ServerResponse[];
    let stallName: string;

    before(async () => {
      const { createServer } = await import('node:http');
      stalled = [];
      // Proxies to the registry, but sends only the first 64 KiB of any big blob, then nothing.
      front = createServer(async (req, res) => {
        const r = await fetch(`${reg.url}${req.url}`, { method: req.method, headers: { accept: String(req.headers.accept ?? '*/*') } });
        const body = Buffer.from(await r.arrayBuffer());
        const headers: Record<string, string> = {};
        r.headers.forEach((v, k) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) headers[k] = v;
        });
        headers['content-length'] = String(body.length);
        res.writeHead(r.status, headers);
        if (req.url?.includes('/blobs/') && body.length > 100_000) {
          res.write(body.subarray(0, 65536));
          stalled.push(res);
          return;
        }
        res.end(body);
      });
      await new Promise<void>((r) => front.listen(0, 'localhost', () => r()));
      stallName = `localhost:${(front.address() as { port: number }).port}/test/busybox:1`;
      await store.remove(imageId, { force: true }).catch(() => undefined);
    });

    after(() => {
      stalled?.forEach((r) => r.destroy());
      front?.close();
    });

    it('gives up after the idle timeout instead of hanging, keeping nothing', async () => {
      const ms = await collect(new Distribution({ store, idleTimeoutMs: 500 }).pull(stallName));
      assert.match(errorOf(ms) ?? '', /no data from localhost:\d+ for/);
      assert.ok(ms.some((m) => m.status === 'Downloading'), 'it had started');
      assert.equal(store.list().length, 0);
      for (const d of layerDigests) assert.equal(await store.hasBlob(d), false);
    });

    it('stops when the caller aborts (the client went away), keeping nothing', async () => {
      const ctl = new AbortController();
      const ms: ProgressMessage[] = [];
      for await (const m of dist.pull(stallName, { signal: ctl.signal })) {
        ms.push(m);
        if (m.status === 'Downloading') ctl.abort();
      }
      assert.match(errorOf(ms) ?? '', /canceled/);
      assert.equal(store.list().length, 0);
      for (const d of layerDigests) assert.equal(await store.hasBlob(d), false);
    });
  });

  describe('a three-layer Docker schema2 image with gzip layers', () => {
    let repo: string;
    let layers: Array<{ tar: Buffer; gz: Buffer; digest: string; diffId: string }>;
    let manifestDigest: string;
    let configDigest: string;

    before(async () => {
      repo = `${reg.domain}/test/three`;
      layers = [];
      for (const n of ['one', 'two', 'three']) {
        const root = await fs.mkdtemp(join(tmp, 'layer-'));
        await fs.writeFile(join(root, `${n}.txt`), `${n}\n${randomBytes(2048).toString('hex')}`);
        const file = join(tmp, `${n}.tar`);
        await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', file, `${n}.txt`]);
        const tar = await fs.readFile(file);
        await fs.rm(root, { recursive: true });
        await fs.rm(file);
        const gz = gzipSync(tar);
        layers.push({ tar, gz, digest: sha256Digest(gz), diffId: sha256Digest(tar) });
      }
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map(() => ({ created_by: 'test' })) }),
      );
      configDigest = sha256Digest(config);
      const c = new RegistryClient({ endpoint: resolveEndpoint(reg.domain), repository: 'test/three', actions: ['pull', 'push'] });
      for (const l of layers) await c.uploadBlob(l.digest, l.gz.length, async function* () {
        yield l.gz;
      });
      await c.uploadBlob(configDigest, config.length, async function* () {
        yield config;
      });
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: DOCKER_CONFIG, digest: configDigest, size: config.length },
          layers: layers.map((l) => ({ mediaType: DOCKER_LAYER_GZIP, digest: l.digest, size: l.gz.length })),
        }),
      );
      manifestDigest = await c.putManifest('1', DOCKER_MANIFEST, manifest);
    });

    it('pulls all layers (unpacked in order) and pushes back the same manifest digest', async () => {
      const ms = await collect(dist.pull(`${repo}:1`));
      assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
      const complete = ms.filter((m) => m.status === 'Pull complete').map((m) => m.id);
      assert.deepEqual(complete, layers.map((l) => l.digest.slice(7, 19)), 'extracted bottom to top');
      const img = store.resolve(`${repo}:1`);
      assert.equal(img.id, configDigest);
      assert.deepEqual(img.record.layers.map((l) => [l.digest, l.diffId]), layers.map((l) => [l.digest, l.diffId]));
      const dirs = store.layerDirs(img);
      assert.equal((await fs.readFile(join(dirs[2], 'three.txt'), 'utf8')).split('\n')[0], 'three');
      // Pushed elsewhere, the gzip blobs go as stored and the Docker manifest byte for byte.
      const copy = `${reg.domain}/test/three-copy`;
      await store.tag(img.id, copy, '1');
      const pushed = await collect(new Distribution({ store, chunkSize: 4096 }).push(copy, '1'));
      assert.equal(errorOf(pushed), undefined, JSON.stringify(pushed));
      assert.equal(pushed.at(-1)?.aux?.Digest, manifestDigest);
    });

    it('reports the corrupted top layer by digest and keeps none of the three', async () => {
      await store.remove(configDigest, { force: true });
      const bad = layers[2];
      const file = reg.blobPath(bad.digest);
      const bytes = await fs.readFile(file);
      bytes[20] ^= 0xff;
      await fs.writeFile(file, bytes);
      const ms = await collect(new Distribution({ store, concurrency: 3 }).pull(`${repo}:1`));
      assert.match(errorOf(ms) ?? '', new RegExp(`filesystem layer verification failed for digest ${bad.digest}`));
      assert.throws(() => store.resolve(`${repo}:1`), { code: 'NOT_FOUND' });
      for (const l of layers) {
        assert.equal(await store.hasBlob(l.digest), false, l.digest);
        await assert.rejects(fs.stat(store.layerDir(l.diffId)), { code: 'ENOENT' });
      }
      assert.equal(await store.hasBlob(configDigest), false);
    });
  });

  describe('with token authentication', function () {
    let treg: TestRegistry;
    before(async function () {
      if (!canMakeTokenCert()) return this.skip();
      treg = await startRegistry({ auth: 'token', users: [{ username: 'carol', password: 'pw' }] });
    });
    after(async () => treg?.destroy());

    it('pushes and pulls with X-Registry-Auth credentials, and is denied without them', async () => {
      const tname = `${treg.domain}/team/busybox`;
      if (!store.get(imageId)) assert.equal(errorOf(await collect(dist.pull(`${name}:1`))), undefined);
      await store.tag(imageId, tname, 'v1');
      const auth = encodeRegistryAuth({ username: 'carol', password: 'pw', serveraddress: treg.domain });
      const denied = await collect(dist.push(tname, 'v1'));
      assert.ok(errorOf(denied), 'anonymous push is refused');
      const ms = await collect(dist.push(tname, 'v1', { auth }));
      assert.equal(errorOf(ms), undefined, JSON.stringify(ms));
      await store.remove(`${tname}:v1`);
      await assert.rejects(collect(dist.pull(`${tname}:v1`)), { code: 'PERMISSION_DENIED', message: /pull access denied/ });
      const pulled = await collect(dist.pull(`${tname}:v1`, { auth }));
      assert.equal(errorOf(pulled), undefined);
      assert.equal(store.resolve(`${tname}:v1`).id, imageId);
    });
  });
});
