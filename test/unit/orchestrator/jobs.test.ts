import assert from 'node:assert/strict';
import { planGlobalJob, planReplicatedJob, planService } from '../../../manager/orchestrator/plan';
import { updateService } from '../../../manager/spec';
import type { Node, Service, Task } from '../../../shared/swarm';
import { SEC, T0, Sim, created, ids, node, service, summary, task } from './fixtures';

function job(mode: Record<string, unknown>, iteration = 0, taskTemplate?: Record<string, unknown>): Service {
  return service({ Mode: mode, ...(taskTemplate ? { TaskTemplate: taskTemplate } : {}) }, { JobStatus: { JobIteration: { Index: iteration } } });
}

const nodes = [node('n1'), node('n2')];
const rjob = job({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } });
const jt = (s: Service, id: string, slot: number, o: Parameters<typeof task>[2] = {}) => task(s, id, { slot, node: 'n1', iteration: 0, ...o });
const done = (s: Service, id: string, slot: number) => jt(s, id, slot, { state: 'complete', desired: 'shutdown', since: T0 - 60 * SEC });

interface Case {
  name: string;
  svc: Service;
  tasks: (s: Service) => Task[];
  nodes?: Node[];
  want: string[];
}

function table(plan: typeof planReplicatedJob, cases: Case[]) {
  for (const c of cases) {
    it(c.name, () => {
      const actions = plan({ service: c.svc, tasks: c.tasks(c.svc), nodes: c.nodes ?? nodes, now: T0, newId: ids() }).actions;
      assert.deepEqual(summary(actions), [...c.want].sort());
    });
  }
}

describe('replicated job planner', () => {
  table(planReplicatedJob, [
    { name: 'starts MaxConcurrent tasks in slots 0..', svc: rjob, tasks: () => [], want: ['create s0 it0', 'create s1 it0'] },
    { name: 'keeps MaxConcurrent running as tasks complete', svc: rjob, tasks: (s) => [done(s, 'a', 0), jt(s, 'b', 1)], want: ['create s2 it0'] },
    { name: 'a task that just completed is retired, never restarted', svc: rjob, tasks: (s) => [jt(s, 'a', 0, { state: 'complete', since: T0 - 60 * SEC }), jt(s, 'b', 1)], want: ['shutdown a', 'create s2 it0'] },
    { name: 'does not exceed TotalCompletions', svc: rjob, tasks: (s) => [done(s, 'a', 0), done(s, 'b', 1), done(s, 'c', 2), jt(s, 'd', 3)], want: ['create s4 it0'] },
    { name: 'does nothing once every completion is in', svc: rjob, tasks: (s) => [0, 1, 2, 3, 4].map((i) => done(s, `c${i}`, i)), want: [] },
    { name: 'a failed task restarts in its slot (on-failure by default)', svc: rjob, tasks: (s) => [jt(s, 'f', 0, { state: 'failed', since: T0 - 10 * SEC }), jt(s, 'b', 1)], want: ['shutdown f', 'create s0 it0'] },
    {
      name: 'a slot out of attempts counts as done: the job does not retry elsewhere',
      svc: job({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 2 } }, 0, { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { MaxAttempts: 1 } }),
      tasks: (s) => [jt(s, 'f1', 0, { state: 'failed', desired: 'shutdown', created: T0 - 300 * SEC, since: T0 - 200 * SEC }), jt(s, 'f2', 0, { state: 'failed', desired: 'shutdown', created: T0 - 150 * SEC, since: T0 - 100 * SEC }), done(s, 'c', 1)],
      want: [],
    },
    {
      name: 'a new iteration removes the old iteration\'s running tasks and starts over',
      svc: job({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } }, 1),
      tasks: (s) => [jt(s, 'old', 0), done(s, 'olddone', 1)],
      want: ['remove old', 'create s0 it1'],
    },
    {
      name: 'completed tasks of this iteration are kept beyond the history limit',
      svc: job({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } }, 0),
      tasks: (s) => [...[1, 2, 3, 4, 5, 6].map((i) => jt(s, `f${i}`, 0, { state: 'failed', desired: 'shutdown', created: T0 - (100 - i) * 60 * SEC, since: T0 - (99 - i) * 60 * SEC })), done(s, 'c', 0)],
      want: ['delete f1', 'delete f2'],
    },
  ]);

  it('tasks carry the job iteration and desired state running', () => {
    const [t] = created(planReplicatedJob({ service: job({ ReplicatedJob: {} }, 7), tasks: [], nodes, now: T0, newId: ids() }).actions);
    assert.deepEqual([t.JobIteration, t.DesiredState, t.Slot], [{ Index: 7 }, 'running', 0]);
  });

  it('runs a job to completion, and again as a new iteration after an update (ForceUpdate)', () => {
    const sim = new Sim(job({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } }), nodes);
    // Each agent pass completes running tasks.
    const complete = () => {
      for (const t of sim.tasks.values()) if (t.Status.State === 'running' && t.DesiredState === 'running') sim.setState(t, 'complete');
    };
    for (let round = 0; round < 6; round++) {
      sim.settle();
      complete();
    }
    sim.settle();
    const completions = (it: number) => [...sim.tasks.values()].filter((t) => t.JobIteration?.Index === it && t.Status.State === 'complete').length;
    assert.equal(completions(0), 4);
    assert.deepEqual(summary(sim.plan()), []);

    const spec = structuredClone(sim.service.Spec);
    spec.TaskTemplate!.ForceUpdate = 1;
    sim.service = updateService(sim.service, spec, T0);
    for (let round = 0; round < 6; round++) {
      sim.settle();
      complete();
    }
    assert.equal(completions(1), 4);
    assert.equal(completions(0), 4, 'the first iteration stays in the history');
  });
});

