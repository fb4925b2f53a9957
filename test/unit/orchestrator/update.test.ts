import assert from 'node:assert/strict';
import { stepUpdate, planService, type RolloutState } from '../../../manager/orchestrator/plan';
import { updateService } from '../../../manager/spec';
import type { Service, Task, UpdateStatus } from '../../../shared/swarm';
import { NS, SEC, T0, Sim, created, ids, node, replicated, service, summary, task } from './fixtures';

const nodes3 = [node('n1'), node('n2'), node('n3')];

/** A replicated service at image v1 with `n` running tasks, updated to `image` with `config`. */
function updated(n: number, config: Record<string, unknown> = {}, image = 'busybox:2', extra: Record<string, unknown> = {}): { svc: Service; tasks: Task[] } {
  const v1 = replicated(n, extra);
  const tasks = Array.from({ length: n }, (_, i) => task(v1, `t${i + 1}`, { slot: i + 1, node: nodes3[i % 3].ID }));
  const spec = structuredClone(v1.Spec);
  spec.TaskTemplate!.ContainerSpec!.Image = image;
  spec.UpdateConfig = { ...spec.UpdateConfig, ...config };
  return { svc: updateService(v1, spec, T0 - SEC), tasks };
}

function step(svc: Service, tasks: Task[], state?: RolloutState, now = T0) {
  return stepUpdate(state, { service: svc, tasks, nodes: nodes3, newId: ids() }, now);
}

function withStatus(svc: Service, status: UpdateStatus): Service {
  return { ...svc, UpdateStatus: status };
}

describe('rolling update: batches', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['stop-first, parallelism 1: stops the first slot only', {}, ['shutdown t1', 'status updating']],
    ['stop-first, parallelism 2: stops two slots', { Parallelism: 2 }, ['shutdown t1', 'shutdown t2', 'status updating']],
    ['parallelism 0 updates every slot at once', { Parallelism: 0 }, ['shutdown t1', 'shutdown t2', 'shutdown t3', 'status updating']],
    ['start-first, parallelism 2: starts two new tasks beside the old ones', { Parallelism: 2, Order: 'start-first' }, ['create s1', 'create s2', 'status updating']],
  ];
  for (const [name, config, want] of cases) {
    it(name, () => {
      const { svc, tasks } = updated(3, config);
      const result = step(svc, tasks);
      assert.deepEqual(summary(result.actions), want);
      assert.equal(result.state?.total, 3);
    });
  }

  it('start-first tasks carry the new spec', () => {
    const { svc, tasks } = updated(1, { Order: 'start-first' });
    const [t] = created(step(svc, tasks).actions);
    assert.equal(t.Spec.ContainerSpec?.Image, 'busybox:2');
    assert.equal(t.Slot, 1);
  });

  it('the status says when the update started', () => {
    const { svc, tasks } = updated(1);
    const status = step(svc, tasks).actions.find((a) => a.type === 'updateStatus');
    assert.deepEqual(status, { type: 'updateStatus', serviceId: 'svc', version: 10, status: { State: 'updating', StartedAt: new Date(T0).toISOString(), Message: 'update in progress' }, reason: 'update started' });
  });

  it('a forced update (ForceUpdate raised) replaces every task', () => {
    const v1 = replicated(2);
    const tasks = [task(v1, 't1', { slot: 1, node: 'n1' }), task(v1, 't2', { slot: 2, node: 'n2' })];
    const spec = structuredClone(v1.Spec);
    spec.TaskTemplate!.ForceUpdate = 1;
    assert.deepEqual(summary(step(updateService(v1, spec, T0), tasks).actions), ['shutdown t1', 'status updating']);
  });

  it('a new placement constraint every node still satisfies changes nothing', () => {
    const v1 = replicated(2);
    const tasks = [task(v1, 't1', { slot: 1, node: 'n1' }), task(v1, 't2', { slot: 2, node: 'n2' })];
    const spec = structuredClone(v1.Spec);
    spec.TaskTemplate!.Placement = { Constraints: ['node.role==worker'] };
    assert.deepEqual(step(updateService(v1, spec, T0), tasks).actions, []);
    spec.TaskTemplate!.Placement = { Constraints: ['node.role==manager'] };
    assert.deepEqual(summary(step(updateService(v1, spec, T0), tasks).actions), ['shutdown t1', 'status updating']);
  });

  it('does nothing while the update is paused', () => {
    const { svc, tasks } = updated(3);
    assert.deepEqual(step(withStatus(svc, { State: 'paused' }), tasks).actions, []);
    assert.deepEqual(step(withStatus(svc, { State: 'rollback_paused' }), tasks).actions, []);
  });

  it('leaves units alone that the mode planner is changing in this plan', () => {
    const { svc, tasks } = updated(2);
    const result = stepUpdate(undefined, { service: svc, tasks, nodes: nodes3, newId: ids(), busy: new Set(['1']) }, T0);
    assert.deepEqual(summary(result.actions), ['shutdown t2', 'status updating']);
  });

  it('updates a slot that ended for good on the old spec (restart none) by starting its task', () => {
    const v1 = replicated(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'none' } } });
    const spec = structuredClone(v1.Spec);
    spec.TaskTemplate!.ContainerSpec!.Image = 'busybox:2';
    const dead = task(v1, 't1', { node: 'n1', state: 'failed', desired: 'shutdown' });
    assert.deepEqual(summary(step(updateService(v1, spec, T0), [dead]).actions), ['create s1', 'status updating']);
  });

  it('global services update node by node', () => {
    const v1 = service({ Mode: { Global: {} } });
    const tasks = nodes3.map((n) => task(v1, `g-${n.ID}`, { slot: 0, node: n.ID }));
    const spec = structuredClone(v1.Spec);
    spec.TaskTemplate!.ContainerSpec!.Image = 'busybox:2';
    spec.UpdateConfig!.Order = 'start-first';
    const actions = step(updateService(v1, spec, T0), tasks).actions;
    assert.deepEqual(summary(actions), ['create n1', 'status updating']);
    assert.equal(created(actions)[0].NodeID, 'n1');
  });

  it('jobs have no rolling update', () => {
    const svc = service({ Mode: { ReplicatedJob: {} } });
    assert.deepEqual(step(svc, []), { actions: [] });
  });
});

