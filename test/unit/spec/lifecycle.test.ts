import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { newService, rollbackService, updateService, validateNodeSpec, validateServiceSpec, validateServiceUpdate } from '../../../manager/spec';
import type { ServiceSpec } from '../../../shared/swarm';

const T0 = Date.UTC(2024, 0, 1);
const T1 = Date.UTC(2024, 0, 2);

function svcSpec(mode: Record<string, unknown>, image = 'busybox', name = 'web'): ServiceSpec {
  return validateServiceSpec({ Name: name, TaskTemplate: { ContainerSpec: { Image: image } }, Mode: mode });
}

describe('service updates', () => {
  const modes: Array<[string, Record<string, unknown>]> = [
    ['replicated', { Replicated: { Replicas: 2 } }],
    ['global', { Global: {} }],
    ['replicated-job', { ReplicatedJob: {} }],
    ['global-job', { GlobalJob: {} }],
  ];
  for (const [from, fromMode] of modes) {
    for (const [to, toMode] of modes) {
      if (from === to) continue;
      it(`refuses a mode change ${from} -> ${to}`, () => {
        assert.throws(
          () => validateServiceUpdate(svcSpec(fromMode), svcSpec(toMode)),
          (err: unknown) => isShoalError(err, 'INVALID_ARGUMENT') && err.message.startsWith(`service mode change is not allowed (${from} to ${to})`),
        );
      });
    }
  }

  it('allows a replica count change within replicated mode', () => {
    validateServiceUpdate(svcSpec({ Replicated: { Replicas: 1 } }), svcSpec({ Replicated: { Replicas: 9 } }));
  });

  it('refuses renaming', () => {
    assert.throws(() => validateServiceUpdate(svcSpec({}), svcSpec({}, 'busybox', 'api')), /renaming services is not supported/);
  });

  it('update keeps the old spec as PreviousSpec and clears UpdateStatus', () => {
    const created = newService(svcSpec({}), 's1', T0);
    assert.deepEqual(Object.keys(created).sort(), ['CreatedAt', 'ID', 'Spec', 'UpdatedAt']);
    const before = { ...created, UpdateStatus: { State: 'completed' as const } };
    const next = svcSpec({}, 'busybox:2');
    const after = updateService(before, next, T1);
    assert.equal(after.Spec, next);
    assert.equal(after.PreviousSpec, created.Spec);
    assert.equal(after.UpdateStatus, undefined);
    assert.equal(after.UpdatedAt, new Date(T1).toISOString());
    assert.equal(after.CreatedAt, created.CreatedAt);
  });

  it('a job starts at iteration 0 and each update runs a new iteration', () => {
    const job = newService(svcSpec({ ReplicatedJob: {} }), 'j1', T0);
    assert.deepEqual(job.JobStatus, { JobIteration: { Index: 0 }, LastExecution: new Date(T0).toISOString() });
    const again = updateService(job, svcSpec({ ReplicatedJob: {} }), T1);
    assert.deepEqual(again.JobStatus, { JobIteration: { Index: 1 }, LastExecution: new Date(T1).toISOString() });
  });

  it('manual rollback restores PreviousSpec and starts a rollback', () => {
    const v1 = newService(svcSpec({}), 's1', T0);
    const v2 = updateService(v1, svcSpec({}, 'busybox:2'), T0 + 1000);
    const back = rollbackService(v2, T1);
    assert.equal(back.Spec, v1.Spec);
    assert.equal(back.PreviousSpec, undefined);
    assert.deepEqual(back.UpdateStatus, { State: 'rollback_started', StartedAt: new Date(T1).toISOString(), Message: 'manually requested rollback' });
  });

  it('automatic rollback keeps the update start time and gives the reason', () => {
    const v2 = { ...updateService(newService(svcSpec({}), 's1', T0), svcSpec({}, 'busybox:2'), T0), UpdateStatus: { State: 'updating' as const, StartedAt: 'then' } };
    const back = rollbackService(v2, T1, { automatic: true, message: 'update rolled back due to failure or early termination of task t9' });
    assert.deepEqual(back.UpdateStatus, { State: 'rollback_started', StartedAt: 'then', Message: 'update rolled back due to failure or early termination of task t9' });
  });

  it('refuses a rollback without a previous spec', () => {
    assert.throws(() => rollbackService(newService(svcSpec({}), 's1', T0), T1), (err: unknown) => isShoalError(err, 'FAILED_PRECONDITION') && /does not have a previous spec/.test(err.message));
  });
});

describe('node spec validation', () => {
  it('fills defaults for a new node', () => {
    assert.deepEqual(validateNodeSpec({}), { Labels: {}, Role: 'worker', Availability: 'active' });
  });
  it('keeps the current role and availability when left out, but not labels', () => {
    const current = { Name: 'n', Role: 'manager' as const, Availability: 'drain' as const, Labels: { a: 'b' } };
    assert.deepEqual(validateNodeSpec({ Labels: { c: 'd' } }, current), { Name: 'n', Labels: { c: 'd' }, Role: 'manager', Availability: 'drain' });
    assert.deepEqual(validateNodeSpec({ Role: 'manager', Availability: 'drain' }, current).Labels, {});
  });
  const bad: Array<[unknown, string]> = [
    [{ Availability: 'off' }, 'invalid node spec: Availability: must be one of active, pause, drain, got "off"'],
    [{ Role: 'leader' }, 'invalid node spec: Role: must be one of worker, manager, got "leader"'],
    [{ Labels: { zone: 1 } }, 'invalid node spec: Labels.zone: must be a string, got 1'],
    [{ Labels: ['zone=a'] }, 'invalid node spec: Labels: must be an object of string values, got ["zone=a"]'],
    [{ Avail: 'drain' }, 'invalid node spec: Avail: unknown field'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => validateNodeSpec(input), (err: unknown) => isShoalError(err, 'INVALID_ARGUMENT') && err.message === message));
  }
});
