import assert from 'node:assert/strict';
import { EtcdStore, versionOf, type StoredObject } from '../../../manager/store';
import { createEtcdClient } from '../../../manager/etcd';
import { isShoalError } from '../../../shared/errors';
import { killAndAwaitRestart, startTcpProxy, startTestEtcd, type TcpProxy, type TestEtcd } from '../../helpers/etcd';
import { freePort } from '../../helpers/registry';
import { rejects, storeConformance, svc, task } from './conformance';

// The store talks to etcd through a proxy the harness can cut; a second store talks directly.
storeConformance('etcd', async () => {
  const etcd = await startTestEtcd();
  const proxy = await startTcpProxy(Number(new URL(etcd.clientUrl).port));
  const store = EtcdStore.connect([proxy.url]);
  const direct = EtcdStore.connect(etcd.endpoints);
  return {
    store,
    async interrupt(during) {
      proxy.cut();
      try {
        await during(direct);
      } finally {
        proxy.restore();
      }
    },
    async compact() {
      const c = etcd.client();
      const { header } = await c.kv.range({ key: Buffer.from('/') });
      await c.kv.compact({ revision: header.revision, physical: true });
    },
    async restart() {
      await killAndAwaitRestart(etcd.member.supervisor);
    },
    async teardown() {
      await store.close();
      await direct.close();
      await proxy.close();
      await etcd.destroy();
    },
  };
});

describe('EtcdStore on a real etcd', function () {
  this.timeout(60_000);
  let etcd: TestEtcd;
  let store: EtcdStore;

  before(async () => {
    etcd = await startTestEtcd();
    store = EtcdStore.connect(etcd.endpoints);
  });
  after(async () => {
    await store?.close();
    await etcd?.destroy();
  });

  it('keeps objects at /shoal/v1/<kind>/<id>, without Version, which is the key mod revision', async () => {
    const made = await store.create<StoredObject & { Spec: { Name: string } }>('services', svc('layout'));
    const c = etcd.client();
    const res = await c.kv.range({ key: Buffer.from(`/shoal/v1/services/${made.ID}`) });
    assert.equal(res.kvs.length, 1);
    assert.equal(Number(res.kvs[0].mod_revision), versionOf(made));
    const stored = JSON.parse(res.kvs[0].value.toString());
    assert.equal(stored.Version, undefined);
    assert.equal(stored.ID, made.ID);
    const idx = await c.kv.range({ key: Buffer.from('/shoal/v1/_names/services/layout') });
    assert.equal(idx.kvs[0]?.value.toString(), made.ID);
  });

  it('splits a non-atomic batch into transactions under the op limit, and refuses an atomic one that does not fit', async () => {
    const small = new EtcdStore(etcd.client(), { maxTxnOps: 128 });
    const ts = Array.from({ length: 500 }, () => task('chunked'));
    const ops = ts.map((t) => ({ op: 'create' as const, kind: 'tasks' as const, object: t }));
    await rejects(small.batch(ops), 'INVALID_ARGUMENT', /does not fit one transaction/);
    const res = await small.batch(ops, { atomic: false });
    assert.ok(res.every((r) => r.ok));
    const revs = new Set(res.map((r) => (r.ok ? r.revision : 0)));
    assert.equal(revs.size, Math.ceil(500 / 128), 'one revision per transaction');
    const listed = await small.list('tasks');
    for (const t of ts) assert.ok(listed.items.some((o) => o.ID === t.ID));
  });

  it('lists across pages at one revision', async () => {
    const paged = new EtcdStore(etcd.client(), { pageSize: 7 });
    const ts = Array.from({ length: 30 }, () => task('paged'));
    await paged.batch(ts.map((t) => ({ op: 'create' as const, kind: 'nodes' as const, object: t })));
    const { items } = await paged.list('nodes');
    assert.equal(items.length, 30);
    assert.deepEqual(
      items.map((o) => o.ID),
      ts.map((t) => t.ID).sort(),
    );
  });

  it('answers UNAVAILABLE within its deadline when etcd cannot be reached', async () => {
    const port = await freePort();
    const dead = new EtcdStore(createEtcdClient([`http://127.0.0.1:${port}`], { callTimeoutMs: 500 }), { callTimeoutMs: 500 }, true);
    try {
      await rejects(dead.get('tasks', 'x1'), 'UNAVAILABLE', /cluster store is unavailable/);
      await rejects(dead.create('tasks', task()), 'UNAVAILABLE');
    } finally {
      await dead.close();
    }
  });

  it('refuses work once closed', async () => {
    const s = new EtcdStore(etcd.client());
    await s.close();
    await rejects(s.get('tasks', 'x1'), 'FAILED_PRECONDITION', /closed/);
  });

  it('a watch over a cut connection resumes, and then sees later writes', async () => {
    let proxy: TcpProxy | undefined;
    const ctl = new AbortController();
    try {
      proxy = await startTcpProxy(Number(new URL(etcd.clientUrl).port));
      const viaProxy = EtcdStore.connect([proxy.url]);
      const w = await viaProxy.watch(['configs'], ctl.signal);
      const it = w.events[Symbol.asyncIterator]();
      proxy.cut();
      const during = await store.create('configs', { ID: 'cfg1', Spec: { Name: 'cfg1' } });
      proxy.restore();
      const ev = await it.next();
      assert.equal(ev.done, false);
      assert.equal(ev.value.id, 'cfg1');
      assert.equal(ev.value.revision, versionOf(during));
      await viaProxy.close();
    } finally {
      ctl.abort();
      await proxy?.close();
    }
  });

  it('translates errors once: a batch bigger than etcd accepts is INVALID_ARGUMENT, not a gRPC error', async () => {
    // the store believes in a larger limit than the member enforces (2048)
    const wrong = new EtcdStore(etcd.client(), { maxTxnOps: 10_000 });
    const ops = Array.from({ length: 3000 }, () => ({ op: 'create' as const, kind: 'tasks' as const, object: task('big') }));
    try {
      await wrong.batch(ops);
      assert.fail('etcd accepted a transaction over its --max-txn-ops');
    } catch (e) {
      assert.ok(isShoalError(e, 'INVALID_ARGUMENT'), String(e));
      assert.match((e as Error).message, /too many operations/);
    }
  });
});