describe('rolling update: progress, delay and monitor (simulated cluster)', () => {
  it('replaces one slot at a time, waits Delay between slots and Monitor before completing', () => {
    const { svc, tasks } = updated(3, { Delay: 10 * NS, Monitor: 5 * NS });
    const sim = new Sim(svc, nodes3, tasks);
    const progress: Array<[number, string[]]> = [];
    let wake = sim.settle();
    progress.push([(wake! - T0) / SEC, sim.images()]);
    while (wake !== undefined) {
      sim.now = wake;
      wake = sim.settle();
      if (wake !== undefined) progress.push([(wake - T0) / SEC, sim.images()]);
    }
    assert.deepEqual(progress, [
      [10, ['busybox', 'busybox', 'busybox:2']],
      [20, ['busybox', 'busybox:2', 'busybox:2']],
      [25, ['busybox:2', 'busybox:2', 'busybox:2']],
    ]);
    assert.equal(sim.service.UpdateStatus?.State, 'completed');
    assert.equal(sim.service.UpdateStatus?.Message, 'update completed');
    assert.equal(sim.service.UpdateStatus?.CompletedAt, new Date(T0 + 25 * SEC).toISOString());
    assert.equal(sim.alive().length, 3);
  });

  it('never has more than Parallelism slots down with stop-first', () => {
    const { svc, tasks } = updated(3, { Parallelism: 2 });
    const sim = new Sim(svc, nodes3, tasks);
    for (let round = 0; round < 10; round++) {
      const writes = sim.plan().filter((a) => a.type !== 'wakeAt');
      if (writes.length === 0) break;
      sim.apply(writes);
      const up = [1, 2, 3].filter((slot) => [...sim.tasks.values()].some((t) => t.Slot === slot && t.DesiredState === 'running'));
      assert.ok(up.length >= 1, `round ${round}: at most 2 of 3 slots down`);
      sim.agents();
    }
    assert.deepEqual(sim.images(), ['busybox:2', 'busybox:2', 'busybox:2']);
  });

  it('start-first keeps every slot running throughout', () => {
    const { svc, tasks } = updated(3, { Order: 'start-first', Parallelism: 3 });
    const sim = new Sim(svc, nodes3, tasks);
    for (let round = 0; round < 10; round++) {
      const writes = sim.plan().filter((a) => a.type !== 'wakeAt');
      if (writes.length === 0) break;
      sim.apply(writes);
      sim.agents();
      assert.ok(sim.alive().length >= 3, `round ${round}: ${sim.alive().length} running`);
    }
    sim.now += 5 * SEC;
    sim.settle();
    assert.deepEqual(sim.images(), ['busybox:2', 'busybox:2', 'busybox:2']);
    assert.equal(sim.service.UpdateStatus?.State, 'completed');
  });
});

