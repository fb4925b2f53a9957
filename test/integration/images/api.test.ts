import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ApiServer, Router } from '../../../shared/api';
import { EngineClient, ApiError, readAll } from '../../../shared/client';
import { EventBus } from '../../../shared/events';
import { logger, silenceLogging } from '../../../shared/log';
import { run } from '../../../shared/exec';
import { ImageStore, sha256 } from '../../../worker/engine/images';
import { registerImageRoutes } from '../../../worker/api/images';
import { busyboxRootfs } from '../../helpers/daemon';

function status(code: number, re?: RegExp) {
  return (e: unknown) => e instanceof ApiError && e.status === code && (!re || re.test(e.message));
}

interface Served {
  root: string;
  store: ImageStore;
  events: EventBus;
  server: ApiServer;
  client: EngineClient;
  host: string;
}

async function serve(base: string, name: string): Promise<Served> {
  const root = join(base, name, 'image');
  const events = new EventBus();
  const store = await ImageStore.open({ root, events });
  const router = new Router();
  registerImageRoutes(router, { images: store, events });
  const server = new ApiServer(router, logger('test'));
  const sock = join(base, name, 'api.sock');
  await server.listen([{ kind: 'unix', address: sock }]);
  return { root, store, events, server, client: new EngineClient(`unix://${sock}`), host: `unix://${sock}` };
}

