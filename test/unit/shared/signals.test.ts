import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { withDeadline } from '../../../shared/signals';

describe('withDeadline', () => {
  it('aborts with a TimeoutError when the time is up', async () => {
    const d = withDeadline(10);
    await new Promise((r) => d.signal.addEventListener('abort', r));
    assert.equal((d.signal.reason as DOMException).name, 'TimeoutError');
  });

  it("aborts with a parent's reason, and at once for a parent already aborted", () => {
    const parent = new AbortController();
    const d = withDeadline(60_000, undefined, parent.signal);
    parent.abort('gone');
    assert.equal(d.signal.aborted, true);
    assert.equal(d.signal.reason, 'gone');
    const again = withDeadline(60_000, parent.signal);
    assert.equal(again.signal.reason, 'gone');
  });

  it('clear() drops the timer: the signal never aborts', async () => {
    const d = withDeadline(5);
    d.clear();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(d.signal.aborted, false);
  });

  it('still fires after a garbage collection, with nothing else holding the signal (AbortSignal.any of a timeout does not)', () => {
    // In a child with --expose-gc: collect right after creating each signal, then see which fired.
    const script = `
      const { withDeadline } = require(${JSON.stringify(require.resolve('../../../shared/signals'))});
      const fired = { ours: false, any: false };
      withDeadline(20).signal.addEventListener('abort', () => (fired.ours = true));
      AbortSignal.any([AbortSignal.timeout(20)]).addEventListener('abort', () => (fired.any = true));
      setTimeout(() => globalThis.gc(), 1);
      setTimeout(() => process.stdout.write(JSON.stringify(fired)), 150);`;
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })) as { ours: boolean; any: boolean };
    assert.equal(out.ours, true);
  });
});
