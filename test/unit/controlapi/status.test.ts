import assert from 'node:assert/strict';
import { serviceStatus, taskUpToDate, sameJson } from '../../../manager/api';
import { node, service, task } from './fixtures';

describe('service status', () => {
  const nodes = [node('n1', 'alpha'), node('n2', 'beta'), node('n3', 'gamma', { state: 'down' })];

  it('replicated: desired is the replica count, running counts running tasks on live nodes', () => {
    const web = service('s1', 'web', { Replicated: { Replicas: 3 } });
    const tasks = [
      task('a', web, { slot: 1, node: 'n1' }),
      task('b', web, { slot: 2, node: 'n2', state: 'starting' }),
      task('c', web, { slot: 3, node: 'n3' }), // its node is down: not counted as running
      task('d', web, { slot: 1, node: 'n1', state: 'shutdown', desired: 'shutdown' }),
    ];
    assert.deepEqual(serviceStatus(web, tasks, nodes), { RunningTasks: 1, DesiredTasks: 3, CompletedTasks: 0 });
  });

  it('replicated with zero replicas desires none', () => {
    const web = service('s1', 'web', { Replicated: { Replicas: 0 } });
    assert.deepEqual(serviceStatus(web, [], nodes), { RunningTasks: 0, DesiredTasks: 0, CompletedTasks: 0 });
  });

  it('global: desired counts tasks the orchestrator wants running', () => {
    const g = service('s2', 'agent', { Global: {} });
    const tasks = [
      task('a', g, { node: 'n1' }),
      task('b', g, { node: 'n2', state: 'preparing' }),
      task('c', g, { node: 'n1', state: 'shutdown', desired: 'shutdown' }),
    ];
    assert.deepEqual(serviceStatus(g, tasks, nodes), { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 });
  });

  it('ignores other services\' tasks', () => {
    const a = service('s1', 'a', { Replicated: { Replicas: 1 } });
    const b = service('s2', 'b', { Replicated: { Replicas: 1 } });
    assert.equal(serviceStatus(a, [task('x', b, { slot: 1, node: 'n1' })], nodes).RunningTasks, 0);
  });

  it('replicated job: desired is MaxConcurrent; only the current iteration counts', () => {
    const job = { ...service('s3', 'batch', { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } }), JobStatus: { JobIteration: { Index: 4 } } };
    const tasks = [
      task('a', job, { slot: 0, node: 'n1', state: 'complete', desired: 'complete', iteration: 4 }),
      task('b', job, { slot: 1, node: 'n1', state: 'running', desired: 'complete', iteration: 4 }),
      task('c', job, { slot: 2, node: 'n2', state: 'complete', desired: 'complete', iteration: 3 }),
    ];
    assert.deepEqual(serviceStatus(job, tasks, nodes), { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 1 });
  });

  it('global job: desired counts tasks not yet complete', () => {
    const job = { ...service('s4', 'sweep', { GlobalJob: {} }), JobStatus: { JobIteration: { Index: 1 } } };
    const tasks = [
      task('a', job, { node: 'n1', state: 'complete', desired: 'complete', iteration: 1 }),
      task('b', job, { node: 'n2', state: 'running', desired: 'complete', iteration: 1 }),
    ];
    assert.deepEqual(serviceStatus(job, tasks, nodes), { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 1 });
  });
});

describe('task up to date', () => {
  const n1 = node('n1', 'alpha', { labels: { zone: 'east' } });

  it('a task with the service template is up to date; ForceUpdate makes it stale', () => {
    const web = service('s1', 'web');
    const t = task('a', web, { slot: 1, node: 'n1' });
    assert.equal(taskUpToDate(web, t, n1), true);
    const forced = { ...web, Spec: { ...web.Spec, TaskTemplate: { ...web.Spec.TaskTemplate, ForceUpdate: 1 } } };
    assert.equal(taskUpToDate(forced, t, n1), false);
  });

  it('a constraint change alone keeps a task whose node still fits', () => {
    const web = service('s1', 'web');
    const t = task('a', web, { slot: 1, node: 'n1' });
    const placed = (c: string) => ({ ...web, Spec: { ...web.Spec, TaskTemplate: { ...web.Spec.TaskTemplate, Placement: { Constraints: [c] } } } });
    assert.equal(taskUpToDate(placed('node.labels.zone==east'), t, n1), true);
    assert.equal(taskUpToDate(placed('node.labels.zone==west'), t, n1), false);
    assert.equal(taskUpToDate(placed('node.labels.zone==east'), t, undefined), false);
  });

  it('compares JSON structurally', () => {
    assert.equal(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }), true);
    assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false);
  });
});
