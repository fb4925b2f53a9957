import assert from 'node:assert/strict';
import { DetachScanner, parseDetachKeys } from '../../../worker/engine/containers/detach';

describe('containers/detach keys', () => {
  it('parses docker --detach-keys specs', () => {
    assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
    assert.deepEqual(parseDetachKeys(''), [16, 17]);
    assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 120]);
    assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-[,ctrl-_'), [0, 27, 31]);
    assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys/);
    assert.throws(() => parseDetachKeys('abc'), /Invalid detach keys/);
  });

  it('passes other input through, holds a partial sequence, detaches on the whole one', () => {
    const s = new DetachScanner([16, 17]);
    assert.deepEqual(s.push(Buffer.from('ab')), { pass: Buffer.from('ab'), detached: false });
    assert.deepEqual(s.push(Buffer.from([99, 16])), { pass: Buffer.from([99]), detached: false });
    assert.deepEqual(s.push(Buffer.from([100])), { pass: Buffer.from([16, 100]), detached: false }, 'a false start is released');
    assert.deepEqual(s.push(Buffer.from([16, 16, 17])), { pass: Buffer.from([16]), detached: true });
    const t = new DetachScanner([16, 17]);
    assert.equal(t.push(Buffer.from([16])).detached, false);
    assert.deepEqual(t.push(Buffer.from([17, 65])), { pass: Buffer.alloc(0), detached: true });
  });
});
