import assert from 'node:assert/strict';
import { HEARTBEAT_GRACE_MULTIPLIER, HeartbeatTracker, heartbeatGraceMs, heartbeatPeriodMs } from '../../../manager/dispatcher';
import { FakeClock } from './fixtures';

describe('dispatcher: heartbeat expiry bookkeeping', () => {
  it('a node that keeps beating never expires; one that stops expires after the grace', () => {
    const clock = new FakeClock();
    const hb = new HeartbeatTracker(clock.now);
    hb.beat('a', 1500);
    hb.beat('b', 1500);
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      hb.beat('a', 1500);
      assert.deepEqual(hb.expire(), i < 2 ? [] : i === 2 ? ['b'] : []);
    }
    assert.equal(hb.has('a'), true);
    assert.equal(hb.has('b'), false, 'an expired node is no longer watched (it is reported once)');
  });

  it('expires exactly at the deadline, oldest first, and says when the next one is due', () => {
    const clock = new FakeClock(0);
    const hb = new HeartbeatTracker(clock.now);
    hb.beat('late', 100);
    clock.advance(10);
    hb.beat('later', 100);
    hb.beat('latest', 500);
    assert.equal(hb.nextDeadline(), 100);
    clock.advance(89);
    assert.deepEqual(hb.expire(), []);
    clock.advance(11);
    assert.deepEqual(hb.expire(), ['late', 'later']);
    assert.equal(hb.nextDeadline(), 510);
    hb.remove('latest');
    assert.equal(hb.nextDeadline(), undefined);
    assert.equal(hb.size, 0);
  });

  it('a fresh start gives every node a whole grace period whatever happened before', () => {
    const clock = new FakeClock();
    const before = new HeartbeatTracker(clock.now);
    before.beat('n', 1500);
    clock.advance(1400);
    const after = new HeartbeatTracker(clock.now); // a new leader
    after.beat('n', 1500);
    clock.advance(200);
    assert.deepEqual(before.expire(), ['n']);
    assert.deepEqual(after.expire(), []);
  });

  it('the period comes from the cluster spec (nanoseconds) with a short default; the grace is a multiple', () => {
    assert.equal(heartbeatPeriodMs(undefined), 500);
    assert.equal(heartbeatPeriodMs({ Spec: {} }), 500);
    assert.equal(heartbeatPeriodMs({ Spec: { Dispatcher: null } }, 700), 700);
    assert.equal(heartbeatPeriodMs({ Spec: { Dispatcher: { HeartbeatPeriod: 5_000_000_000 } } }), 5000);
    assert.equal(heartbeatPeriodMs({ Spec: { Dispatcher: { HeartbeatPeriod: 0 } } }), 500);
    assert.equal(heartbeatGraceMs(500), 500 * HEARTBEAT_GRACE_MULTIPLIER);
    assert.ok(heartbeatGraceMs(heartbeatPeriodMs(undefined)) <= 3000, 'the default keeps a dead node\'s detection within the failover target');
  });

  it('a dropped session brings the deadline forward, never back', () => {
    let now = 1000;
    const t = new HeartbeatTracker(() => now);
    t.beat('n', 1500);
    assert.equal(t.shorten('n', 1000), 2000, 'within the reconnect grace');
    assert.equal(t.shorten('n', 5000), 2000, 'a longer grace does not push it back');
    assert.equal(t.shorten('gone', 1000), undefined, 'a node not watched stays unwatched');
    assert.equal(t.has('gone'), false);
    now = 1999;
    assert.deepEqual(t.expire(), []);
    now = 2000;
    assert.deepEqual(t.expire(), ['n']);
    t.beat('n', 1500);
    assert.equal(t.nextDeadline(), 3500, 'a new session gives the whole grace again');
  });
});