describe('rolling update: failures', () => {
  const failsV2 = (t: Task) => t.Spec.ContainerSpec?.Image === 'busybox:2';

  it('pause (default): the first failure pauses the update with the task named', () => {
    const { svc, tasks } = updated(3);
    const sim = new Sim(svc, nodes3, tasks);
    sim.settle(failsV2);
    const status = sim.service.UpdateStatus!;
    assert.equal(status.State, 'paused');
    assert.match(status.Message!, /^update paused due to failure or early termination of task new\d+$/);
    assert.deepEqual(sim.images(), ['busybox', 'busybox'], 'the other slots keep the old spec');
  });

  // The replacement r1 failed at T0-1s; Monitor is 5s.
  const monitorCases: Array<[string, number | undefined, string[]]> = [
    ['a failure long after the task started running does not count', T0 - 30 * SEC, []],
    ['a failure within Monitor of running counts', T0 - 3 * SEC, ['status paused']],
    ['a task that failed before it was seen running counts', undefined, ['status paused']],
  ];
  for (const [name, runningAt, want] of monitorCases) {
    it(name, () => {
      const { svc } = updated(1, { Monitor: 5 * NS });
      const updating = withStatus(svc, { State: 'updating', StartedAt: 'then' });
      const r1 = task(svc, 'r1', { slot: 1, node: 'n1', created: T0 - 60 * SEC, state: 'failed', since: T0 - SEC });
      const state: RolloutState = {
        ...step(updating, [r1]).state!,
        total: 1,
        units: { '1': { startedAt: T0 - 60 * SEC, taskId: 'r1', runningAt } },
      };
      const result = step(updating, [r1], state);
      assert.deepEqual(summary(result.actions).filter((l) => l.startsWith('status')), want);
      assert.deepEqual(result.state!.failures, want.length ? ['r1'] : []);
    });
  }

  it('continue: failures do not stop the update', () => {
    const { svc, tasks } = updated(3, { FailureAction: 'continue' });
    const sim = new Sim(svc, nodes3, tasks);
    const failOnce = new Set<string>();
    sim.settle((t) => failsV2(t) && !failOnce.has(t.ID) && failOnce.add(t.ID) !== undefined && t.Slot === 2);
    for (let i = 0; i < 5; i++) {
      sim.now += 6 * SEC;
      sim.settle();
    }
    assert.deepEqual(sim.images(), ['busybox:2', 'busybox:2', 'busybox:2']);
    assert.equal(sim.service.UpdateStatus?.State, 'completed');
  });

  const ratioCases: Array<[number[], string]> = [
    [[1, 2], 'completed'], // 2 of 4 = 0.5, not above MaxFailureRatio 0.5
    [[1, 2, 3], 'paused'], // 3 of 4 > 0.5
  ];
  for (const [failing, want] of ratioCases) {
    it(`MaxFailureRatio 0.5 with ${failing.length} of 4 failing -> ${want}`, () => {
      const { svc, tasks } = updated(4, { Parallelism: 0, MaxFailureRatio: 0.5 });
      const sim = new Sim(svc, [...nodes3, node('n4')], tasks);
      const failed = new Set<string>();
      const fails = (t: Task) => failsV2(t) && failing.includes(t.Slot!) && !failed.has(`slot${t.Slot}`) && !!failed.add(`slot${t.Slot}`);
      sim.settle(fails);
      for (let i = 0; i < 5 && sim.service.UpdateStatus?.State === 'updating'; i++) {
        sim.now += 6 * SEC;
        sim.settle(fails);
      }
      assert.equal(sim.service.UpdateStatus?.State, want);
    });
  }

  it('rollback: a failure rolls the service back to its previous spec, using RollbackConfig', () => {
    // As in Docker, the spec rolled back to brings its own RollbackConfig.
    const { svc, tasks } = updated(3, { FailureAction: 'rollback' }, 'busybox:2', { RollbackConfig: { Monitor: 20 * NS } });
    const sim = new Sim(svc, nodes3, tasks);
    // Slot 1 updates fine, slot 2's new task fails: the update rolls back.
    const wake = sim.settle((t) => failsV2(t) && t.Slot === 2);
    assert.equal(sim.service.UpdateStatus?.State, 'rollback_started');
    assert.match(sim.service.UpdateStatus!.Message!, /^update rolled back due to failure or early termination of task new\d+$/);
    assert.equal(sim.service.Spec.TaskTemplate?.ContainerSpec?.Image, 'busybox');
    assert.equal(wake, T0 + 5 * SEC, 'slot 2 restarts after its restart delay');
    sim.now = wake!;
    assert.equal(sim.settle(), T0 + 20 * SEC, 'the rollback watches slot 1 for RollbackConfig.Monitor');
    sim.now = T0 + 20 * SEC;
    sim.settle();
    assert.equal(sim.service.UpdateStatus?.State, 'rollback_completed');
    assert.equal(sim.service.UpdateStatus?.Message, 'rollback completed');
    assert.deepEqual(sim.images(), ['busybox', 'busybox', 'busybox']);
  });

  it('a failing rollback pauses (a rollback is never rolled back)', () => {
    const { svc, tasks } = updated(2, { FailureAction: 'rollback' });
    const sim = new Sim(svc, nodes3, tasks);
    // v2 fails in slot 2; the rollback's new v1 task in slot 1 fails too.
    sim.settle((t) => (failsV2(t) && t.Slot === 2) || (!failsV2(t) && t.Slot === 1));
    assert.equal(sim.service.UpdateStatus?.State, 'rollback_paused');
    assert.match(sim.service.UpdateStatus!.Message!, /^rollback paused due to failure or early termination of task new\d+$/);
  });

  it('rollback without a previous spec pauses instead', () => {
    const { svc, tasks } = updated(1, { FailureAction: 'rollback' });
    const sim = new Sim({ ...svc, PreviousSpec: undefined }, nodes3, tasks);
    sim.settle(failsV2);
    assert.equal(sim.service.UpdateStatus?.State, 'paused');
    assert.match(sim.service.UpdateStatus!.Message!, /\(no previous spec to roll back to\)$/);
  });

  it('asks again for a rollback that was not applied', () => {
    const { svc, tasks } = updated(1, { FailureAction: 'rollback' });
    const sim = new Sim(svc, nodes3, tasks);
    for (let i = 0; i < 10 && !sim.rollout?.stopped; i++) {
      sim.apply(sim.plan().filter((a) => a.type !== 'wakeAt' && a.type !== 'rollback'));
      sim.agents(failsV2);
    }
    assert.equal(sim.rollout?.stopped, 'rolled-back');
    assert.ok(sim.plan().some((a) => a.type === 'rollback'));
  });
});

