import assert from 'node:assert/strict';
import { waterfill } from '../../../manager/scheduler/spread';
import { MinHeap } from '../../../manager/scheduler/heap';

describe('scheduler waterfill (sharing tasks among branches)', () => {
  const cases: Array<[number[], number, number[]]> = [
    [[0, 0, 0], 9, [3, 3, 3]],
    [[0, 0, 0], 4, [2, 1, 1]],
    [[3, 0, 0], 3, [0, 2, 1]],
    [[3, 0, 0], 6, [0, 3, 3]],
    [[3, 0, 0], 7, [1, 3, 3]],
    [[5, 0], 2, [0, 2]],
    [[5, 1, 2], 4, [0, 3, 1]],
    [[2, 2], 1, [1, 0]],
    [[0], 7, [7]],
    [[1, 2, 3], 0, [0, 0, 0]],
    [[], 3, []],
  ];
  for (const [have, n, want] of cases) {
    it(`${n} over ${JSON.stringify(have)} -> ${JSON.stringify(want)}`, () => {
      const got = waterfill(have, n);
      assert.deepEqual(got, want);
      if (have.length) assert.equal(got.reduce((a, b) => a + b, 0), n);
    });
  }
});

describe('scheduler min-heap', () => {
  it('pops in order after pushes and an initial heapify', () => {
    const xs = [9, 3, 7, 1, 8, 2, 2, 6, 0, 5];
    const h = new MinHeap<number>((a, b) => a < b, xs.slice(0, 5));
    for (const x of xs.slice(5)) h.push(x);
    const out: number[] = [];
    while (h.size) out.push(h.pop()!);
    assert.deepEqual(out, [...xs].sort((a, b) => a - b));
    assert.equal(h.pop(), undefined);
  });
});
