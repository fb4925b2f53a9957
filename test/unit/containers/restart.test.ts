import assert from 'node:assert/strict';
import { decideRestart, nextBackoff, restartOnDaemonStart, type ExitFacts } from '../../../worker/engine/containers/restart';

const facts = (over: Partial<ExitFacts>): ExitFacts => ({ policy: { Name: 'always', MaximumRetryCount: 0 }, exitCode: 1, restartCount: 0, stoppedByUser: false, ranForMs: 50, lastBackoffMs: 0, daemonShuttingDown: false, ...over });

describe('containers/restart policy decisions', () => {
  it('no never restarts', () => {
    assert.equal(decideRestart(facts({ policy: { Name: 'no', MaximumRetryCount: 0 } })).restart, false);
    assert.equal(decideRestart(facts({ policy: { Name: '', MaximumRetryCount: 0 } })).restart, false);
  });
  it('always and unless-stopped restart whatever the code, unless stopped by the user', () => {
    for (const Name of ['always', 'unless-stopped'] as const) {
      assert.equal(decideRestart(facts({ policy: { Name, MaximumRetryCount: 0 }, exitCode: 0 })).restart, true);
      assert.equal(decideRestart(facts({ policy: { Name, MaximumRetryCount: 0 }, stoppedByUser: true })).restart, false);
    }
    assert.equal(decideRestart(facts({ daemonShuttingDown: true })).restart, false);
  });
  it('on-failure restarts non-zero exits up to the maximum', () => {
    const p = { Name: 'on-failure' as const, MaximumRetryCount: 2 };
    assert.equal(decideRestart(facts({ policy: p, exitCode: 0 })).restart, false);
    assert.equal(decideRestart(facts({ policy: p, restartCount: 1 })).restart, true);
    assert.equal(decideRestart(facts({ policy: p, restartCount: 2 })).restart, false);
    assert.equal(decideRestart(facts({ policy: { Name: 'on-failure', MaximumRetryCount: 0 }, restartCount: 99 })).restart, true, '0 = unlimited');
  });
  it('backs off from 100 ms, doubling, capped at a minute, reset after 10 s of running', () => {
    assert.equal(nextBackoff(0, 10), 100);
    assert.equal(nextBackoff(100, 10), 200);
    assert.equal(nextBackoff(400, 9_999), 800);
    assert.equal(nextBackoff(800, 10_000), 100);
    assert.equal(nextBackoff(40_000, 10), 60_000);
    const d = decideRestart(facts({ lastBackoffMs: 200 }));
    assert.deepEqual(d, { restart: true, delayMs: 400 });
  });
  it('on daemon start: always comes back even if stopped by the user; unless-stopped only if not', () => {
    assert.equal(restartOnDaemonStart({ Name: 'always', MaximumRetryCount: 0 }, true, true), true);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, true, true), false);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, false, true), true);
    assert.equal(restartOnDaemonStart({ Name: 'on-failure', MaximumRetryCount: 0 }, false, true), false);
    assert.equal(restartOnDaemonStart({ Name: 'always', MaximumRetryCount: 0 }, false, false), false, 'never started: stays created');
  });
});
