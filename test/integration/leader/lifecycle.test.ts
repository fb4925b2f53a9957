// Task lifecycles through the leader loops: restart policy, rolling update and rollback, node
// failure and return, jobs, and task history.
import { strict as assert } from 'node:assert';
import { isDesiredAlive, type Task } from '../../../shared/swarm';
import { brief, image, MS, perNode, replicated, running, startLab, waitFor, wanted, type Lab } from './harness';

describe('leader loops: task lifecycles (etcd)', function () {
  this.timeout(60_000);
  let lab: Lab;

  afterEach(async () => {
    await lab?.close();
  });

  async function setup(historyLimit?: number): Promise<void> {
    lab = await startLab({ historyLimit });
    for (const id of ['node1', 'node2', 'node3']) await lab.addNode(id);
  }

  it('restarts a failing task on failure until MaxAttempts, then gives up', async () => {
    await setup();
    lab.workers.outcome = () => 'fail';
    const spec = replicated('crashy', 1);
    spec.TaskTemplate!.RestartPolicy = { Condition: 'on-failure', Delay: 20 * MS, MaxAttempts: 2 };
    const svc = await lab.createService(spec);
    const show = () => lab.tasks(svc.ID).then(brief);
    const failed = await waitFor('3 failed tasks (the first and 2 restarts)', async () => {
      const t = await lab.tasks(svc.ID);
      return t.length === 3 && t.every((x) => x.Status.State === 'failed') && t;
    }, show);
    // Once the orchestrator has seen the last failure and planned: no wake-up, no new task.
    await lab.leader.orchestrator.caughtUp(Math.max(...failed.map((t) => t.Version?.Index ?? 0)));
    assert.equal(lab.leader.orchestrator.nextWake(svc.ID), undefined);
    const ts = await lab.tasks(svc.ID);
    assert.equal(ts.length, 3, brief(ts).join(' '));
    assert.ok(ts.every((t) => t.Slot === 1));
  });

  it('does not restart a task that completed under condition on-failure', async () => {
    await setup();
    lab.workers.outcome = () => 'complete';
    const spec = replicated('oneshot', 2);
    spec.TaskTemplate!.RestartPolicy = { Condition: 'on-failure', Delay: 20 * MS };
    const svc = await lab.createService(spec);
    const done = await waitFor('2 complete tasks', async () => {
      const t = (await lab.tasks(svc.ID)).filter((x) => x.Status.State === 'complete');
      return t.length === 2 && t;
    });
    await lab.leader.orchestrator.caughtUp(Math.max(...done.map((t) => t.Version?.Index ?? 0)));
    assert.equal((await lab.tasks(svc.ID)).length, 2);
  });

  it('rolls out an update 2 at a time, start-first, and reports it completed', async () => {
    await setup();
    const svc = await lab.createService(replicated('app', 4, { UpdateConfig: { Parallelism: 2, Order: 'start-first', Delay: 0, Monitor: 100 * MS } }));
    await waitFor('4 running', async () => running(await lab.tasks(svc.ID)).length === 4);

    // Follow every task change during the rollout.
    const ctl = new AbortController();
    const w = await lab.store.watch(['tasks'], ctl.signal);
    const seen = new Map<string, Task>(((w.snapshot.tasks ?? []) as Task[]).filter((t) => t.ServiceID === svc.ID).map((t) => [t.ID, t]));
    let minRunning = Infinity;
    let maxStarting = 0;
    const follow = (async () => {
      for await (const ev of w.events) {
        if (ev.type !== 'put' || (ev.object as Task).ServiceID !== svc.ID) continue;
        seen.set(ev.id, ev.object as Task);
        const all = [...seen.values()];
        minRunning = Math.min(minRunning, running(all).length);
        maxStarting = Math.max(maxStarting, all.filter((t) => image(t) === 'busybox:2' && t.Status.State !== 'running' && isDesiredAlive(t.DesiredState)).length);
      }
    })();

    await lab.updateService(svc.ID, (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { Image: 'busybox:2' } } }));
    const done = await waitFor('update completed', async () => {
      const s = await lab.service(svc.ID);
      return s?.UpdateStatus?.State === 'completed' && s;
    }, () => lab.tasks(svc.ID).then(brief));
    ctl.abort();
    await follow;

    const ts = await lab.tasks(svc.ID);
    const live = running(ts).filter((t) => isDesiredAlive(t.DesiredState));
    assert.equal(live.length, 4);
    assert.ok(live.every((t) => image(t) === 'busybox:2'), brief(ts).join(' '));
    assert.ok(minRunning >= 4, `start-first keeps 4 running throughout (saw ${minRunning})`);
    assert.ok(maxStarting <= 2, `at most 2 replacements at once (saw ${maxStarting})`);
    assert.ok(maxStarting >= 1);
    assert.ok(done.UpdateStatus?.StartedAt && done.UpdateStatus.CompletedAt);
    assert.equal(done.PreviousSpec?.TaskTemplate?.ContainerSpec?.Image, 'busybox:1');
  });

  it('rolls back an update whose tasks fail (FailureAction rollback)', async () => {
    await setup();
    lab.workers.outcome = (t) => (image(t) === 'busybox:bad' ? 'fail' : 'run');
    const svc = await lab.createService(replicated('fragile', 3, { UpdateConfig: { Parallelism: 1, Delay: 0, Monitor: 2000 * MS, FailureAction: 'rollback' } }));
    await waitFor('3 running', async () => running(await lab.tasks(svc.ID)).length === 3);
    await lab.updateService(svc.ID, (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { Image: 'busybox:bad' } } }));
    const show = async () => ({ status: (await lab.service(svc.ID))?.UpdateStatus, tasks: brief(await lab.tasks(svc.ID)) });
    const back = await waitFor('rollback completed', async () => {
      const s = await lab.service(svc.ID);
      return s?.UpdateStatus?.State === 'rollback_completed' && s;
    }, show);
    assert.equal(back.Spec.TaskTemplate?.ContainerSpec?.Image, 'busybox:1');
    assert.match(back.UpdateStatus?.Message ?? '', /rollback/);
    const ts = await waitFor('3 running on the old image', async () => {
      const t = running(await lab.tasks(svc.ID)).filter((x) => isDesiredAlive(x.DesiredState));
      return t.length === 3 && t.every((x) => image(x) === 'busybox:1') && t;
    }, show);
    assert.equal(ts.length, 3);
  });

  it('replaces the tasks of a node that goes down, and shuts down its stale tasks when it comes back', async () => {
    await setup();
    const svc = await lab.createService(replicated('ha', 6));
    const show = () => lab.tasks(svc.ID).then(brief);
    await waitFor('6 running, 2 per node', async () => JSON.stringify(perNode(await lab.tasks(svc.ID))) === JSON.stringify({ node1: 2, node2: 2, node3: 2 }), show);

    // The dispatcher would write this after missed heartbeats; the worker is gone meanwhile.
    await lab.workers.setUp('node1', false);
    await lab.updateNode('node1', (n) => (n.Status = { ...n.Status, State: 'down', Message: 'heartbeat failure' }));
    let ts = await waitFor('6 running elsewhere', async () => {
      const t = await lab.tasks(svc.ID);
      const elsewhere = running(t).filter((x) => x.NodeID !== 'node1');
      return elsewhere.length === 6 && t;
    }, show);
    const stale = ts.filter((t) => t.NodeID === 'node1');
    assert.equal(stale.length, 2);
    assert.ok(stale.every((t) => t.DesiredState === 'shutdown' && t.Status.State === 'running'), 'told to stop; nobody has reported yet');

    await lab.updateNode('node1', (n) => (n.Status = { ...n.Status, State: 'ready', Message: '' }));
    await lab.workers.setUp('node1', true);
    ts = await waitFor('stale tasks shut down', async () => {
      const t = await lab.tasks(svc.ID);
      return t.filter((x) => x.NodeID === 'node1').every((x) => x.Status.State === 'shutdown') && t;
    }, show);
    assert.equal(running(ts).length, 6, 'no more than the replicas run after convergence');
    assert.equal(wanted(ts).length, 6);
  });

  it('a new leader carries on a rolling update where the old one stopped, without extra tasks', async () => {
    await setup();
    const svc = await lab.createService(replicated('handover', 4, { UpdateConfig: { Parallelism: 1, Delay: 100 * MS, Monitor: 50 * MS } }));
    await waitFor('4 running', async () => running(await lab.tasks(svc.ID)).length === 4);
    await lab.updateService(svc.ID, (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { Image: 'busybox:2' } } }));
    await waitFor('the first task updated', async () => running(await lab.tasks(svc.ID)).some((t) => image(t) === 'busybox:2'));
    await lab.newLeader();
    const show = async () => ({ status: (await lab.service(svc.ID))?.UpdateStatus, tasks: brief(await lab.tasks(svc.ID)) });
    await waitFor('update completed', async () => (await lab.service(svc.ID))?.UpdateStatus?.State === 'completed', show);
    const ts = await lab.tasks(svc.ID);
    const live = wanted(ts);
    assert.equal(live.length, 4, brief(ts).join(' '));
    assert.ok(live.every((t) => image(t) === 'busybox:2' && t.Status.State === 'running'), brief(ts).join(' '));
    assert.deepEqual(live.map((t) => t.Slot).sort(), [1, 2, 3, 4]);
  });

  it('replaces the tasks of a node that leaves the swarm', async () => {
    await setup();
    const svc = await lab.createService(replicated('moved', 3));
    await waitFor('3 running, one per node', async () => Object.keys(perNode(await lab.tasks(svc.ID))).length === 3);
    await lab.removeNode('node3');
    const ts = await waitFor('3 running on the 2 nodes left', async () => {
      const t = await lab.tasks(svc.ID);
      return running(t).filter((x) => x.NodeID !== 'node3' && isDesiredAlive(x.DesiredState)).length === 3 && t;
    }, () => lab.tasks(svc.ID).then(brief));
    assert.deepEqual(Object.keys(perNode(ts.filter((t) => t.NodeID !== 'node3'))).sort(), ['node1', 'node2']);
  });

  it('runs a replicated job to its total completions, MaxConcurrent at a time', async () => {
    await setup();
    lab.workers.outcome = () => 'complete';
    const svc = await lab.createService({ Name: 'batch', Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox:1' } } });
    let maxAlive = 0;
    const ts = await waitFor('5 completed tasks', async () => {
      const t = await lab.tasks(svc.ID);
      maxAlive = Math.max(maxAlive, t.filter((x) => isDesiredAlive(x.DesiredState) && x.Status.State !== 'complete').length);
      return t.filter((x) => x.Status.State === 'complete').length === 5 && t;
    }, () => lab.tasks(svc.ID).then(brief));
    assert.ok(maxAlive <= 2, `at most 2 at a time (saw ${maxAlive})`);
    await lab.leader.orchestrator.caughtUp(Math.max(...ts.map((t) => t.Version?.Index ?? 0)));
    const after = await lab.tasks(svc.ID);
    assert.equal(after.length, 5, brief(after).join(' '));
    assert.deepEqual(ts.map((t) => t.Slot).sort(), [0, 1, 2, 3, 4]);
  });

  it('trims each slot\'s history to the retention limit', async () => {
    await setup(3);
    let failures = 0;
    lab.workers.outcome = (t) => (failures < 6 && image(t) === 'busybox:1' ? (failures++, 'fail') : 'run');
    const svc = await lab.createService(replicated('flaky', 1));
    const ts = await waitFor('a running task after 6 failures, and history trimmed to 3', async () => {
      const t = await lab.tasks(svc.ID);
      return failures >= 6 && running(t).length === 1 && t.length <= 3 && t;
    }, () => lab.tasks(svc.ID).then(brief));
    assert.equal(ts.length, 3, brief(ts).join(' '));
    assert.deepEqual(ts.map((t) => t.Status.State).sort(), ['failed', 'failed', 'running']);
  });
});


