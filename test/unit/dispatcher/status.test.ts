import assert from 'node:assert/strict';
import { decideStatus, groupByTask, parseStatusUpdates } from '../../../manager/dispatcher';
import { isShoalError } from '../../../shared/errors';
import { task } from './fixtures';

const wire = (taskId: string, status: unknown) => ({ taskId, status: typeof status === 'string' ? status : JSON.stringify(status) });
const invalid = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message);

describe('dispatcher: task status reports', () => {
  describe('parsing', () => {
    it('keeps the fields a node reports and its timestamp', () => {
      const [r] = parseStatusUpdates([wire('t1', { State: 'running', Message: 'started', Timestamp: '2024-05-01T10:00:00Z', ContainerStatus: { ContainerID: 'c1', PID: 42 }, Extra: 1 })]);
      assert.deepEqual(r, { taskId: 't1', update: { State: 'running', Message: 'started', ContainerStatus: { ContainerID: 'c1', PID: 42 } }, at: Date.parse('2024-05-01T10:00:00Z') });
    });
    const bad: Array<[string, ReturnType<typeof wire>, RegExp]> = [
      ['no task ID', wire('', { State: 'running' }), /^updates\[0\]\.task_id/],
      ['not JSON', wire('t1', '{nope'), /^updates\[0\]\.status \(task t1\) is not JSON/],
      ['not an object', wire('t1', [1]), /must be a TaskStatus object/],
      ['an unknown state', wire('t1', { State: 'flying' }), /^updates\[0\]\.status\.State \(task t1\): 'flying' is not a task state/],
      ['a desired-only state', wire('t1', { State: 'remove' }), /'remove' is not a task state/],
      ['a non-string message', wire('t1', { State: 'running', Message: 3 }), /status\.Message \(task t1\) must be a string/],
      ['a non-object container status', wire('t1', { State: 'running', ContainerStatus: 'x' }), /ContainerStatus \(task t1\) must be an object/],
    ];
    for (const [what, u, re] of bad) it(`refuses ${what}, naming the entry`, () => assert.throws(() => parseStatusUpdates([u]), invalid(re)));
  });

  describe('deciding what a report does to the stored task', () => {
    const at = Date.parse('2024-06-01T00:00:00Z');
    it('a forward move is written through the state machine, stamped with the node\'s time', () => {
      const t = task('t1', 'n1', 'assigned');
      const d = decideStatus('n1', 't1', t, [{ taskId: 't1', update: { State: 'preparing', Message: 'preparing' }, at }]);
      assert.equal(d.kind, 'write');
      assert.deepEqual(d.kind === 'write' && d.task.Status, { State: 'preparing', Message: 'preparing', Timestamp: new Date(at).toISOString() });
      assert.equal(d.kind === 'write' && d.task.Version?.Index, 1, 'the write carries the version it was decided on');
    });

    it('a backwards or stale report is skipped with the reason, not an error', () => {
      const d = decideStatus('n1', 't1', task('t1', 'n1', 'running'), [{ taskId: 't1', update: { State: 'starting' } }]);
      assert.equal(d.kind, 'skip');
      assert.match(d.kind === 'skip' ? d.reasons[0] : '', /cannot move status backwards from running to starting/);
      const done = decideStatus('n1', 't1', task('t1', 'n1', 'failed'), [{ taskId: 't1', update: { State: 'running' } }]);
      assert.match(done.kind === 'skip' ? done.reasons[0] : '', /out of a terminal state/);
    });

    it('re-reporting the same status writes nothing', () => {
      const t = task('t1', 'n1', 'running');
      assert.equal(decideStatus('n1', 't1', t, [{ taskId: 't1', update: { State: 'running', Message: 'running' } }]).kind, 'skip');
    });

    it('several reports for one task apply in order; a stale one among them is left out', () => {
      const reports = groupByTask([
        { taskId: 't1', update: { State: 'starting' } },
        { taskId: 't2', update: { State: 'running' } },
        { taskId: 't1', update: { State: 'accepted' } },
        { taskId: 't1', update: { State: 'running' } },
      ]);
      assert.deepEqual([...reports.keys()], ['t1', 't2']);
      const d = decideStatus('n1', 't1', task('t1', 'n1', 'assigned'), reports.get('t1')!);
      assert.equal(d.kind === 'write' && d.task.Status.State, 'running');
      assert.equal(d.kind === 'write' && d.skipped.length, 1);
    });

    it('a report for another node\'s task is refused; one for a deleted task is skipped', () => {
      assert.throws(() => decideStatus('n1', 't1', task('t1', 'n2', 'assigned'), [{ taskId: 't1', update: { State: 'running' } }]), (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /not assigned to node n1/.test(e.message));
      const d = decideStatus('n1', 'gone', undefined, [{ taskId: 'gone', update: { State: 'running' } }]);
      assert.equal(d.kind, 'skip');
    });
  });
});
