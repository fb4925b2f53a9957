import { strict as assert } from 'node:assert';
import { actionsToOps, type ApplyLookup } from '../../../manager/orchestrator';
import type { PlanAction } from '../../../manager/orchestrator/plan';
import type { Service, Task } from '../../../shared/swarm';

const NOW = Date.UTC(2025, 0, 1, 12);

function task(id: string, version: number, over: Partial<Task> = {}): Task {
  return { ID: id, Version: { Index: version }, ServiceID: 's1', Slot: 1, Spec: {}, Status: { State: 'running' }, DesiredState: 'running', ...over };
}

function lookup(tasks: Task[], services: Service[] = []): ApplyLookup {
  return { task: (id) => tasks.find((t) => t.ID === id), service: (id) => services.find((s) => s.ID === id) };
}

describe('orchestrator/actionsToOps', () => {
  it('turns creates, desired-state changes and deletes into version-checked ops', () => {
    const t1 = task('t1', 10);
    const t2 = task('t2', 11, { Status: { State: 'failed' }, DesiredState: 'shutdown' });
    const created = task('t3', 0, { Status: { State: 'new' } });
    delete created.Version;
    const actions: PlanAction[] = [
      { type: 'create', task: created, reason: 'scaled up' },
      { type: 'setDesired', taskId: 't1', desired: 'shutdown', version: 10, reason: 'node down' },
      { type: 'delete', taskId: 't2', version: 11, reason: 'history' },
      { type: 'wakeAt', at: NOW + 5000, reason: 'restart delay' },
    ];
    const out = actionsToOps(actions, lookup([t1, t2]), NOW);
    assert.equal(out.wakeAt, NOW + 5000);
    assert.equal(out.skipped, 0);
    const update = out.ops.find((o) => o.op === 'update');
    assert.ok(update && update.op === 'update');
    assert.equal((update.object as Task).DesiredState, 'shutdown');
    assert.equal(update.object.Version?.Index, 10, 'compares on the version the plan read');
    assert.equal((update.object as Task).Status.State, 'running', 'status is not the orchestrator\'s to write');
    assert.deepEqual(out.ops.find((o) => o.op === 'delete'), { op: 'delete', kind: 'tasks', id: 't2', version: 11 });
    assert.deepEqual(out.ops.find((o) => o.op === 'create'), { op: 'create', kind: 'tasks', object: created });
  });

  it('writes each task once: a delete beats a desired-state change, desired states keep the furthest', () => {
    const t1 = task('t1', 3, { Status: { State: 'complete' } });
    const t2 = task('t2', 4);
    const out = actionsToOps(
      [
        { type: 'setDesired', taskId: 't1', desired: 'shutdown', version: 3, reason: 'a' },
        { type: 'delete', taskId: 't1', version: 3, reason: 'b' },
        { type: 'setDesired', taskId: 't1', desired: 'remove', version: 3, reason: 'c' },
        { type: 'setDesired', taskId: 't2', desired: 'shutdown', version: 4, reason: 'd' },
        { type: 'setDesired', taskId: 't2', desired: 'remove', version: 4, reason: 'e' },
        { type: 'setDesired', taskId: 't2', desired: 'shutdown', version: 4, reason: 'f' },
      ],
      lookup([t1, t2]),
      NOW,
    );
    assert.equal(out.ops.length, 2);
    assert.deepEqual(out.ops[0], { op: 'delete', kind: 'tasks', id: 't1', version: 3 });
    assert.equal(out.ops[1].op === 'update' && (out.ops[1].object as Task).DesiredState, 'remove');
  });

  it('skips actions whose object is gone or was read at another version', () => {
    const out = actionsToOps(
      [
        { type: 'setDesired', taskId: 'gone', desired: 'shutdown', version: 1, reason: 'x' },
        { type: 'setDesired', taskId: 't1', desired: 'shutdown', version: 1, reason: 'x' },
        { type: 'delete', taskId: 't1', version: 2, reason: 'x' },
        { type: 'updateStatus', serviceId: 's9', version: 1, status: { State: 'updating' }, reason: 'x' },
      ],
      lookup([task('t1', 5)]),
      NOW,
    );
    assert.deepEqual(out.ops, []);
    assert.equal(out.skipped, 4);
  });

  it('folds service actions into one write: status, then an automatic rollback to PreviousSpec', () => {
    const svc: Service = {
      ID: 's1',
      Version: { Index: 20 },
      Spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox:2' } } },
      PreviousSpec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox:1' } } },
      UpdateStatus: { State: 'updating', StartedAt: '2025-01-01T11:00:00.000Z', Message: 'update in progress' },
    };
    const out = actionsToOps(
      [
        { type: 'updateStatus', serviceId: 's1', version: 20, status: { ...svc.UpdateStatus, Message: 'x' }, reason: 'r' },
        { type: 'rollback', serviceId: 's1', version: 20, message: 'update rolled back due to failure or early termination of task t9' },
      ],
      lookup([], [svc]),
      NOW,
    );
    assert.equal(out.ops.length, 1);
    const op = out.ops[0];
    assert.ok(op.op === 'update' && op.kind === 'services');
    const next = op.object as Service;
    assert.equal(next.Version?.Index, 20);
    assert.equal(next.Spec.TaskTemplate?.ContainerSpec?.Image, 'busybox:1');
    assert.equal(next.PreviousSpec, undefined);
    assert.deepEqual(next.UpdateStatus, { State: 'rollback_started', StartedAt: '2025-01-01T11:00:00.000Z', Message: 'update rolled back due to failure or early termination of task t9' });
  });

  it('does not roll back a service without a previous spec', () => {
    const svc: Service = { ID: 's1', Version: { Index: 2 }, Spec: { Name: 'web' } };
    const out = actionsToOps([{ type: 'rollback', serviceId: 's1', version: 2, message: 'm' }], lookup([], [svc]), NOW);
    assert.equal(out.skipped, 1);
    assert.deepEqual(out.ops, [], 'nothing changed, nothing written');
  });
});
