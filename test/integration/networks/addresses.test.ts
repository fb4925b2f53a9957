import assert from 'node:assert/strict';
import { EtcdStore } from '../../../manager/store';
import { createNetwork } from '../../../manager/networks/objects';
import { releaseAddresses, reserveAddresses, storePools, wantKey } from '../../../manager/networks/addresses';
import type { AddressPool } from '../../../manager/networks/ipam';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';

describe('cluster addresses in real etcd: concurrent allocators never hand out one address twice', function () {
  this.timeout(60_000);
  let etcd: TestEtcd;
  let stores: EtcdStore[];

  before(async () => {
    etcd = await startTestEtcd();
    // Separate clients, as two managers (an old leader and a new one) would have.
    stores = [EtcdStore.connect(etcd.endpoints), EtcdStore.connect(etcd.endpoints), EtcdStore.connect(etcd.endpoints)];
  });
  after(async () => {
    for (const s of stores ?? []) await s.close();
    await etcd?.destroy();
  });

  it('three allocators racing over one /24 get disjoint addresses, all recorded in the pool', async () => {
    let n = 0;
    const net = await createNetwork({ store: stores[0], newId: () => `racenet${++n}`, now: () => new Date(), hostRoutes: async () => [] }, { Name: 'race', DriverConfiguration: { Name: 'overlay' }, Scope: 'swarm' });
    // Rounds of small batches each, as allocator loops commit them, all at once.
    const run = async (who: number) => {
      const mine = new Map<string, string>();
      for (let round = 0; round < 8; round++) {
        const wants = Array.from({ length: 10 }, (_, i) => ({ owner: `task:a${who}r${round}i${i}`, networkId: net.ID }));
        const got = await reserveAddresses(stores[who], wants);
        assert.equal(got.failed.size, 0, [...got.failed.values()].join('; '));
        for (const w of wants) mine.set(w.owner, got.addresses.get(wantKey(w.owner, w.networkId))!);
      }
      return mine;
    };
    const results = await Promise.all([run(0), run(1), run(2)]);
    const all = results.flatMap((m) => [...m.values()]);
    assert.equal(all.length, 240);
    assert.equal(new Set(all).size, 240, 'every address handed out once');
    const pool = (await stores[0].get<AddressPool>('ipam', net.ID))!;
    for (const m of results) for (const [owner, addr] of m) assert.equal(pool.Allocations.allocated[addr.split('/')[0]], owner);

    // Asking again gives the same address; giving back frees it for another owner.
    const again = await reserveAddresses(stores[1], [{ owner: 'task:a0r0i0', networkId: net.ID }]);
    assert.equal(again.addresses.get(wantKey('task:a0r0i0', net.ID)), results[0].get('task:a0r0i0'));
    const owners = new Map([['*', new Set([...results[0].keys()])]]);
    await releaseAddresses(stores[2], owners, storePools(stores[2]), () => [net.ID]);
    const after = (await stores[0].get<AddressPool>('ipam', net.ID))!;
    assert.equal(Object.keys(after.Allocations.allocated).length, 160);
    assert.ok(Object.values(after.Allocations.allocated).every((o) => !o.startsWith('task:a0')));
  });
});
