import { strict as assert } from 'node:assert';
import { hasQuorum, noLeaderMessage, planRaft, quorumOf, removalRefusal, managerPeersOf, type MemberHealth, type RaftView } from '../../../manager/raft';

const member = (name: string, reachable = true, extra: Partial<MemberHealth> = {}): MemberHealth => ({ id: `id-${name || 'new'}`, name, learner: false, reachable, peerUrls: [`http://10.0.0.${name.length + 10}:2380`], ...extra });
const view = (members: MemberHealth[], leader = ''): RaftView => ({ members, leader });

describe('raft quorum', () => {
  it('needs a strict majority of voters', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 7].map(quorumOf), [1, 2, 2, 3, 3, 4]);
    assert.equal(hasQuorum(view([member('a'), member('b'), member('c', false)])), true);
    assert.equal(hasQuorum(view([member('a'), member('b', false), member('c', false)])), false);
    // learners do not vote, so they neither help nor hurt
    assert.equal(hasQuorum(view([member('a'), member('b', false), member('l', true, { learner: true })])), false);
    assert.equal(hasQuorum(view([])), false);
  });

  it('says how many managers are reachable when there is no leader', () => {
    const msg = noLeaderMessage(view([member('a'), member('b', false), member('c', false)]));
    assert.match(msg, /^The swarm does not have a leader\./);
    assert.match(msg, /\(1 of 3 managers reachable, 2 needed\)/);
  });

  it('refuses a removal that would lose quorum, and the last manager', () => {
    const three = view([member('a'), member('b'), member('c', false)]);
    // removing b leaves a (up) and c (down): 1 of 2 reachable, 2 needed
    assert.match(removalRefusal(three, 'b', 'demote node b') ?? '', /can't demote node b: this would result in a loss of quorum \(1 of the 2 remaining managers reachable, 2 needed\)/);
    // removing the unreachable one leaves a and b, both up
    assert.equal(removalRefusal(three, 'c', 'demote node c'), undefined);
    assert.match(removalRefusal(view([member('a')]), 'a', 'leave') ?? '', /last manager/);
    // a learner or a stranger may always go
    assert.equal(removalRefusal(view([member('a'), member('l', false, { learner: true })]), 'l', 'x'), undefined);
    assert.equal(removalRefusal(three, 'zz', 'x'), undefined);
  });
});

describe('raft plan', () => {
  const managers = new Set(['a', 'b', 'c']);

  it('promotes reachable learners of manager nodes only', () => {
    const v = view([member('a'), member('b', true, { learner: true }), member('c', false, { learner: true })]);
    assert.deepEqual(planRaft(v, managers, new Map(), 0, 1000).actions, [{ kind: 'promote', id: 'id-b', name: 'b' }]);
  });

  it('removes members of demoted or removed nodes while quorum allows, one at a time', () => {
    const v = view([member('a'), member('b'), member('c'), member('d'), member('e', false)]);
    const plan = planRaft(v, new Set(['a', 'b']), new Map(), 0, 1000);
    // c and d go (a, b, e left: 2 of 3 up); e would leave a and b: still fine
    assert.deepEqual(
      plan.actions.map((a) => a.kind + ':' + a.name),
      ['remove:c', 'remove:d', 'remove:e'],
    );
    const tight = view([member('a'), member('b', false), member('c')]);
    const held = planRaft(tight, new Set(['a', 'b']), new Map(), 0, 1000);
    assert.deepEqual(held.actions, []);
    assert.match(held.held[0], /loss of quorum/);
  });

  it('drops a member added for a join that never started, after the stale period', () => {
    const v = view([member('a'), member('', false)]);
    const since = new Map([['id-new', 1000]]);
    assert.deepEqual(planRaft(v, managers, since, 1500, 1000).actions, []);
    assert.deepEqual(planRaft(v, managers, since, 2000, 1000).actions.map((a) => a.kind + ':' + a.id), ['remove:id-new']);
  });
});

describe('manager endpoints from the raft group', () => {
  it('derives gRPC, NATS client and route addresses from peer URLs, the leader first', () => {
    const v = view(
      [
        { id: '1', name: 'a', learner: false, reachable: true, peerUrls: ['http://10.0.0.1:2380'] },
        { id: '2', name: 'b', learner: false, reachable: true, peerUrls: ['http://10.0.0.2:5003'] },
        { id: '3', name: 'c', learner: false, reachable: false, peerUrls: ['http://10.0.0.3:2380'] },
        { id: '4', name: 'd', learner: true, reachable: true, peerUrls: ['http://10.0.0.4:2380'] },
      ],
      'b',
    );
    assert.deepEqual(managerPeersOf(v), [
      { nodeId: 'b', leader: true, grpc: '10.0.0.2:5000', natsUrl: 'nats://10.0.0.2:5004', natsRoute: '10.0.0.2:5005' },
      { nodeId: 'a', leader: false, grpc: '10.0.0.1:2377', natsUrl: 'nats://10.0.0.1:2381', natsRoute: '10.0.0.1:2382' },
    ]);
    assert.deepEqual(managerPeersOf(v, { reachableOnly: false }).map((p) => p.nodeId), ['b', 'a', 'c']);
  });
});
