import assert from 'node:assert/strict';
import { AsyncQueue } from '../../../shared/queue';

describe('AsyncQueue (registry progress, store watches)', () => {
  it('delivers items pushed before and after the reader starts, then ends', async () => {
    const ch = new AsyncQueue<number>();
    ch.push(1);
    setTimeout(() => {
      ch.push(2);
      ch.end();
      ch.push(3); // after close: dropped
    }, 5);
    const got: number[] = [];
    for await (const x of ch) got.push(x);
    assert.deepEqual(got, [1, 2]);
  });

  it('throws the close error after draining', async () => {
    const ch = new AsyncQueue<number>();
    ch.push(1);
    ch.end(new Error('boom'));
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const x of ch) got.push(x);
      })(),
      /boom/,
    );
    assert.deepEqual(got, [1]);
  });
});