describe('rolling update: leader change', () => {
  it('adopts a start-first replacement under way and completes it', () => {
    const { svc, tasks } = updated(1, { Order: 'start-first' });
    const fresh = task(svc, 'r1', { slot: 1, node: 'n2', state: 'starting', created: T0 - SEC });
    const first = step(withStatus(svc, { State: 'updating', StartedAt: 'then' }), [...tasks, fresh]);
    assert.deepEqual(first.actions, [], 'no second replacement while one is starting');
    assert.deepEqual(first.state!.units, { '1': { startedAt: T0, taskId: 'r1' } });

    const running = { ...fresh, Status: { State: 'running' as const, Timestamp: new Date(T0 + SEC).toISOString() } };
    const plan = planService({ service: withStatus(svc, { State: 'updating', StartedAt: 'then' }), tasks: [tasks[0], running], nodes: nodes3, now: T0 + SEC, newId: ids(), rollout: first.state });
    assert.deepEqual(summary(plan.actions, T0 + SEC), ['shutdown t1', 'wake +5s']);
  });

  it('completes an update whose tasks were all replaced before the leader changed', () => {
    const { svc } = updated(2);
    const tasks = [task(svc, 'a', { slot: 1, node: 'n1' }), task(svc, 'b', { slot: 2, node: 'n2' })];
    const result = step(withStatus(svc, { State: 'updating', StartedAt: 'then' }), tasks);
    assert.deepEqual(result.actions, [
      { type: 'updateStatus', serviceId: 'svc', version: 10, status: { State: 'completed', StartedAt: 'then', Message: 'update completed', CompletedAt: new Date(T0).toISOString() }, reason: 'update completed' },
    ]);
  });
});

describe('rolling update: a finished rollout', () => {
  it('starts again when tasks fall out of date with the same spec (a node no longer satisfies a placement-only change)', () => {
    const v1 = replicated(1);
    const spec = structuredClone(v1.Spec);
    spec.TaskTemplate!.Placement = { Constraints: ['node.labels.zone==east'] };
    const svc = { ...updateService(v1, spec, T0), UpdateStatus: { State: 'completed' as const } };
    const t1 = task(v1, 't1', { node: 'n1' }); // placed under v1, on a node that satisfied the new constraint
    const east = [node('n1', { labels: { zone: 'east' } })];
    const first = stepUpdate(undefined, { service: svc, tasks: [t1], nodes: east, newId: ids() }, T0);
    assert.deepEqual(first.actions, []);
    assert.equal(first.state!.stopped, 'completed');
    const west = [node('n1', { labels: { zone: 'west' } })];
    const again = stepUpdate(first.state, { service: svc, tasks: [t1], nodes: west, newId: ids() }, T0 + SEC);
    assert.deepEqual(summary(again.actions, T0 + SEC), ['shutdown t1']);
  });
});
