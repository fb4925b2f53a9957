import assert from 'node:assert/strict';
import type { Service, Task } from '../../../shared/swarm/types';
import { parseFormat, renderRows } from '../../../cli/format/formatter';
import { STACK_HEADERS, STACK_TABLE, stackRow, summarizeStacks } from '../../../cli/stack/list';
import { notReadyMessage, serviceReadiness } from '../../../cli/stack/ready';
import { DeployJournal, formatDeploySummary } from '../../../cli/stack/report';
import { isNetworkBusy } from '../../../cli/stack/remove';
import { ApiError } from '../../../shared/client';

const svc = (id: string, ns: string | undefined, extra: Partial<Service['Spec']> = {}): Service => ({ ID: id, Spec: { Name: id, Labels: ns === undefined ? {} : { 'com.docker.stack.namespace': ns }, ...extra } });

function task(id: string, state: string, desired = 'running', extra: Partial<Task> = {}): Task {
  return { ID: id, ServiceID: 's', DesiredState: desired as Task['DesiredState'], Spec: {}, Status: { State: state as Task['Status']['State'], Timestamp: '2024-01-01T00:00:00Z' }, ...extra };
}

describe('stack ls', () => {
  it('counts services per namespace, in natural order, as docker prints them', () => {
    const stacks = summarizeStacks([svc('a', 'app10'), svc('b', 'app2'), svc('c', 'app2'), svc('d', 'web')]);
    assert.deepEqual(stacks, [
      { name: 'app2', services: 2 },
      { name: 'app10', services: 1 },
      { name: 'web', services: 1 },
    ]);
    const table = renderRows(parseFormat(undefined, STACK_TABLE), stacks.map(stackRow), STACK_HEADERS);
    assert.equal(table, 'NAME      SERVICES\napp2      2\napp10     1\nweb       1\n');
    assert.equal(renderRows(parseFormat('json', STACK_TABLE), stacks.slice(0, 1).map(stackRow), STACK_HEADERS), '{"Name":"app2","Services":"2"}\n');
    assert.equal(renderRows(parseFormat('{{.Name}}:{{.Services}}', STACK_TABLE), stacks.map(stackRow), STACK_HEADERS), 'app2:2\napp10:1\nweb:1\n');
  });
  it('a listed service without the label is an error, as in docker', () => {
    assert.throws(() => summarizeStacks([svc('x', undefined)]), /cannot get label com.docker.stack.namespace for service x/);
  });
});

describe('stack deploy: readiness of a dependency', () => {
  const replicated = (n: number): Service => svc('s', 'app', { Mode: { Replicated: { Replicas: n } } });

  it('replicated: every replica of the current spec running', () => {
    const tasks = [task('t1', 'running'), task('t2', 'starting'), task('old', 'running')];
    const r = serviceReadiness(replicated(2), tasks, new Set(['t1', 't2']));
    assert.deepEqual([r.ready, r.done, r.wanted], [false, 1, 2]);
    // Old-spec tasks never count: right after an update nothing is ready yet.
    assert.equal(serviceReadiness(replicated(1), [task('old', 'running')], new Set()).ready, false);
    assert.equal(serviceReadiness(replicated(2), [task('t1', 'running'), task('t2', 'running')], new Set(['t1', 't2'])).ready, true);
    assert.equal(serviceReadiness(replicated(0), [], new Set()).ready, true);
  });

  it('global: every task the orchestrator wants running is of the current spec and running', () => {
    const g = svc('g', 'app', { Mode: { Global: {} } });
    assert.equal(serviceReadiness(g, [task('a', 'running'), task('b', 'running')], new Set(['a', 'b'])).ready, true);
    assert.equal(serviceReadiness(g, [task('a', 'running'), task('b', 'running')], new Set(['a'])).ready, false);
    assert.equal(serviceReadiness(g, [], new Set()).ready, false);
  });

  it('jobs: completions of the current iteration', () => {
    const j: Service = { ...svc('j', 'app', { Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 2 } } }), JobStatus: { JobIteration: { Index: 1 } } };
    const done = (id: string, it: number) => task(id, 'complete', 'complete', { JobIteration: { Index: it } });
    assert.equal(serviceReadiness(j, [done('a', 1), done('b', 0)], new Set()).ready, false);
    assert.equal(serviceReadiness(j, [done('a', 1), done('b', 1)], new Set()).ready, true);
  });

  it('a paused or rolled-back update fails at once, with the task error in the message', () => {
    const s: Service = { ...replicated(1), UpdateStatus: { State: 'paused', Message: 'update paused due to failure or early termination of task x' } };
    const failing = task('t1', 'failed', 'shutdown', { Status: { State: 'failed', Err: 'task: non-zero exit (1)', Timestamp: '2024-01-01T00:00:01Z' } });
    const r = serviceReadiness(s, [failing], new Set(['t1']));
    assert.equal(r.ready, false);
    assert.equal(notReadyMessage('app_db', r, '5m0s'), 'service app_db will not become ready: update paused: update paused due to failure or early termination of task x (last task error: task: non-zero exit (1))');
    const slow = serviceReadiness(replicated(1), [failing], new Set(['t1']));
    assert.equal(notReadyMessage('app_db', slow, '3s'), 'service app_db did not become ready within 3s: 0/1 tasks ready (last task error: task: non-zero exit (1))');
  });
});

describe('stack deploy: summary of a deploy that stopped half-way', () => {
  it('lists what was applied, what was not, and which step failed', async () => {
    const j = new DeployJournal(['create network app_front', 'create service app_db', 'create service app_web']);
    await j.step('create network app_front', async () => undefined);
    await assert.rejects(
      j.step('create service app_db', async () => {
        throw new Error('boom');
      }),
    );
    assert.equal(
      formatDeploySummary('app', j, 'failed to create service app_db: Error response from daemon: boom'),
      [
        'failed to deploy stack app: failed to create service app_db: Error response from daemon: boom',
        'Applied (1 of 3):',
        ' - create network app_front',
        'Not applied (2):',
        ' - create service app_db (failed)',
        ' - create service app_web',
        'Deploying the same files again finishes the job: what is already applied is left as it is.',
        '',
      ].join('\n'),
    );
  });
  it('says so when everything was applied and a service did not become ready', () => {
    const out = formatDeploySummary('app', { planned: ['create service app_db'], applied: ['create service app_db'] }, 'service app_db did not become ready within 1s: 0/1 tasks ready');
    assert.match(out, /Applied \(1 of 1\):\n - create service app_db\nEvery change was applied/);
  });
});

describe('stack rm', () => {
  it('retries a network only while its tasks are stopping', () => {
    assert.equal(isNetworkBusy(new ApiError(403, 'network app_front has active endpoints: 2 tasks are still attached; try again once they have stopped')), true);
    assert.equal(isNetworkBusy(new ApiError(404, 'network app_front not found')), false);
    assert.equal(isNetworkBusy(new Error('active endpoints')), false);
  });
});
