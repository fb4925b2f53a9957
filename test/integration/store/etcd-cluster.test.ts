import assert from 'node:assert/strict';
import { addMember, listMembers, removeMember } from '../../../manager/etcd';
import { EtcdStore } from '../../../manager/store';
import { isShoalError } from '../../../shared/errors';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';
import { freePort } from '../../helpers/registry';
import { retryUnavailable, task } from './conformance';

// How `swarm join` as a manager grows the etcd cluster: add the member through the cluster API,
// then start it with the initial cluster the add returned and state 'existing'.
describe('a two-member etcd cluster grown with member add', function () {
  this.timeout(90_000);
  let m1: TestEtcd;
  let m2: TestEtcd | undefined;
  const stores: EtcdStore[] = [];

  before(async () => {
    m1 = await startTestEtcd({ name: 'm1' });
  });
  after(async () => {
    for (const s of stores) await s.close();
    await m2?.destroy();
    await m1?.destroy();
  });

  it('adds a second member, which then serves the same data', async () => {
    const c1 = m1.client();
    const s1 = EtcdStore.connect(m1.endpoints);
    stores.push(s1);
    const before = await s1.create('tasks', task('pre-join'));

    const peerPort = await freePort();
    const added = await addMember(c1, 'm2', `http://127.0.0.1:${peerPort}`);
    assert.deepEqual(added.initialCluster, { m1: m1.peerUrl, m2: `http://127.0.0.1:${peerPort}` });

    // a second add before the first member started is refused with a reason
    await assert.rejects(addMember(c1, 'm3', `http://127.0.0.1:${await freePort()}`), (e) => isShoalError(e, 'FAILED_PRECONDITION') && /has not started/.test((e as Error).message));

    m2 = await startTestEtcd({ name: 'm2', peerPort, initialCluster: added.initialCluster, initialClusterState: 'existing' });
    const members = await retryUnavailable(() => listMembers(c1));
    assert.deepEqual(members.map((m) => m.name).sort(), ['m1', 'm2']);
    assert.ok(members.every((m) => m.clientUrls.length === 1));

    const s2 = EtcdStore.connect(m2.endpoints);
    stores.push(s2);
    assert.deepEqual(await retryUnavailable(() => s2.get('tasks', before.ID)), before);
    const written = await retryUnavailable(() => s2.create('tasks', task('via-m2')));
    assert.deepEqual(await s1.get('tasks', written.ID), written);
    const st = await m2.member.status();
    assert.equal(st.leaderId, (await m1.member.status()).leaderId, 'both members follow one leader');
  });

  it('removes the member again', async () => {
    assert.ok(m2, 'the previous test started m2');
    const c1 = m1.client();
    const id = (await listMembers(c1)).find((m) => m.name === 'm2')?.id as string;
    await removeMember(c1, id);
    assert.deepEqual(
      (await listMembers(c1)).map((m) => m.name),
      ['m1'],
    );
    await assert.rejects(removeMember(c1, id), (e) => isShoalError(e, 'NOT_FOUND'));
    // m1 alone is a quorum again
    const s1 = EtcdStore.connect(m1.endpoints);
    stores.push(s1);
    const t = await retryUnavailable(() => s1.create('tasks', task('after-remove')));
    assert.deepEqual(await s1.get('tasks', t.ID), t);
  });
});
