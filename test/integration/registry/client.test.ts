// The distribution client against a real docker-registry: blobs and manifests round-trip
// with their digests checked, and each authentication scheme the registry speaks works.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { RegistryClient, resolveEndpoint, sha256Digest, type AuthConfig } from '../../../worker/engine/registry';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from '../../../worker/engine/registry/mediatypes';
import { canMakeHtpasswd, canMakeTokenCert, registryAvailable, startRegistry, type TestRegistry } from '../../helpers/registry';
import { silenceLogging } from '../../../shared/log';

silenceLogging();

function client(reg: TestRegistry, repository: string, actions: Array<'pull' | 'push'>, auth?: AuthConfig): RegistryClient {
  return new RegistryClient({ endpoint: resolveEndpoint(reg.domain), repository, actions, auth, timeoutMs: 5000 });
}

async function* once(buf: Buffer): AsyncIterable<Uint8Array> {
  yield buf;
}

/** Push a one-layer image by hand; returns its parts. */
async function pushTiny(c: RegistryClient, tag: string) {
  const layer = gzipSync(Buffer.from('not really a tar, the registry does not care'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } }));
  const layerDigest = sha256Digest(layer);
  const configDigest = sha256Digest(config);
  await c.uploadBlob(layerDigest, layer.length, () => once(layer));
  await c.uploadBlob(configDigest, config.length, () => once(config));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: DOCKER_LAYER_GZIP, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await c.putManifest(tag, DOCKER_MANIFEST, manifest);
  return { layer, layerDigest, config, configDigest, manifest, digest };
}

