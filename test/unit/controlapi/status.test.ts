import assert from 'node:assert/strict';
import { serviceStatus, taskFilter } from '../../../manager/api';
import { filters, node, service, task } from './fixtures';

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

describe('the _up-to-date task filter', () => {
  const n1 = node('n1', 'alpha', { labels: { zone: 'east' } });
  const web = service('s1', 'web');
  const t = task('a', web, { slot: 1, node: 'n1' });
  const upToDate = (s: typeof web, nodes = [n1]) => [t].filter(taskFilter(filters({ '_up-to-date': ['true'] }), { services: [s], nodes })).length === 1;
  const placed = (c: string) => ({ ...web, Spec: { ...web.Spec, TaskTemplate: { ...web.Spec.TaskTemplate, Placement: { Constraints: [c] } } } });

  it('keeps a task with the service template; ForceUpdate makes it stale', () => {
    assert.equal(upToDate(web), true);
    assert.equal(upToDate({ ...web, Spec: { ...web.Spec, TaskTemplate: { ...web.Spec.TaskTemplate, ForceUpdate: 1 } } }), false);
  });

  it('a constraint change alone keeps a task whose node still fits', () => {
    assert.equal(upToDate(placed('node.labels.zone==east')), true);
    assert.equal(upToDate(placed('node.labels.zone==west')), false);
    assert.equal(upToDate(placed('node.labels.zone==east'), []), false, 'a node no longer known does not fit');
  });
});