describe('global job planner', () => {
  const gjob = job({ GlobalJob: {} });
  const on = (s: Service, id: string, n: string, o: Parameters<typeof task>[2] = {}) => task(s, id, { slot: 0, node: n, iteration: 0, ...o });
  table(planGlobalJob, [
    { name: 'one task per node', svc: gjob, tasks: () => [], want: ['create n1 it0', 'create n2 it0'] },
    { name: 'a completed node gets nothing more', svc: gjob, tasks: (s) => [on(s, 'a', 'n1', { state: 'complete', desired: 'shutdown' }), on(s, 'b', 'n2')], want: [] },
    { name: 'a node joining later runs the job too', svc: gjob, nodes: [...nodes, node('n3')], tasks: (s) => [on(s, 'a', 'n1', { state: 'complete', desired: 'shutdown' }), on(s, 'b', 'n2')], want: ['create n3 it0'] },
    { name: 'a failed task restarts on its node', svc: gjob, tasks: (s) => [on(s, 'a', 'n1', { state: 'failed', since: T0 - 10 * SEC }), on(s, 'b', 'n2')], want: ['shutdown a', 'create n1 it0'] },
    { name: 'a drained node has its unfinished task shut down', svc: gjob, nodes: [node('n1'), node('n2', { availability: 'drain' })], tasks: (s) => [on(s, 'a', 'n1'), on(s, 'b', 'n2')], want: ['shutdown b'] },
    { name: 'a new iteration removes unfinished old tasks', svc: job({ GlobalJob: {} }, 3), nodes: [node('n1')], tasks: (s) => [on(s, 'old', 'n1')], want: ['remove old', 'create n1 it3'] },
  ]);

  it('planService dispatches jobs and never returns a rollout', () => {
    const result = planService({ service: job({ GlobalJob: {} }), tasks: [], nodes, now: T0, newId: ids() });
    assert.equal(result.rollout, undefined);
    assert.equal(created(result.actions).length, 2);
  });
});
