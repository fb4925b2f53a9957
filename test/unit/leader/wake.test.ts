import { strict as assert } from 'node:assert';
import { WakeTimers } from '../../../manager/leader';
import { ManualClock } from './manual-clock';

describe('leader/WakeTimers', () => {
  it('keeps one timer per key: a new time replaces the old, undefined cancels', () => {
    const clock = new ManualClock();
    const woke: string[] = [];
    const w = new WakeTimers<string>(clock, (k) => woke.push(k));
    const t0 = clock.now();
    w.set('svc1', t0 + 1000);
    w.set('svc1', t0 + 300);
    w.set('svc2', t0 + 500);
    w.set('svc3', t0 + 200);
    w.set('svc3', undefined);
    assert.equal(w.size, 2);
    assert.equal(clock.pending, 2, 'replaced and cancelled timers are gone');
    clock.advance(400);
    assert.deepEqual(woke, ['svc1']);
    clock.advance(1000);
    assert.deepEqual(woke, ['svc1', 'svc2']);
    assert.equal(w.size, 0);
  });

  it('a time already past wakes at once on the next tick; clear() cancels everything', () => {
    const clock = new ManualClock();
    const woke: string[] = [];
    const w = new WakeTimers<string>(clock, (k) => woke.push(k));
    w.set('a', clock.now() - 50);
    w.set('b', clock.now() + 50);
    clock.advance(0);
    assert.deepEqual(woke, ['a']);
    w.clear();
    clock.advance(100);
    assert.deepEqual(woke, ['a']);
  });
});
