import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import {
  TASK_STATES,
  TaskStateError,
  checkDesiredTransition,
  checkTaskTransition,
  compareTaskStates,
  endedOnItsOwn,
  isBeforeRunning,
  isRunningOrBefore,
  isTerminal,
  setDesiredState,
  transitionTask,
  type Task,
  type TaskState,
} from '../../../shared/swarm';

function task(state: TaskState, desired: TaskState = 'running'): Task {
  return {
    ID: 't1',
    ServiceID: 's1',
    Spec: { ContainerSpec: { Image: 'busybox' } },
    Status: { State: state, Timestamp: '2024-01-01T00:00:00.000Z', Message: 'was' },
    DesiredState: desired,
  };
}

describe('task state order', () => {
  it('follows the lifecycle NEW < PENDING < ASSIGNED < ... < RUNNING < terminal states', () => {
    const lifecycle: TaskState[] = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete'];
    for (let i = 1; i < lifecycle.length; i++) assert.ok(compareTaskStates(lifecycle[i - 1], lifecycle[i]) < 0, `${lifecycle[i - 1]} < ${lifecycle[i]}`);
    for (const end of ['complete', 'shutdown', 'failed', 'rejected', 'orphaned'] as TaskState[]) assert.ok(compareTaskStates('running', end) < 0);
  });

  const table: Array<[TaskState, boolean, boolean, boolean]> = [
    // state, terminal, running-or-before, ended on its own
    ['new', false, true, false],
    ['pending', false, true, false],
    ['assigned', false, true, false],
    ['starting', false, true, false],
    ['running', false, true, false],
    ['complete', true, false, true],
    ['shutdown', true, false, false],
    ['failed', true, false, true],
    ['rejected', true, false, true],
    ['orphaned', true, false, false],
    ['remove', false, false, false],
  ];
  for (const [state, terminal, runningOrBefore, ended] of table) {
    it(`${state}: terminal=${terminal} runningOrBefore=${runningOrBefore} endedOnItsOwn=${ended}`, () => {
      assert.equal(isTerminal(state), terminal);
      assert.equal(isRunningOrBefore(state), runningOrBefore);
      assert.equal(endedOnItsOwn(state), ended);
    });
  }

  it('isBeforeRunning excludes running itself', () => {
    assert.equal(isBeforeRunning('starting'), true);
    assert.equal(isBeforeRunning('running'), false);
  });

  it('knows every API state', () => assert.equal(TASK_STATES.length, 15));
});

describe('task status transitions', () => {
  const allowed: Array<[TaskState, TaskState]> = [
    ['new', 'pending'],
    ['pending', 'assigned'],
    ['assigned', 'running'], // skipping forward is fine
    ['assigned', 'rejected'],
    ['new', 'failed'],
    ['starting', 'running'],
    ['running', 'complete'],
    ['running', 'failed'],
    ['running', 'shutdown'],
    ['running', 'orphaned'],
    ['running', 'running'], // re-reporting
    ['failed', 'failed'],
  ];
  for (const [from, to] of allowed) it(`allows ${from} -> ${to}`, () => checkTaskTransition(from, to, 't1'));

  const refused: Array<[TaskState, TaskState, RegExp]> = [
    ['running', 'pending', /cannot move status backwards from running to pending/],
    ['assigned', 'new', /backwards/],
    ['complete', 'failed', /out of a terminal state from complete to failed/],
    ['failed', 'running', /out of a terminal state/],
    ['shutdown', 'orphaned', /out of a terminal state/],
    ['running', 'remove', /remove is a desired state only/],
  ];
  for (const [from, to, message] of refused) {
    it(`refuses ${from} -> ${to} with a typed error`, () => {
      assert.throws(
        () => checkTaskTransition(from, to, 't1'),
        (err: unknown) => err instanceof TaskStateError && isShoalError(err, 'FAILED_PRECONDITION') && err.from === from && err.to === to && message.test(err.message),
      );
    });
  }

  it('rejects an unknown state name', () => assert.throws(() => checkTaskTransition('running', 'exploded' as TaskState), /unknown task state 'exploded'/));

  it('transitionTask returns a new task with a fresh timestamp on a state change', () => {
    const before = task('assigned');
    const after = transitionTask(before, { State: 'running', Message: 'started', ContainerStatus: { PID: 42 } }, Date.UTC(2024, 0, 2));
    assert.notEqual(after, before);
    assert.equal(before.Status.State, 'assigned', 'input untouched');
    assert.deepEqual(after.Status, { State: 'running', Message: 'started', Timestamp: '2024-01-02T00:00:00.000Z', ContainerStatus: { PID: 42 } });
    assert.equal(after.UpdatedAt, '2024-01-02T00:00:00.000Z');
  });

  it('re-reporting the same state keeps the entry timestamp and returns the same object when nothing changed', () => {
    const running = task('running');
    assert.equal(transitionTask(running, { State: 'running' }, Date.UTC(2024, 0, 3)), running);
    const refreshed = transitionTask(running, { State: 'running', Message: 'healthy' }, Date.UTC(2024, 0, 3));
    assert.equal(refreshed.Status.Timestamp, '2024-01-01T00:00:00.000Z');
    assert.equal(refreshed.Status.Message, 'healthy');
  });

  it('transitionTask throws on a backward move', () => {
    assert.throws(() => transitionTask(task('running'), { State: 'starting' }), TaskStateError);
  });
});

describe('desired state transitions', () => {
  it('moves forward: ready -> running -> shutdown -> remove', () => {
    let t = task('new', 'ready');
    for (const d of ['running', 'shutdown', 'remove'] as TaskState[]) {
      t = setDesiredState(t, d, 0);
      assert.equal(t.DesiredState, d);
    }
  });
  it('returns the same object when unchanged', () => {
    const t = task('running', 'shutdown');
    assert.equal(setDesiredState(t, 'shutdown'), t);
  });
  it('refuses moving backwards (shutdown -> running)', () => {
    assert.throws(() => setDesiredState(task('running', 'shutdown'), 'running'), /cannot move desired state backwards from shutdown to running/);
  });
  it('refuses observed-only states as desired states', () => {
    assert.throws(() => checkDesiredTransition('running', 'failed', 't1'), /not a desired state/);
    assert.throws(() => checkDesiredTransition('new', 'pending', 't1'), /not a desired state/);
  });
});
