import { strict as assert } from 'node:assert';
import { DirtyQueue } from '../../../manager/leader';
import { ManualClock, flush } from './manual-clock';

describe('leader/DirtyQueue', () => {
  function setup(run: (keys: string[]) => Promise<void>, windowMs = 5) {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const q = new DirtyQueue<string>({ clock, windowMs, backoffMs: 100, maxBackoffMs: 400, run, onError: (e) => errors.push(e) });
    return { clock, q, errors };
  }

  it('hands the keys marked within one window to a single run, each once, in first-marked order', async () => {
    const runs: string[][] = [];
    const { clock, q } = setup(async (keys) => void runs.push(keys));
    q.mark('b');
    q.mark('a');
    clock.advance(3);
    q.mark('b');
    q.markAll(['c', 'a']);
    assert.equal(runs.length, 0, 'nothing runs before the window closes');
    clock.advance(2);
    await flush();
    assert.deepEqual(runs, [['b', 'a', 'c']]);
    assert.equal(q.size, 0);
  });

  it('does not start a second run while one is under way; keys marked meanwhile go to the next', async () => {
    const runs: string[][] = [];
    let release!: () => void;
    const { clock, q } = setup(async (keys) => {
      runs.push(keys);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
    });
    q.mark('a');
    clock.advance(5);
    await flush();
    q.mark('b');
    q.mark('a');
    clock.advance(50);
    await flush();
    assert.deepEqual(runs, [['a']], 'second run waits for the first');
    release();
    await flush();
    clock.advance(5);
    await flush();
    assert.deepEqual(runs, [['a'], ['b', 'a']]);
  });

  it('puts the keys of a failed run back and retries after a doubling back-off', async () => {
    let calls = 0;
    const { clock, q, errors } = setup(async () => {
      calls++;
      if (calls <= 3) throw new Error(`boom ${calls}`);
    });
    q.mark('x');
    clock.advance(5);
    await flush();
    assert.equal(calls, 1);
    assert.ok(q.has('x'), 'key is dirty again after the failure');
    // [ms to advance, calls expected after]: retries after 100, 200, then 400 ms.
    for (const [ms, expected] of [[99, 1], [1, 2], [199, 2], [1, 3], [399, 3], [1, 4]]) {
      clock.advance(ms);
      await flush();
      assert.equal(calls, expected, `after ${ms} more ms`);
    }
    assert.equal(errors.length, 3);
    assert.equal(q.size, 0);
    await q.idle();
  });

  it('idle() resolves once nothing is dirty or running; stop() drops what is dirty', async () => {
    const runs: string[][] = [];
    const { clock, q } = setup(async (keys) => void runs.push(keys));
    let idle = false;
    q.mark('a');
    const p = q.idle().then(() => (idle = true));
    await flush();
    assert.equal(idle, false);
    clock.advance(5);
    await flush();
    await p;
    assert.equal(idle, true);
    q.mark('b');
    await q.stop();
    clock.advance(100);
    q.mark('c');
    await flush();
    assert.deepEqual(runs, [['a']]);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });
});
