import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { EventBus } from '../../../shared/events';
import { silenceLogging } from '../../../shared/log';
import { run } from '../../../shared/exec';
import { isShoalError } from '../../../shared/errors';
import { ImageStore, sha256 } from '../../../worker/engine/images';
import { listTar } from '../../../worker/engine/images/layers';
import { busyboxRootfs } from '../../helpers/daemon';

async function xattr(path: string, name: string): Promise<string | undefined> {
  const r = await run('getfattr', ['-h', '--only-values', '-n', name, path], { okCodes: [0, 1] });
  return r.code === 0 ? r.stdout : undefined;
}

async function isWhiteout(path: string): Promise<boolean> {
  const st = await fs.lstat(path).catch(() => undefined);
  return !!st && st.isCharacterDevice() && st.rdev === 0;
}

/** Make a tar of `dir` (GNU tar, numeric owners, sorted). */
async function tarOf(dir: string, out: string, extra: string[] = []): Promise<void> {
  await run('tar', ['--numeric-owner', '--sort=name', ...extra, '-C', dir, '-cf', out, '.']);
}

const code = (c: string) => (e: unknown) => isShoalError(e, c as never);

describe('images: store on disk (import, layers, whiteouts, commit)', function () {
  this.timeout(120_000);
  let base: string;
  let root: string;
  let events: EventBus;
  let store: ImageStore;
  let busyboxId: string;
  const mounts: string[] = [];

  before(async () => {
    silenceLogging();
    base = await fs.mkdtemp(join(tmpdir(), 'shoal-img-'));
    root = join(base, 'image');
    events = new EventBus();
    store = await ImageStore.open({ root, events });
  });

  after(async () => {
    for (const m of mounts.reverse()) await run('umount', [m], { okCodes: [0, 32] }).catch(() => undefined);
    await fs.rm(base, { recursive: true, force: true });
  });

  it('imports the busybox rootfs as a one-layer image with an ID from its config', async () => {
    const tar = await busyboxRootfs();
    busyboxId = await store.importRootfs(Readable.from([tar]), { repo: 'busybox', tag: 'latest', changes: ['CMD ["sh"]', 'ENV A=1'], message: 'test import' });
    assert.match(busyboxId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(sha256(await store.readBlob(busyboxId)), busyboxId, 'the ID is the digest of the config blob');
    const img = store.resolve('busybox');
    assert.equal(img.id, busyboxId);
    assert.deepEqual(img.config.rootfs.diff_ids, [sha256(tar)], 'the diffID is the digest of the plain tar');
    assert.deepEqual(img.config.config, { Cmd: ['sh'], Env: ['A=1'] });
    assert.equal(img.config.comment, 'test import');
    assert.ok(events.history(0).some((e) => e.Type === 'image' && e.Action === 'import' && e.Actor.ID === busyboxId));
    assert.ok(events.history(0).some((e) => e.Action === 'tag' && e.Actor.Attributes.name === 'busybox:latest'));
    // The layer blob is what we received; config and manifest are blobs too.
    const blobs = (await fs.readdir(join(root, 'blobs', 'sha256'))).sort();
    assert.deepEqual(blobs, [busyboxId.slice(7), sha256(tar).slice(7), img.record.manifest.digest.slice(7)].sort());
  });

  it('resolves names, tags, IDs and prefixes; unknown is NOT_FOUND', async () => {
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', 'library/busybox', busyboxId, busyboxId.slice(7), busyboxId.slice(7, 19), `sha256:${busyboxId.slice(7, 15)}`]) {
      assert.equal(store.resolve(ref).id, busyboxId, ref);
    }
    assert.deepEqual(store.inspect('busybox').RepoTags, ['busybox:latest']);
    assert.throws(() => store.resolve('busybox:nope'), (e: Error) => code('NOT_FOUND')(e) && e.message === 'No such image: busybox:nope');
    assert.throws(() => store.resolve('other'), /No such image: other/);
    assert.throws(() => store.resolve('Bad:Ref!'), code('INVALID_ARGUMENT'));
    const run1 = await store.resolveForRun('busybox');
    assert.deepEqual(run1.config.Cmd, ['sh']);
    assert.equal(run1.layerDirs.length, 1);
  });

  it('unpacks the layer keeping modes, owners, hard links and times', async () => {
    const [dir] = store.layerDirs('busybox');
    assert.equal(dir, join(root, 'layers', store.resolve('busybox').config.rootfs.diff_ids[0].slice(7), 'diff'));
    const bb = await fs.stat(join(dir, 'bin/busybox'));
    assert.ok(bb.nlink > 100, 'applets are hard links of bin/busybox');
    assert.equal((await fs.stat(join(dir, 'bin/sh'))).ino, bb.ino);
    assert.equal(bb.mode & 0o7777, 0o755);
    assert.equal((await fs.stat(join(dir, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await fs.stat(join(dir, 'root'))).mode & 0o7777, 0o700);
    assert.equal(bb.uid, 0);
    assert.equal(bb.mtimeMs, 0, 'times come from the tar');
    assert.match(await fs.readFile(join(dir, 'etc/passwd'), 'utf8'), /^root:x:0:0/);
    assert.deepEqual(await fs.readdir(join(root, 'tmp')), [], 'no temp leftovers');
  });

  it('converts OCI whiteouts to overlay ones and keeps devices and symlinks', async () => {
    const src = join(base, 'wh-src');
    await fs.mkdir(join(src, 'etc'), { recursive: true });
    await fs.mkdir(join(src, 'home'), { recursive: true });
    await fs.writeFile(join(src, 'etc', '.wh.hosts'), '');
    await fs.writeFile(join(src, 'home', '.wh..wh..opq'), '');
    await fs.writeFile(join(src, 'home', 'new'), 'new file');
    await fs.symlink('/bin/busybox', join(src, 'etc', 'link'));
    await run('mknod', ['-m', '0666', join(src, 'etc', 'null'), 'c', '1', '3']);
    await fs.chown(join(src, 'home', 'new'), 1000, 1001);
    const file = join(base, 'wh.tar');
    await tarOf(src, file);
    const gz = join(base, 'wh.tar.gz');
    await run('sh', ['-c', `gzip -c ${file} > ${gz}`]);
    const { digest } = await store.addBlob(Readable.from([await fs.readFile(gz)]));
    const info = await store.ensureLayer(digest);
    assert.equal(info.diffId, sha256(await fs.readFile(file)), 'the diffID is taken over the uncompressed tar');
    const dir = store.layerDir(info.diffId);
    assert.ok(await isWhiteout(join(dir, 'etc/hosts')), 'etc/hosts is a 0/0 char device');
    assert.ok(!(await fs.lstat(join(dir, 'etc/.wh.hosts')).catch(() => undefined)), 'the .wh. marker is gone');
    assert.equal(await xattr(join(dir, 'home'), 'trusted.overlay.opaque'), 'y');
    assert.ok(!(await fs.lstat(join(dir, 'home/.wh..wh..opq')).catch(() => undefined)));
    assert.equal(await fs.readlink(join(dir, 'etc/link')), '/bin/busybox');
    const nul = await fs.lstat(join(dir, 'etc/null'));
    assert.ok(nul.isCharacterDevice() && nul.rdev === ((1 << 8) | 3));
    const nf = await fs.stat(join(dir, 'home/new'));
    assert.equal(nf.uid, 1000);
    assert.equal(nf.gid, 1001);
    // Not part of an image: releasing it removes blob and layer dir.
    await store.releaseLayers([info.diffId]);
    await store.releaseBlobs([digest]);
    assert.ok(!(await store.hasBlob(digest)));
    assert.ok(!(await fs.lstat(dir).catch(() => undefined)));
  });

  it('commits an overlay upper dir with a deleted file and an opaque dir', async () => {
    const lower = store.layerDirs('busybox');
    const upper = join(base, 'c1', 'upper');
    const work = join(base, 'c1', 'work');
    const merged = join(base, 'c1', 'merged');
    for (const d of [upper, work, merged]) await fs.mkdir(d, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...lower].reverse().join(':')},upperdir=${upper},workdir=${work}`, merged]);
    mounts.push(merged);
    await fs.rm(join(merged, 'etc/hosts'));
    await fs.rm(join(merged, 'var'), { recursive: true });
    await fs.mkdir(join(merged, 'var'));
    await fs.writeFile(join(merged, 'var/only'), 'x');
    await fs.writeFile(join(merged, 'etc/motd'), 'hello\n');
    await fs.link(join(merged, 'etc/motd'), join(merged, 'etc/motd2'));
    await fs.writeFile(join(merged, 'bin/capped'), 'x');
    await run('setfattr', ['-n', 'security.capability', '-v', '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=', join(merged, 'bin/capped')]);
    await run('setfattr', ['-n', 'user.note', '-v', 'kept', join(merged, 'bin/capped')]);
    const longDir = join(merged, 'd'.repeat(120));
    await fs.mkdir(longDir);
    await fs.writeFile(join(longDir, 'f'.repeat(150)), 'long');
    await run('umount', [merged]);
    mounts.pop();
    assert.equal(await xattr(join(upper, 'var'), 'trusted.overlay.opaque'), 'y', 'overlay marked the recreated dir opaque');

    const id = await store.commitUpperDir({ upperDir: upper, parentImageId: busyboxId, config: { Cmd: ['cat', '/etc/motd'] }, createdBy: '/bin/sh -c edit', comment: 'c', author: 'tester', tags: ['committed:v1'] });
    const img = store.resolve('committed:v1');
    assert.equal(img.id, id);
    assert.equal(img.record.parent, busyboxId);
    assert.equal(img.config.rootfs.diff_ids.length, 2);
    assert.equal(img.config.rootfs.diff_ids[0], store.resolve('busybox').config.rootfs.diff_ids[0]);
    assert.equal(img.config.history!.length, 2);
    assert.equal(img.config.history![1].created_by, '/bin/sh -c edit');
    assert.equal(img.config.author, 'tester');
    assert.deepEqual(img.config.config, { Cmd: ['cat', '/etc/motd'] });

    const layerBlob = img.record.layers[1];
    const entries = await listTar(store.blobs.path(layerBlob.digest));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.equal(byPath.get('etc/.wh.hosts')?.type, 'File');
    assert.equal(byPath.get('var/.wh..wh..opq')?.type, 'File');
    assert.equal(byPath.get('var/only')?.size, 1);
    assert.equal(byPath.get('etc/motd')?.type, 'File');
    assert.equal(byPath.get('etc/motd2')?.type, 'Link');
    assert.equal(byPath.get('etc/motd2')?.linkpath, 'etc/motd');
    assert.ok(!byPath.has('etc/hosts'), 'no device entry for the whiteout');
    const paths = entries.map((e) => e.path);
    assert.ok(paths.indexOf('var') < paths.indexOf('var/.wh..wh..opq'), 'a dir comes before its contents');

    assert.equal(byPath.get(`${'d'.repeat(120)}/${'f'.repeat(150)}`)?.size, 4, 'long names go through PAX');
    // The new layer unpacks back into overlay form, and the stacked image shows the edits.
    const dirs = store.layerDirs(img);
    const cap = (await run('getfattr', ['-e', 'base64', '-n', 'security.capability', join(dirs[1], 'bin/capped')])).stdout;
    assert.match(cap, /security\.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=/, 'file capabilities survive commit');
    assert.equal(await xattr(join(dirs[1], 'bin/capped'), 'user.note'), 'kept');
    assert.equal(await fs.readFile(join(dirs[1], 'd'.repeat(120), 'f'.repeat(150)), 'utf8'), 'long');
    assert.equal(await xattr(join(dirs[1], 'etc'), 'trusted.overlay.origin'), undefined, "overlay's own xattrs are not copied");
    assert.ok(await isWhiteout(join(dirs[1], 'etc/hosts')));
    assert.equal(await xattr(join(dirs[1], 'var'), 'trusted.overlay.opaque'), 'y');
    const view = join(base, 'c1', 'view');
    await fs.mkdir(view);
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...dirs].reverse().join(':')}`, view]);
    mounts.push(view);
    assert.ok(!(await fs.lstat(join(view, 'etc/hosts')).catch(() => undefined)), 'deleted file stays deleted');
    assert.deepEqual(await fs.readdir(join(view, 'var')), ['only'], 'opaque dir hides the lower contents');
    assert.equal(await fs.readFile(join(view, 'etc/motd'), 'utf8'), 'hello\n');
    assert.ok(await fs.stat(join(view, 'bin/busybox')));
    await run('umount', [view]);
    mounts.pop();

    const h = store.history('committed:v1');
    assert.equal(h.length, 2);
    assert.equal(h[0].Id, id);
    assert.equal(h[0].CreatedBy, '/bin/sh -c edit');
    assert.equal(h[1].Id, busyboxId, 'the parent shows in history');
  });

  it('commits a metadata-only step without a layer', async () => {
    const id = await store.commitUpperDir({ upperDir: '/nonexistent', parentImageId: 'committed:v1', config: { Env: ['X=1'] }, createdBy: 'ENV X=1', emptyLayer: true });
    const img = store.get(id)!;
    assert.equal(img.config.rootfs.diff_ids.length, 2);
    assert.equal(img.config.history![2].empty_layer, true);
    assert.equal(store.layerDirs(img).length, 2);
  });

  it('rejects a malformed layer tar and leaves nothing behind', async () => {
    const before = (await fs.readdir(join(root, 'blobs', 'sha256'))).sort();
    const layersBefore = (await fs.readdir(join(root, 'layers'))).sort();
    const garbage = Buffer.alloc(4096, 0x41);
    await assert.rejects(store.importRootfs(Readable.from([garbage]), { repo: 'bad' }), (e: Error) => code('INVALID_ARGUMENT')(e) && /invalid tar archive/.test(e.message));
    // A truncated tar: a header promising more content than there is.
    const tar = await busyboxRootfs();
    await assert.rejects(store.importRootfs(Readable.from([tar.subarray(0, 200_000)]), { repo: 'bad' }), code('INVALID_ARGUMENT'));
    await assert.rejects(store.importRootfs(Readable.from([]), { repo: 'bad' }), /empty/);
    await assert.rejects(store.importRootfs(Readable.from([tar]), { repo: 'Bad Name' }), /invalid reference format/);
    await assert.rejects(store.importRootfs(Readable.from([tar]), { changes: ['RUN x'] }), /not a valid change command/);
    assert.deepEqual((await fs.readdir(join(root, 'blobs', 'sha256'))).sort(), before);
    assert.deepEqual((await fs.readdir(join(root, 'layers'))).sort(), layersBefore);
    assert.deepEqual(await fs.readdir(join(root, 'tmp')), []);
    assert.throws(() => store.resolve('bad'), /No such image/);
  });

  it('verifies blobs against the expected digest and keeps nothing on mismatch', async () => {
    const data = Buffer.from('some layer bytes');
    await assert.rejects(store.addBlob(Readable.from([data]), { digest: sha256('other') }), /digest mismatch/);
    await assert.rejects(store.addBlob(Readable.from([data]), { digest: sha256(data), size: 3 }), /size mismatch/);
    assert.ok(!(await store.hasBlob(sha256(data))));
    assert.deepEqual(await fs.readdir(join(root, 'tmp')), []);
    const ok = await store.addBlob(Readable.from([data]), { digest: sha256(data), size: data.length });
    assert.equal(ok.digest, sha256(data));
    assert.ok(await store.hasBlob(ok.digest));
    await store.releaseBlobs([ok.digest]);
    assert.ok(!(await store.hasBlob(ok.digest)), 'an unreferenced released blob is collected');
  });

  it('imports the same rootfs concurrently into one shared layer dir', async () => {
    const tar = await busyboxRootfs();
    const ids = await Promise.all([0, 1, 2].map((i) => store.importRootfs(Readable.from([tar]), { repo: `conc${i}` })));
    const dirs = ids.map((id) => store.layerDirs(id)[0]);
    assert.equal(new Set(dirs).size, 1);
    assert.equal(dirs[0], store.layerDirs('busybox')[0]);
    assert.deepEqual(await fs.readdir(join(root, 'tmp')), []);
    for (let i = 0; i < 3; i++) await store.remove(`conc${i}`);
    assert.ok(await fs.stat(join(dirs[0], 'bin/busybox')), 'busybox still uses the layer');
  });

  it('reopens from disk with the same images and references', async () => {
    const again = await ImageStore.open({ root, events: new EventBus() });
    assert.equal(again.resolve('busybox').id, busyboxId);
    assert.deepEqual(again.inspect('committed:v1').RepoTags, ['committed:v1']);
    assert.deepEqual(again.layerDirs('committed:v1'), store.layerDirs('committed:v1'));
    assert.equal(again.info().Images, store.info().Images);
    const index = JSON.parse(await fs.readFile(join(root, 'index.json'), 'utf8'));
    assert.ok(index.manifests.some((m: { annotations: Record<string, string> }) => m.annotations['io.containerd.image.name'] === 'docker.io/library/busybox:latest'));
  });

  it('cleans up what a crash left: temp files, orphan blobs and layer dirs, records without layers', async () => {
    await fs.mkdir(join(root, 'tmp', 'layer-half', 'diff'), { recursive: true });
    await fs.writeFile(join(root, 'tmp', 'blob-half'), 'partial');
    const orphan = sha256('orphan blob');
    await fs.writeFile(join(root, 'blobs', 'sha256', orphan.slice(7)), 'orphan blob');
    await fs.mkdir(join(root, 'layers', 'f'.repeat(64), 'diff'), { recursive: true });
    await fs.writeFile(join(root, 'layers', 'f'.repeat(64), 'layer.json'), JSON.stringify({ diffId: `sha256:${'f'.repeat(64)}`, size: 0 }));
    // A record whose layer dir is gone (deleted mid-way): the image is dropped, not served broken.
    const ghostCfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'e'.repeat(64)}`] } }));
    await fs.writeFile(join(root, 'blobs', 'sha256', sha256(ghostCfg).slice(7)), ghostCfg);
    await fs.writeFile(join(root, 'imagedb', `${sha256(ghostCfg).slice(7)}.json`), JSON.stringify({ id: sha256(ghostCfg), manifest: { mediaType: 'x', digest: orphan, size: 1 }, layers: [], added: new Date().toISOString() }));
    const reopened = await ImageStore.open({ root, events: new EventBus() });
    assert.deepEqual(await fs.readdir(join(root, 'tmp')), []);
    assert.ok(!(await reopened.hasBlob(orphan)));
    assert.ok(!(await reopened.hasBlob(sha256(ghostCfg))));
    assert.ok(!(await fs.lstat(join(root, 'layers', 'f'.repeat(64))).catch(() => undefined)));
    assert.ok(!reopened.get(sha256(ghostCfg)));
    assert.equal(reopened.resolve('busybox').id, busyboxId, 'real images are untouched');
    assert.ok(await fs.stat(join(reopened.layerDirs('busybox')[0], 'bin/busybox')));
  });

  it('registers a pulled-style manifest (gzip layers, docker media types) and checks diffIDs', async () => {
    const tar = await busyboxRootfs();
    const gzFile = join(base, 'bb.tar.gz');
    await fs.writeFile(join(base, 'bb.tar'), tar);
    await run('sh', ['-c', `gzip -c ${join(base, 'bb.tar')} > ${gzFile}`]);
    const gz = await fs.readFile(gzFile);
    const layer = await store.addBlob(Readable.from([gz]), { digest: sha256(gz), size: gz.length });
    const good = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
    const bad = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256('x')] } }));
    const cfgGood = await store.addBlobBytes(good);
    const cfgBad = await store.addBlobBytes(bad);
    const manifest = (c: { digest: string; size: number }) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: c.digest, size: c.size }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer.digest, size: layer.size }] }));
    await assert.rejects(store.registerImage({ manifest: manifest(cfgBad), tags: ['localhost:5000/bb:bad'] }), /diffID/);
    const id = await store.registerImage({ manifest: manifest(cfgGood), tags: ['localhost:5000/bb:1'], repoDigests: [`localhost:5000/bb@${sha256(manifest(cfgGood))}`] });
    await store.releaseBlobs([layer.digest, cfgGood.digest, cfgBad.digest]);
    assert.equal(id, sha256(good));
    assert.ok(!(await store.hasBlob(cfgBad.digest)), 'the rejected config was collected');
    const ins = store.inspect('localhost:5000/bb:1');
    assert.deepEqual(ins.RepoTags, ['localhost:5000/bb:1']);
    assert.deepEqual(ins.RepoDigests, [`localhost:5000/bb@${sha256(manifest(cfgGood))}`]);
    assert.equal(store.resolve(`localhost:5000/bb@${sha256(manifest(cfgGood))}`).id, id);
    const m = await store.manifestOf('localhost:5000/bb:1');
    assert.equal(m.descriptor.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(m.layers[0].digest, sha256(gz));
    assert.equal(store.layerDirs(id)[0], store.layerDirs('busybox')[0], 'same diffID, same unpacked dir');
  });
});