describe('registry client against docker-registry', function () {
  before(function () {
    if (!registryAvailable()) this.skip();
  });

  describe('anonymous', () => {
    let reg: TestRegistry;
    let tmp: string;
    before(async () => {
      reg = await startRegistry();
      tmp = await fs.mkdtemp(join(tmpdir(), 'shoal-regclient-'));
    });
    after(async () => {
      await reg?.destroy();
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    });

    it('uploads blobs and a manifest, then reads them back verified', async () => {
      const c = client(reg, 'test/tiny', ['pull', 'push']);
      const p = await pushTiny(c, 'v1');
      assert.equal(p.digest, sha256Digest(p.manifest));
      assert.equal(await c.blobExists(p.layerDigest), true);
      assert.equal(await c.blobExists(sha256Digest('absent')), false);

      const head = await c.headManifest('v1');
      assert.deepEqual(head, { mediaType: DOCKER_MANIFEST, digest: p.digest, size: p.manifest.length });
      const byTag = await c.getManifest('v1');
      assert.equal(byTag.digest, p.digest);
      assert.equal(byTag.mediaType, DOCKER_MANIFEST);
      assert.ok(byTag.raw.equals(p.manifest));
      const byDigest = await c.getManifest(p.digest);
      assert.ok(byDigest.raw.equals(p.manifest));

      assert.ok((await c.getBlobBuffer(p.configDigest, p.config.length)).equals(p.config));
      const dest = join(tmp, 'layer');
      let seen = 0;
      await c.downloadBlob(p.layerDigest, p.layer.length, dest, (n) => (seen = n));
      assert.ok((await fs.readFile(dest)).equals(p.layer));
      assert.equal(seen, p.layer.length);
    });

    it('uploads in PATCH chunks when asked, with progress, and the registry assembles them', async () => {
      const c = new RegistryClient({ endpoint: resolveEndpoint(reg.domain), repository: 'test/chunked', actions: ['pull', 'push'], chunkSize: 1000 });
      const data = Buffer.from(Array.from({ length: 4321 }, (_, i) => i % 251));
      const d = sha256Digest(data);
      const seen: number[] = [];
      // Hand it over in odd pieces so chunk boundaries fall inside them.
      await c.uploadBlob(d, data.length, async function* () {
        for (let i = 0; i < data.length; i += 777) yield data.subarray(i, i + 777);
      }, (n) => seen.push(n));
      assert.deepEqual(seen, [1000, 2000, 3000, 4000, 4321]);
      assert.ok((await c.getBlobBuffer(d, data.length)).equals(data));
      const wrong = sha256Digest('other');
      await assert.rejects(c.uploadBlob(wrong, data.length, () => once(data)), /digest/i);
      assert.equal(await c.blobExists(wrong), false);
    });

    it('follows a redirect to another host for a blob, as registries backed by object storage do', async () => {
      const c = client(reg, 'test/redirect', ['pull', 'push']);
      const p = await pushTiny(c, 'v1');
      const { createServer } = await import('node:http');
      const seen: string[] = [];
      const front = createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.writeHead(307, { Location: `${reg.url}${req.url}` });
        res.end();
      });
      await new Promise<void>((r) => front.listen(0, 'localhost', () => r()));
      try {
        const port = (front.address() as { port: number }).port;
        const via = new RegistryClient({ endpoint: resolveEndpoint(`localhost:${port}`), repository: 'test/redirect', actions: ['pull'], timeoutMs: 5000 });
        const dest = join(tmp, 'redirected');
        await via.downloadBlob(p.layerDigest, p.layer.length, dest);
        assert.ok((await fs.readFile(dest)).equals(p.layer));
        assert.deepEqual(seen, [`GET /v2/test/redirect/blobs/${p.layerDigest}`]);
      } finally {
        front.close();
      }
    });

    it('stores an OCI index and hands it back with its media type', async () => {
      const c = client(reg, 'test/tiny', ['pull', 'push']);
      const p = await pushTiny(c, 'v2');
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: DOCKER_MANIFEST, digest: p.digest, size: p.manifest.length, platform: { os: 'linux', architecture: 'amd64' } }],
        }),
      );
      const d = await c.putManifest('multi', OCI_INDEX, index);
      const got = await c.getManifest('multi');
      assert.equal(got.mediaType, OCI_INDEX);
      assert.equal(got.digest, d);
    });

    it('refuses a blob whose bytes on the registry no longer match their digest, keeping nothing', async () => {
      const c = client(reg, 'test/tamper', ['pull', 'push']);
      const p = await pushTiny(c, 'v1');
      const file = reg.blobPath(p.layerDigest);
      const bytes = await fs.readFile(file);
      bytes[bytes.length - 1] ^= 0xff;
      await fs.writeFile(file, bytes);
      const dest = join(tmp, 'tampered');
      await assert.rejects(c.downloadBlob(p.layerDigest, p.layer.length, dest), /digest mismatch/);
      await assert.rejects(fs.stat(dest), { code: 'ENOENT' });
    });

    it('refuses a manifest asked for by a digest it does not have', async () => {
      const c = client(reg, 'test/tiny', ['pull']);
      await assert.rejects(c.getManifest(sha256Digest('nope'), 'manifest for x'), /manifest for x not found: manifest unknown/);
      await assert.rejects(c.getManifest('nosuchtag', 'manifest for y:nosuchtag'), (e: Error) => {
        assert.match(e.message, /^manifest for y:nosuchtag not found: manifest unknown/);
        return true;
      });
      assert.equal(await c.headManifest('nosuchtag'), undefined);
    });

    it('rejects an upload whose content does not match the digest it claims', async () => {
      const c = client(reg, 'test/bad', ['pull', 'push']);
      const data = Buffer.from('payload');
      await assert.rejects(c.uploadBlob(sha256Digest('something else'), data.length, () => once(data)), /digest invalid|digest did not match/i);
      assert.equal(await c.blobExists(sha256Digest('something else')), false);
    });

    it('accepts an OCI manifest as well', async () => {
      const c = client(reg, 'test/oci', ['pull', 'push']);
      const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
      const cd = sha256Digest(config);
      await c.uploadBlob(cd, config.length, () => once(config));
      const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length }, layers: [] }));
      const d = await c.putManifest('1', OCI_MANIFEST, m);
      assert.equal((await c.getManifest('1')).digest, d);
    });
  });

  describe('connection failures', () => {
    it('fails fast with "connection refused" when nothing listens', async () => {
      const reg = await startRegistry();
      const domain = reg.domain;
      await reg.destroy();
      const c = new RegistryClient({ endpoint: resolveEndpoint(domain), repository: 'x/y', actions: ['pull'], timeoutMs: 5000 });
      const t0 = Date.now();
      await assert.rejects(c.getManifest('latest'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'UNAVAILABLE');
        assert.match(e.message, new RegExp(`Get "http://${domain}/v2/x/y/manifests/latest": dial tcp ${domain}: connect: connection refused`));
        return true;
      });
      assert.ok(Date.now() - t0 < 5000);
    });

    it('gives up on a server that never answers, with a timeout error', async () => {
      const { createServer } = await import('node:net');
      const sockets: import('node:net').Socket[] = [];
      const srv = createServer((s) => sockets.push(s)); // accepts, never answers
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      const port = (srv.address() as { port: number }).port;
      try {
        const c = new RegistryClient({ endpoint: resolveEndpoint(`127.0.0.1:${port}`), repository: 'x/y', actions: ['pull'], timeoutMs: 300 });
        await assert.rejects(c.getManifest('latest'), /Client\.Timeout exceeded while awaiting headers/);
        const ctl = new AbortController();
        const c2 = new RegistryClient({ endpoint: resolveEndpoint(`127.0.0.1:${port}`), repository: 'x/y', actions: ['pull'], signal: ctl.signal });
        const p = c2.getManifest('latest');
        ctl.abort();
        await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'CANCELLED');
      } finally {
        sockets.forEach((s) => s.destroy());
        srv.close();
      }
    });
  });

  describe('htpasswd (Basic) authentication', function () {
    let reg: TestRegistry;
    before(async function () {
      if (!canMakeHtpasswd()) return this.skip(); // needs htpasswd (apache2-utils) or python3's crypt for bcrypt
      reg = await startRegistry({ auth: 'htpasswd', users: [{ username: 'alice', password: 's3cret' }] });
    });
    after(async () => reg?.destroy());

    it('pushes and pulls with the right password', async () => {
      const c = client(reg, 'team/app', ['pull', 'push'], { username: 'alice', password: 's3cret' });
      const p = await pushTiny(c, 'v1');
      assert.equal((await client(reg, 'team/app', ['pull'], { username: 'alice', password: 's3cret' }).getManifest('v1')).digest, p.digest);
    });

    it('is refused without credentials or with a wrong password', async () => {
      await assert.rejects(client(reg, 'team/app', ['pull']).getManifest('v1'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PERMISSION_DENIED');
        assert.match(e.message, /pull access denied for 127\.0\.0\.1:\d+\/team\/app/);
        return true;
      });
      await assert.rejects(client(reg, 'team/app', ['pull'], { username: 'alice', password: 'wrong' }).getManifest('v1'), { code: 'PERMISSION_DENIED' });
    });
  });

  describe('token (Bearer) authentication', function () {
    let reg: TestRegistry;
    before(async function () {
      if (!canMakeTokenCert()) return this.skip(); // needs openssl for the token signing certificate
      reg = await startRegistry({ auth: 'token', users: [{ username: 'bob', password: 'hunter2' }], anonymousPull: true, refreshTokens: { 'refresh-abc': 'bob' } });
    });
    after(async () => reg?.destroy());

    it('gets a token for the repository scope and pushes with it', async () => {
      const c = client(reg, 'team/tok', ['pull', 'push'], { username: 'bob', password: 'hunter2' });
      const p = await pushTiny(c, 'v1');
      const asked = reg.tokenRequests.find((r) => r.account === 'bob');
      assert.ok(asked, 'the token server was asked with bob\'s credentials');
      assert.ok(asked.scopes.includes('repository:team/tok:pull,push'));
      // Anonymous pull gets a pull-only token; pushing anonymously is denied.
      const anon = client(reg, 'team/tok', ['pull']);
      assert.equal((await anon.getManifest('v1')).digest, p.digest);
      await assert.rejects(pushTiny(client(reg, 'team/tok', ['pull', 'push']), 'v2'), { code: 'PERMISSION_DENIED' });
    });

    it('reports wrong credentials as unauthorized', async () => {
      await assert.rejects(client(reg, 'team/tok', ['pull'], { username: 'bob', password: 'nope' }).getManifest('v1'), /unauthorized: incorrect username or password/);
    });

    it('uses an identity token through the refresh-token grant', async () => {
      const c = client(reg, 'team/idt', ['pull', 'push'], { identitytoken: 'refresh-abc' });
      const p = await pushTiny(c, 'v1');
      assert.equal((await c.getManifest('v1')).digest, p.digest);
      assert.ok(reg.tokenRequests.some((r) => r.account === 'bob' && r.scopes.includes('repository:team/idt:pull,push')));
      await assert.rejects(client(reg, 'team/idt', ['pull'], { identitytoken: 'stale' }).getManifest('v1'), /unauthorized/);
    });
  });
});
