import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ApiServer, Router } from '../../../shared/api';
import { EngineClient, ApiError } from '../../../shared/client';
import { EventBus } from '../../../shared/events';
import { logger, silenceLogging } from '../../../shared/log';
import { run } from '../../../shared/exec';
import { VolumeStore, ANONYMOUS_LABEL, type VolumeJson } from '../../../worker/engine/volumes';
import { registerVolumeRoutes } from '../../../worker/api/volumes';

function status(code: number, re?: RegExp) {
  return (e: unknown) => e instanceof ApiError && e.status === code && (!re || re.test(e.message));
}

describe('volumes (store + API over a unix socket)', () => {
  let base: string;
  let events: EventBus;
  let store: VolumeStore;
  let server: ApiServer;
  let client: EngineClient;
  const root = () => join(base, 'volumes');

  before(async () => {
    silenceLogging();
    base = await fs.mkdtemp(join(tmpdir(), 'shoal-vol-'));
    events = new EventBus();
    store = await VolumeStore.open({ root: root(), events });
    const router = new Router();
    registerVolumeRoutes(router, { volumes: store });
    server = new ApiServer(router, logger('test'));
    const sock = join(base, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    client = new EngineClient(`unix://${sock}`);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await run('umount', [join(root(), 'tmpv', '_data')], { okCodes: [0, 32] }).catch(() => undefined);
    await fs.rm(base, { recursive: true, force: true });
  });

  it('creates, inspects and lists a named volume with its directory', async () => {
    const v = await client.post<VolumeJson>('/volumes/create', { body: { Name: 'data1', Labels: { app: 'web' } } });
    assert.equal(v.Name, 'data1');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, join(root(), 'data1', '_data'));
    assert.deepEqual(v.Labels, { app: 'web' });
    assert.equal(v.Options, null);
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok((await fs.stat(v.Mountpoint)).isDirectory());
    assert.deepEqual(await client.get('/volumes/data1'), v);
    const again = await client.post<VolumeJson>('/volumes/create', { body: { Name: 'data1' } });
    assert.deepEqual(again, v, 'creating an existing name returns it');
    const list = await client.get<{ Volumes: VolumeJson[]; Warnings: string[] }>('/volumes');
    assert.deepEqual(list.Volumes.map((x) => x.Name), ['data1']);
    assert.deepEqual(list.Warnings, []);
    assert.ok(events.history(0).some((e) => e.Type === 'volume' && e.Action === 'create' && e.Actor.ID === 'data1' && e.Actor.Attributes.driver === 'local'));
  });

  it('rejects bad input with 400 and makes nothing', async () => {
    await assert.rejects(client.post('/volumes/create', { body: { Name: 'a/b' } }), status(400, /invalid characters/));
    await assert.rejects(client.post('/volumes/create', { body: { Name: 'zz', Driver: 'nfs-plugin' } }), status(400, /not supported/));
    await assert.rejects(client.post('/volumes/create', { body: { Name: 'zz', DriverOpts: { bogus: '1' } } }), status(400, /invalid option/));
    await assert.rejects(client.get('/volumes', { query: { filters: JSON.stringify({ colour: ['x'] }) } }), status(400, /invalid filter/));
    await assert.rejects(client.get('/volumes/zz'), status(404, /no such volume/));
    assert.deepEqual(await fs.readdir(root()), ['data1']);
  });

  it('creates anonymous volumes with a 64-hex name and the anonymous label', async () => {
    const v = await client.post<VolumeJson>('/volumes/create', { body: {} });
    assert.match(v.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual(v.Labels, { [ANONYMOUS_LABEL]: '' });
    const a = await store.acquire(undefined, 'c1');
    assert.match(a.name, /^[0-9a-f]{64}$/);
    assert.equal(a.path, join(root(), a.name, '_data'));
    assert.deepEqual(store.inspect(a.name).Labels, { [ANONYMOUS_LABEL]: '' });
    // Released with removeAnonymous, it goes.
    await store.release('c1', [a.name], true);
    await assert.rejects(client.get(`/volumes/${a.name}`), status(404));
    await client.delete(`/volumes/${v.Name}`);
  });

  it('filters by dangling, name, label and driver', async () => {
    await client.post('/volumes/create', { body: { Name: 'data2', Labels: { app: 'db', tier: 'x' } } });
    await store.acquire('data2', 'c2');
    const names = async (filters: Record<string, string[]>) => (await client.get<{ Volumes: VolumeJson[] }>('/volumes', { query: { filters: JSON.stringify(filters) } })).Volumes.map((v) => v.Name).sort();
    assert.deepEqual(await names({ dangling: ['true'] }), ['data1']);
    assert.deepEqual(await names({ dangling: ['false'] }), ['data2']);
    assert.deepEqual(await names({ name: ['ta2'] }), ['data2']);
    assert.deepEqual(await names({ label: ['app'] }), ['data1', 'data2']);
    assert.deepEqual(await names({ label: ['app=db', 'tier=x'] }), ['data2']);
    assert.deepEqual(await names({ driver: ['local'] }), ['data1', 'data2']);
    assert.deepEqual(await names({ driver: ['other'] }), []);
  });

  it('refuses to remove a volume in use (409 naming the containers), even with force', async () => {
    await store.acquire('data2', 'c3');
    await assert.rejects(client.delete('/volumes/data2'), status(409, /remove data2: volume is in use - \[c2, c3\]/));
    await assert.rejects(client.delete('/volumes/data2', { query: { force: 1 } }), status(409));
    await store.release('c2', ['data2'], true);
    await store.release('c3', ['data2'], true);
    assert.ok(store.inspect('data2'), 'named volumes survive removeAnonymous');
    await client.delete('/volumes/data2');
    await assert.rejects(client.delete('/volumes/data2'), status(404));
    await client.delete('/volumes/data2', { query: { force: 1 } });
    assert.ok(events.history(0).some((e) => e.Action === 'destroy' && e.Actor.ID === 'data2'));
  });

  it('prunes unused anonymous volumes, or all unused ones with all=true, and reports space', async () => {
    const anon = await store.acquire(undefined, 'c4');
    const idle = await client.post<VolumeJson>('/volumes/create', { body: {} });
    await fs.writeFile(join(idle.Mountpoint, 'f'), Buffer.alloc(1000));
    await client.post('/volumes/create', { body: { Name: 'keepme', Labels: { keep: '1' } } });
    const r = await client.post<{ VolumesDeleted: string[]; SpaceReclaimed: number }>('/volumes/prune');
    assert.deepEqual(r, { VolumesDeleted: [idle.Name], SpaceReclaimed: 1000 });
    const r2 = await client.post<{ VolumesDeleted: string[] }>('/volumes/prune', { query: { filters: JSON.stringify({ all: ['true'], 'label!': ['keep'] }) } });
    assert.deepEqual(r2.VolumesDeleted, ['data1']);
    const left = (await client.get<{ Volumes: VolumeJson[] }>('/volumes')).Volumes.map((v) => v.Name).sort();
    assert.deepEqual(left, [anon.name, 'keepme'].sort());
    await store.release('c4', [anon.name], true);
    await client.delete('/volumes/keepme');
  });

  it('keeps state across a reopen, and adopts a bare directory', async () => {
    await store.acquire('persist', 'c5');
    await fs.mkdir(join(root(), 'handmade', '_data'), { recursive: true });
    const again = await VolumeStore.open({ root: root(), events });
    assert.equal(again.inspect('handmade').Name, 'handmade');
    await assert.rejects(again.remove('persist'), /in use - \[c5\]/);
    await again.release('c5', ['persist'], false);
    await again.remove('persist');
    await again.remove('handmade');
    store = again;
  });

  it('copies image content into a fresh volume once', async () => {
    const src = join(base, 'img');
    await fs.mkdir(join(src, 'sub'), { recursive: true });
    await fs.writeFile(join(src, 'sub', 'x.txt'), 'from image');
    const v = await store.acquire('cu', 'c6');
    assert.equal(await store.populate('cu', src), true);
    assert.equal(await fs.readFile(join(v.path, 'sub', 'x.txt'), 'utf8'), 'from image');
    await fs.rm(join(v.path, 'sub'), { recursive: true });
    assert.equal(await store.populate('cu', src), false, 'never twice');
    await store.release('c6', ['cu'], false);
    await store.remove('cu');
  });

  it('mounts local driver options (tmpfs) while in use', async () => {
    await store.create({ Name: 'tmpv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
    const v = await store.acquire('tmpv', 'c7');
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(mounts.split('\n').some((l) => l.split(' ')[4] === v.path && l.includes(' - tmpfs ')));
    await store.release('c7', ['tmpv'], false);
    assert.ok(!(await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === v.path));
    await store.remove('tmpv');
  });
});