describe('images: API routes and the docker CLI', function () {
  this.timeout(120_000);
  let base: string;
  let a: Served;
  let b: Served;
  let bbTar: string;
  const inUse = new Map<string, string[]>();

  const docker = (s: Served, args: string[], input?: Buffer) => run('docker', ['-H', s.host, ...args], { input, env: { ...process.env, DOCKER_CONFIG: join(base, 'docker-config') } });
  const blobsOf = async (s: Served) => (await fs.readdir(join(s.root, 'blobs', 'sha256'))).sort();
  const layersOf = async (s: Served) => (await fs.readdir(join(s.root, 'layers'))).sort();

  before(async () => {
    silenceLogging();
    base = await fs.mkdtemp(join(tmpdir(), 'shoal-imgapi-'));
    a = await serve(base, 'a');
    b = await serve(base, 'b');
    a.store.setInUseCheck(async (id) => inUse.get(id) ?? []);
    bbTar = join(base, 'busybox.tar');
    await fs.writeFile(bbTar, await busyboxRootfs());
  });

  after(async () => {
    for (const s of [a, b]) {
      s?.client.close();
      await s?.server.close();
    }
    await fs.rm(base, { recursive: true, force: true });
  });

  it('docker import with changes and a message, then images, inspect and history', async () => {
    const out = await docker(a, ['import', '-c', 'CMD ["sh"]', '-c', 'ENV FOO=bar', '-m', 'from test', bbTar, 'busybox:latest']);
    const id = out.stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const list = await docker(a, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.equal(list.stdout.trim(), `busybox:latest ${id.slice(7, 19)}`);
    const ins = JSON.parse((await docker(a, ['image', 'inspect', 'busybox'])).stdout)[0];
    assert.equal(ins.Id, id);
    assert.deepEqual(ins.RepoTags, ['busybox:latest']);
    assert.deepEqual(ins.Config.Cmd, ['sh']);
    assert.deepEqual(ins.Config.Env, ['FOO=bar']);
    assert.equal(ins.Comment, 'from test');
    assert.equal(ins.Os, 'linux');
    assert.equal(ins.RootFS.Type, 'layers');
    assert.deepEqual(ins.RootFS.Layers, [sha256(await fs.readFile(bbTar))]);
    assert.ok(ins.Size > 1_000_000);
    const hist = await docker(a, ['history', '--no-trunc', '--format', '{{.ID}} {{.Comment}}', 'busybox']);
    assert.equal(hist.stdout.trim(), `${id} from test`);
    assert.ok(a.events.history(0).some((e) => e.Type === 'image' && e.Action === 'import' && e.Actor.ID === id));
  });

  it('the raw import stream ends with {"status": ID}', async () => {
    const res = await a.client.raw('POST', '/images/create', { query: { fromSrc: '-', repo: 'raw', tag: 't' }, body: await fs.readFile(bbTar) });
    assert.equal(res.status, 200);
    const lines = (await readAll(res.stream)).toString().trim().split('\n').map((l) => JSON.parse(l));
    assert.match(lines[lines.length - 1].status, /^sha256:[0-9a-f]{64}$/);
    assert.equal(lines[lines.length - 1].status, a.store.resolve('raw:t').id);
    assert.deepEqual(a.store.resolve('raw:t').config.rootfs.diff_ids, a.store.resolve('busybox').config.rootfs.diff_ids, 'same rootfs, same layer');
  });

  it('imports from a URL (loopback HTTP server)', async () => {
    const http = await import('node:http');
    const body = await fs.readFile(bbTar);
    const srv = http.createServer((req, res) => {
      if (req.url === '/rootfs.tar') res.end(body);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as { port: number }).port;
      const out = await docker(a, ['import', `http://127.0.0.1:${port}/rootfs.tar`, 'fromurl:1']);
      assert.equal(a.store.resolve('fromurl:1').id, out.stdout.trim());
      assert.equal(a.store.resolve('fromurl:1').config.history![0].comment, `Imported from http://127.0.0.1:${port}/rootfs.tar`);
      await assert.rejects(a.client.post('/images/create', { query: { fromSrc: `http://127.0.0.1:${port}/missing`, repo: 'x' } }), status(400, /HTTP 404/));
      await a.client.delete('/images/fromurl:1');
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('tags, lists with filters, untags and deletes as docker does', async () => {
    const id = a.store.resolve('busybox').id;
    await docker(a, ['tag', 'busybox', 'localhost:5000/team/app:v1']);
    await docker(a, ['tag', id.slice(7, 19), 'busybox:two']);
    const ins = await a.client.get<{ RepoTags: string[] }>('/images/busybox/json');
    assert.deepEqual(ins.RepoTags, ['busybox:latest', 'busybox:two', 'localhost:5000/team/app:v1']);
    const byRef = await a.client.get<Array<{ RepoTags: string[] }>>('/images/json', { query: { filters: JSON.stringify({ reference: ['localhost:5000/*/*'] }) } });
    assert.deepEqual(byRef.map((i) => i.RepoTags), [['localhost:5000/team/app:v1']]);
    const q = await docker(a, ['images', '-q', '--filter', 'reference=busybox:tw*']);
    assert.equal(q.stdout.trim(), id.slice(7, 19));
    await assert.rejects(a.client.get('/images/json', { query: { filters: JSON.stringify({ colour: ['red'] }) } }), status(400, /invalid filter/));
    await assert.rejects(a.client.post('/images/busybox/tag', { query: { repo: 'Bad Repo' } }), status(400, /invalid reference format/));
    await assert.rejects(a.client.post('/images/nothere/tag', { query: { repo: 'x' } }), status(404, /No such image: nothere/));

    // By ID with tags in several repositories: refused without force.
    await assert.rejects(a.client.delete(`/images/${id.slice(7, 19)}`), status(409, /referenced in multiple repositories/));
    // By name: only that tag goes.
    assert.deepEqual(await a.client.delete('/images/busybox:two'), [{ Untagged: 'busybox:two' }]);
    assert.deepEqual(await a.client.delete('/images/localhost:5000/team/app:v1'), [{ Untagged: 'localhost:5000/team/app:v1' }]);
    assert.ok(a.events.history(0).some((e) => e.Action === 'untag' && e.Actor.ID === id));
    assert.equal(a.store.resolve('busybox').id, id);
    await assert.rejects(a.client.delete('/images/nothere'), status(404, /No such image: nothere/));
  });

  it('refuses to delete an image a container uses unless forced, and keeps it for the container', async () => {
    const rawId = a.store.resolve('raw:t').id;
    inUse.set(rawId, ['c0ffee' + '0'.repeat(58)]);
    await assert.rejects(a.client.delete('/images/raw:t'), status(409, /container c0ffee000000 is using its referenced image/));
    await assert.rejects(a.client.delete(`/images/${rawId}`), status(409, /being used by stopped container/));
    assert.deepEqual(await a.client.delete('/images/raw:t', { query: { force: 1 } }), [{ Untagged: 'raw:t' }]);
    assert.equal(a.store.get(rawId)?.id, rawId, 'still there (dangling) for its container');
    // Prune skips it while in use, takes it once unused.
    assert.deepEqual(await a.client.post('/images/prune'), { ImagesDeleted: null, SpaceReclaimed: 0 });
    inUse.delete(rawId);
    const pruned = await a.client.post<{ ImagesDeleted: Array<Record<string, string>>; SpaceReclaimed: number }>('/images/prune');
    assert.deepEqual(pruned.ImagesDeleted, [{ Deleted: rawId }]);
    assert.ok(!a.store.get(rawId));
    assert.ok(a.events.history(0).some((e) => e.Action === 'delete' && e.Actor.ID === rawId));
  });

  it('saves with docker save and loads into a fresh store with the same ID (Docker 25+ layout)', async () => {
    const id = a.store.resolve('busybox').id;
    await docker(a, ['tag', 'busybox', 'other/name:1']);
    const out = join(base, 'saved.tar');
    await docker(a, ['save', '-o', out, 'busybox', 'other/name:1']);
    const names = (await run('tar', ['tf', out])).stdout.trim().split('\n').sort();
    assert.ok(names.includes('manifest.json') && names.includes('index.json') && names.includes('oci-layout') && names.includes('repositories'));
    assert.ok(names.includes(`blobs/sha256/${id.slice(7)}`));
    const manifest = JSON.parse((await run('tar', ['xOf', out, 'manifest.json'])).stdout);
    assert.deepEqual(manifest[0].RepoTags, ['busybox:latest', 'other/name:1']);
    assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);

    const loaded = await docker(b, ['load', '-i', out]);
    assert.deepEqual(loaded.stdout.trim().split('\n').sort(), ['Loaded image: busybox:latest', 'Loaded image: other/name:1']);
    assert.equal(b.store.resolve('busybox').id, id);
    assert.equal(b.store.resolve('other/name:1').id, id);
    assert.ok(b.events.history(0).some((e) => e.Action === 'load' && e.Actor.ID === id));
    assert.ok(a.events.history(0).some((e) => e.Action === 'save' && e.Actor.ID === id));
    // The unpacked layer is identical content.
    assert.ok((await fs.stat(join(b.store.layerDirs('busybox')[0], 'bin/busybox'))).nlink > 100);

    // docker load also takes a gzip-compressed archive.
    await run('sh', ['-c', `gzip -c ${out} > ${out}.gz`]);
    await b.client.delete('/images/other/name:1');
    const gzLoad = await docker(b, ['load', '-i', `${out}.gz`]);
    assert.match(gzLoad.stdout, /Loaded image: other\/name:1/);

    // Saved by ID: no tags; loading says "Loaded image ID".
    const byId = await a.client.stream('GET', `/images/${id.slice(7, 19)}/get`);
    const tarBuf = await readAll(byId);
    await b.client.delete('/images/other/name:1');
    const res = await b.client.raw('POST', '/images/load', { body: tarBuf, query: { quiet: 1 } });
    const lines = (await readAll(res.stream)).toString().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [{ stream: `Loaded image ID: ${id}\n` }]);
    // Several names through /images/get?names=
    const multi = await readAll(await a.client.stream('GET', '/images/get', { query: { names: ['busybox', 'other/name:1'] } }));
    assert.ok(multi.length > 1_000_000);
    await assert.rejects(a.client.get('/images/get', { query: { names: ['busybox', 'nope'] } }), status(404, /No such image: nope/));
  });

  it('loads a classic docker-archive (<id>/layer.tar, symlinked duplicate layer)', async () => {
    const dir = join(base, 'classic');
    const tar = await fs.readFile(bbTar);
    const diff = sha256(tar);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['echo', 'classic'] }, created: '2020-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [diff, diff] }, history: [{ created: '2020-01-01T00:00:00Z' }, { created: '2020-01-01T00:00:00Z' }] }));
    const cid = sha256(config).slice(7);
    await fs.mkdir(join(dir, 'l1'), { recursive: true });
    await fs.mkdir(join(dir, 'l2'));
    await fs.writeFile(join(dir, 'l1', 'layer.tar'), tar);
    await fs.symlink('../l1/layer.tar', join(dir, 'l2', 'layer.tar'));
    await fs.writeFile(join(dir, `${cid}.json`), config);
    await fs.writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${cid}.json`, RepoTags: ['classic:old'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]));
    await fs.writeFile(join(dir, 'repositories'), JSON.stringify({ classic: { old: 'l2' } }));
    const file = join(base, 'classic.tar');
    await run('tar', ['-C', dir, '-cf', file, '.']);
    const out = await docker(b, ['load', '-i', file]);
    assert.equal(out.stdout.trim(), 'Loaded image: classic:old');
    const img = b.store.resolve('classic:old');
    assert.equal(img.id, `sha256:${cid}`);
    assert.equal(b.store.layerDirs(img).length, 2);
    const hist = await b.client.get<Array<{ Id: string }>>('/images/classic:old/history');
    assert.equal(hist.length, 2);
    assert.equal(hist[0].Id, `sha256:${cid}`);
    assert.equal(hist[1].Id, '<missing>');
  });

  it('loads an OCI layout tar (nested index, gzip layer, name annotation)', async () => {
    const dir = join(base, 'oci');
    const blobs = join(dir, 'blobs', 'sha256');
    await fs.mkdir(blobs, { recursive: true });
    const put = async (data: Buffer) => {
      await fs.writeFile(join(blobs, sha256(data).slice(7)), data);
      return { digest: sha256(data), size: data.length };
    };
    const raw = await fs.readFile(bbTar);
    await run('sh', ['-c', `gzip -c ${bbTar} > ${join(base, 'bb.gz')}`]);
    const gz = await fs.readFile(join(base, 'bb.gz'));
    const layer = await put(gz);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['oci'] }, rootfs: { type: 'layers', diff_ids: [sha256(raw)] } }));
    const cfg = await put(config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] }));
    const man = await put(manifest);
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, platform: { os: 'linux', architecture: arch } }] }));
    const idx = await put(inner);
    await fs.writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...idx, annotations: { 'io.containerd.image.name': 'docker.io/library/ocitest:1.0', 'org.opencontainers.image.ref.name': '1.0' } }] }));
    await fs.writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const file = join(base, 'oci.tar');
    await run('tar', ['-C', dir, '-cf', file, '.']);
    const out = await docker(b, ['load', '-i', file]);
    assert.equal(out.stdout.trim(), 'Loaded image: ocitest:1.0');
    const img = b.store.resolve('ocitest:1.0');
    assert.equal(img.id, sha256(config));
    assert.equal(img.record.manifest.digest, man.digest, 'the manifest is kept as given');
    assert.equal(img.record.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal(b.store.layerDirs(img)[0], b.store.layerDirs('busybox')[0], 'same diffID shares the unpacked dir');
  });

  it('rejects malformed archives with 400 and leaves nothing in blobs or layers', async () => {
    const blobsBefore = await blobsOf(b);
    const layersBefore = await layersOf(b);
    await assert.rejects(b.client.post('/images/load', { body: Buffer.from('this is not a tar at all, not even close'.repeat(40)) }), status(400, /invalid tar archive/));
    await assert.rejects(b.client.post('/images/load', { body: await fs.readFile(bbTar) }), status(400, /no manifest.json or index.json/));
    await assert.rejects(b.client.post('/images/load', { body: Buffer.alloc(0) }), status(400, /empty/));
    // A docker-archive whose config lists a different diffID than its layer has.
    const dir = join(base, 'liar');
    await fs.mkdir(join(dir, 'l'), { recursive: true });
    const layerTar = join(base, 'small.tar');
    await fs.mkdir(join(base, 'small', 'x'), { recursive: true });
    await fs.writeFile(join(base, 'small', 'x', 'f'), 'unique content for the liar test');
    await run('tar', ['-C', join(base, 'small'), '-cf', layerTar, '.']);
    await fs.copyFile(layerTar, join(dir, 'l', 'layer.tar'));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('wrong')] } }));
    await fs.writeFile(join(dir, 'c.json'), config);
    await fs.writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['liar:1'], Layers: ['l/layer.tar'] }]));
    const file = join(base, 'liar.tar');
    await run('tar', ['-C', dir, '-cf', file, '.']);
    await assert.rejects(b.client.post('/images/load', { body: await fs.readFile(file) }), status(400, /diffID/));
    // A manifest naming a file outside the archive.
    await fs.writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: '../../../etc/passwd', RepoTags: ['liar:2'], Layers: [] }]));
    await run('tar', ['-C', dir, '-cf', file, '.']);
    await assert.rejects(b.client.post('/images/load', { body: await fs.readFile(file) }), status(400, /outside the archive|missing from the archive/));
    // The CLI shows the message.
    await assert.rejects(docker(b, ['load', '-i', layerTar]), /no manifest.json or index.json/);
    assert.deepEqual(await blobsOf(b), blobsBefore);
    assert.deepEqual(await layersOf(b), layersBefore);
    assert.deepEqual(await fs.readdir(join(b.root, 'tmp')), []);
    assert.throws(() => b.store.resolve('liar:1'), /No such image/);
    // Import of garbage: 400, nothing kept.
    await assert.rejects(b.client.post('/images/create', { query: { fromSrc: '-', repo: 'junk' }, body: Buffer.alloc(5000, 7) }), status(400, /invalid tar archive/));
    assert.deepEqual(await blobsOf(b), blobsBefore);
    assert.deepEqual(await layersOf(b), layersBefore);
  });

  it('answers 501 for pulls when no registry module is wired', async () => {
    await assert.rejects(a.client.post('/images/create', { query: { fromImage: 'busybox', tag: 'latest' } }), status(501, /pull is not available/));
  });

  it('deletes by ID, prunes dangling and unused images, and collects their blobs and layers', async () => {
    // b holds busybox (tagged), classic:old, ocitest:1.0; make one dangling by re-tagging.
    await docker(b, ['tag', 'classic:old', 'classic:keep']);
    const classicId = b.store.resolve('classic:old').id;
    const rm = await docker(b, ['rmi', 'classic:old']);
    assert.equal(rm.stdout.trim(), 'Untagged: classic:old');
    const rm2 = await b.client.delete<Array<Record<string, string>>>('/images/classic:keep');
    assert.deepEqual(rm2, [{ Untagged: 'classic:keep' }, { Deleted: classicId }]);
    assert.ok(!(await blobsOf(b)).includes(classicId.slice(7)), 'its config blob is collected');

    // A dangling image: retag ocitest's tag onto busybox, leaving ocitest untagged.
    const ociId = b.store.resolve('ocitest:1.0').id;
    await docker(b, ['tag', 'busybox', 'ocitest:1.0']);
    const dangling = await b.client.get<Array<{ Id: string; RepoTags: string[] }>>('/images/json', { query: { filters: JSON.stringify({ dangling: ['true'] }) } });
    assert.deepEqual(dangling.map((i) => [i.Id, i.RepoTags]), [[ociId, []]]);
    const gzLayer = b.store.get(ociId)!.record.layers[0].digest;
    const pruned = await b.client.post<{ ImagesDeleted: Array<Record<string, string>>; SpaceReclaimed: number }>('/images/prune');
    assert.deepEqual(pruned.ImagesDeleted, [{ Deleted: ociId }]);
    assert.ok(pruned.SpaceReclaimed > 0);
    assert.ok(!(await b.store.hasBlob(gzLayer)), 'the gzip layer blob went with it');
    assert.equal(b.store.list().length, 1);

    // prune -a removes tagged unused images too; the layer dir goes with the last user.
    const all = await docker(b, ['image', 'prune', '-a', '-f']);
    assert.match(all.stdout, /untagged: busybox:latest/);
    assert.equal(b.store.list().length, 0);
    assert.deepEqual(await blobsOf(b), []);
    assert.deepEqual(await layersOf(b), []);
  });

  it('removes an image chain: a child blocks deleting its parent by ID; rmi of the child prunes the parent', async () => {
    const parentId = a.store.resolve('busybox').id;
    const upper = join(base, 'upper');
    await fs.mkdir(join(upper, 'etc'), { recursive: true });
    await fs.writeFile(join(upper, 'etc', 'child'), 'x');
    const childId = await a.store.commitUpperDir({ upperDir: upper, parentImageId: parentId, config: {}, createdBy: 'test', tags: ['child:1'] });
    await docker(a, ['rmi', 'busybox']);
    await docker(a, ['rmi', 'other/name:1']);
    assert.ok(a.store.get(parentId), 'untagged parent stays for its child');
    const top = await a.client.get<Array<{ Id: string }>>('/images/json');
    assert.deepEqual(top.map((i) => i.Id), [childId], 'untagged intermediate images are hidden');
    const all = await a.client.get<Array<{ Id: string }>>('/images/json', { query: { all: 1 } });
    assert.deepEqual(all.map((i) => i.Id).sort(), [childId, parentId].sort());
    await assert.rejects(a.client.delete(`/images/${parentId}`), status(409, /dependent child images/));
    const del = await a.client.delete('/images/child:1');
    assert.deepEqual(del, [{ Untagged: 'child:1' }, { Deleted: childId }, { Deleted: parentId }]);
    assert.equal(a.store.list().length, 0);
    assert.deepEqual(await layersOf(a), []);
  });
});
