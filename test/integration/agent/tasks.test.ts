// Swarm tasks driven into containers on the real engine (crun + conmon + overlayfs, busybox),
// through the TaskManager the worker agent runs.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { EventBus } from '../../../shared/events';
import { stateRank, type ContainerSpec, type TaskState, type TaskStatus } from '../../../shared/swarm';
import { ImageStore } from '../../../worker/engine/images';
import { Distribution } from '../../../worker/engine/registry';
import { TaskManager, TASK_ID_LABEL, type AgentTask, type TaskEngine } from '../../../worker/agent/tasks';
import { busyboxRootfs } from '../../helpers/daemon';
import { registryAvailable, startRegistry, type TestRegistry } from '../../helpers/registry';
import { makeStack, type Stack } from '../containers/fixture';

const NODE = { ID: 'node-a1' };
const SLEEP: ContainerSpec = { Image: 'busybox', Command: ['sleep', '300'], StopGracePeriod: 1e9 };
/**
 * Ends at once on SIGTERM (a shell as PID 1 ignores the signal unless it traps it). Its health
 * check passes once the trap is set, so RUNNING means a stop is answered with exit 0.
 */
const TRAPPING: ContainerSpec = {
  Image: 'busybox',
  Command: ['sh', '-c', 'trap "exit 0" TERM; touch /tmp/trapped; while true; do sleep 0.1; done'],
  Healthcheck: { Test: ['CMD', 'test', '-f', '/tmp/trapped'], Interval: 100e6, Timeout: 2e9, Retries: 50 },
  StopGracePeriod: 5e9,
};

/** Every status each task reported, in order; waits for a status to satisfy a predicate. */
class Reports {
  readonly byTask = new Map<string, TaskStatus[]>();
  private waiters: Array<() => void> = [];

  constructor(m: TaskManager) {
    m.onStatus(({ taskId, status }) => {
      const list = this.byTask.get(taskId) ?? [];
      list.push(status);
      this.byTask.set(taskId, list);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  states(taskId: string): TaskState[] {
    return (this.byTask.get(taskId) ?? []).map((s) => s.State);
  }

  latest(taskId: string): TaskStatus | undefined {
    return this.byTask.get(taskId)?.at(-1);
  }

  async until(taskId: string, pred: (s: TaskStatus) => boolean): Promise<TaskStatus> {
    for (;;) {
      const hit = (this.byTask.get(taskId) ?? []).find(pred);
      if (hit) return hit;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  state(taskId: string, state: TaskState): Promise<TaskStatus> {
    return this.until(taskId, (s) => s.State === state);
  }
}

function assertForward(states: TaskState[]): void {
  for (let i = 1; i < states.length; i++) assert.ok(stateRank(states[i]) >= stateRank(states[i - 1]), `state moved backwards: ${states.join(' -> ')}`);
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

describe('agent/tasks: tasks become containers on the real engine', function () {
  this.timeout(90_000);
  let s: Stack;
  let engine: TaskEngine;
  let managers: TaskManager[] = [];
  const tag = randomBytes(3).toString('hex');
  let n = 0;

  function task(spec: ContainerSpec, over: Partial<AgentTask> = {}): AgentTask {
    n++;
    return {
      ID: `t${tag}x${n}`,
      ServiceID: `svc${tag}${n}`,
      ServiceAnnotations: { Name: `web${n}` },
      Slot: 1,
      NodeID: NODE.ID,
      Spec: { ContainerSpec: spec },
      Status: { State: 'assigned', Message: 'scheduler assigned task to node' },
      DesiredState: 'running',
      ...over,
    };
  }

  async function manager(e: TaskEngine = engine, resyncMs?: number): Promise<{ m: TaskManager; r: Reports }> {
    const m = new TaskManager({ engine: e, node: NODE, resyncMs });
    const r = new Reports(m);
    managers.push(m);
    await m.start();
    return { m, r };
  }

  async function taskContainers(): Promise<Array<Record<string, unknown>>> {
    return s.cm.list({ all: true, filters: new Map([['label', [TASK_ID_LABEL]]]) });
  }

  before(async () => {
    s = await makeStack();
    const distribution = new Distribution({ store: s.images, timeoutMs: 10_000 });
    // The stack's container manager changes when a test reopens it (a daemon restart).
    engine = {
      get containers() {
        return s.cm;
      },
      images: s.images,
      distribution,
      events: s.events,
    };
  });

  afterEach(async () => {
    for (const m of managers) await m.close();
    managers = [];
    for (const c of await taskContainers()) await s.cm.remove(c.Id as string, { force: true, volumes: true });
  });

  after(async () => {
    await s?.destroy();
  });

  it('runs a task to RUNNING in a container named and labelled as swarm does, with its limits', async () => {
    const { m, r } = await manager();
    const t = task(SLEEP, {
      ServiceAnnotations: { Name: 'web', Labels: { 'com.docker.stack.namespace': 'shop' } },
      Slot: 3,
      Spec: { ContainerSpec: { ...SLEEP, Labels: { app: 'x' }, Env: ['MODE=test'], Hostname: '{{.Service.Name}}-{{.Task.Slot}}' }, Resources: { Limits: { MemoryBytes: 64 << 20, NanoCPUs: 5e8, Pids: 64 } } },
    });
    m.update([t]);
    const running = await r.state(t.ID, 'running');
    assert.deepEqual(r.states(t.ID), ['accepted', 'preparing', 'ready', 'starting', 'running']);
    assert.deepEqual(
      r.byTask.get(t.ID)!.map((x) => x.Message),
      ['accepted', 'preparing', 'prepared', 'starting', 'started'],
    );
    assert.ok(running.Timestamp && !Number.isNaN(Date.parse(running.Timestamp)));
    const id = running.ContainerStatus!.ContainerID!;
    const rec = s.cm.get(id);
    assert.equal(rec.Name, `/web.3.${t.ID}`);
    assert.equal(running.ContainerStatus!.PID, rec.State.Pid);
    assert.ok(rec.State.Running);
    assert.deepEqual(
      Object.fromEntries(Object.entries(rec.Config.Labels).filter(([k]) => k === 'app' || k.startsWith('com.docker.'))),
      {
        app: 'x',
        'com.docker.stack.namespace': 'shop',
        'com.docker.swarm.task': '',
        'com.docker.swarm.task.id': t.ID,
        'com.docker.swarm.task.name': `web.3.${t.ID}`,
        'com.docker.swarm.node.id': NODE.ID,
        'com.docker.swarm.service.id': t.ServiceID,
        'com.docker.swarm.service.name': 'web',
      },
    );
    assert.ok(rec.Config.Env.includes('MODE=test'));
    assert.equal(rec.Config.Hostname, 'web-3', 'service templates are expanded on the node');
    assert.equal(rec.HostConfig.Memory, 64 << 20);
    assert.equal(rec.HostConfig.NanoCpus, 5e8);
    assert.equal(rec.HostConfig.PidsLimit, 64);
    assert.equal(rec.HostConfig.RestartPolicy.Name, 'no');
    assert.deepEqual(m.task(t.ID)?.Status.State, 'running');
    // The dispatcher's queue holds one (the latest) report for the task.
    const batch = await m.statuses.next();
    assert.deepEqual(batch.updates.filter((u) => u.taskId === t.ID).map((u) => u.status.State), ['running']);
    batch.ack();
  });

  it('ends COMPLETE for exit 0 and FAILED with the exit code otherwise', async () => {
    const { m, r } = await manager();
    const ok = task({ Image: 'busybox', Command: ['true'] });
    const bad = task({ Image: 'busybox', Command: ['false'] });
    m.update([ok, bad]);
    const done = await r.state(ok.ID, 'complete');
    assert.equal(done.Message, 'finished');
    assert.equal(done.ContainerStatus?.ExitCode, 0);
    const failed = await r.state(bad.ID, 'failed');
    assert.equal(failed.Err, 'task: non-zero exit (1)');
    assert.equal(failed.ContainerStatus?.ExitCode, 1);
    assert.ok(failed.ContainerStatus?.ContainerID);
    for (const id of [ok.ID, bad.ID]) {
      assertForward(r.states(id));
      assert.ok(r.states(id).includes('running'), `${id}: ${r.states(id).join(',')}`);
    }
    // What the dispatcher client drains: each task's latest status (older ones were coalesced away).
    const last = new Map<string, TaskState>();
    const ac = new AbortController();
    for await (const batch of m.statusUpdates(ac.signal)) {
      for (const u of batch) last.set(u.taskId, u.status.State);
      if (last.get(ok.ID) === 'complete' && last.get(bad.ID) === 'failed') ac.abort();
    }
    assert.equal(m.statuses.size, 0);
    // The engine must not restart it: the orchestrator replaces failed tasks.
    assert.equal(s.cm.get(failed.ContainerStatus!.ContainerID!).State.Status, 'exited');
  });

  it('reports RUNNING only once the health check passes, and FAILED when it fails', async () => {
    const { m, r } = await manager();
    const healthy = task({
      Image: 'busybox',
      Command: ['sh', '-c', 'sleep 1; touch /tmp/ok; exec sleep 300'],
      Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 100e6, Timeout: 2e9, Retries: 100 },
      StopGracePeriod: 1e9,
    });
    const sick = task({ Image: 'busybox', Command: ['sleep', '300'], Healthcheck: { Test: ['CMD', 'false'], Interval: 100e6, Timeout: 2e9, Retries: 2 }, StopGracePeriod: 1e9 });
    let healthWhenRunning: string | undefined;
    m.onStatus(({ taskId, status }) => {
      if (taskId === healthy.ID && status.State === 'running') healthWhenRunning = s.cm.get(status.ContainerStatus!.ContainerID!).State.Health?.Status;
    });
    m.update([healthy, sick]);
    await r.state(healthy.ID, 'running');
    assert.equal(healthWhenRunning, 'healthy');
    assert.deepEqual(r.states(healthy.ID).slice(-2), ['starting', 'running']);
    const failed = await r.state(sick.ID, 'failed');
    assert.match(failed.Err ?? '', /^task: non-zero exit \(\d+\): unhealthy container$/);
    assert.ok(!r.states(sick.ID).includes('running'), r.states(sick.ID).join(','));
    assert.equal(s.cm.get(failed.ContainerStatus!.ContainerID!).State.Running, false, 'the unhealthy container is stopped');
  });

  it('stops the container for DesiredState SHUTDOWN, removes it for REMOVE', async () => {
    const { m, r } = await manager();
    const t = task(TRAPPING);
    m.update([t]);
    const running = await r.state(t.ID, 'running');
    const id = running.ContainerStatus!.ContainerID!;
    m.apply({ updated: [{ ...t, DesiredState: 'shutdown' }] });
    const down = await r.state(t.ID, 'shutdown');
    assert.equal(down.Message, 'shutdown');
    assert.equal(down.ContainerStatus?.ExitCode, 0);
    assert.equal(s.cm.get(id).State.Status, 'exited');
    // A stale copy with an older DesiredState does not bring it back.
    m.apply({ updated: [{ ...t, DesiredState: 'running' }] });
    await m.resync();
    assert.equal(m.task(t.ID)?.Status.State, 'shutdown');
    assert.equal(m.task(t.ID)?.DesiredState, 'shutdown');
    m.apply({ updated: [{ ...t, DesiredState: 'remove' }] });
    await until(async () => (await taskContainers()).length === 0);
    assertForward(r.states(t.ID));
  });

  it('shuts down and removes the containers of tasks that leave the assignment set', async () => {
    const { m, r } = await manager();
    const keep = task(TRAPPING);
    const gone = task(TRAPPING);
    m.update([keep, gone]);
    await r.state(keep.ID, 'running');
    const goneId = (await r.state(gone.ID, 'running')).ContainerStatus!.ContainerID!;
    m.update([keep]);
    await until(async () => !(await taskContainers()).some((c) => c.Id === goneId));
    assert.equal(m.task(gone.ID), undefined);
    assert.equal((await taskContainers()).length, 1);
    assert.ok(!m.statuses.snapshot().some((u) => u.taskId === gone.ID), 'no reports for a task the manager dropped');
  });

  it('notices an exit without any engine event at the periodic resync', async () => {
    // A bus nobody publishes to: only the resync can see the container end.
    const quiet: TaskEngine = { containers: engine.containers, images: engine.images, distribution: engine.distribution, events: new EventBus() };
    const { m, r } = await manager(quiet, 200);
    const t = task(SLEEP);
    m.update([t]);
    const id = (await r.state(t.ID, 'running')).ContainerStatus!.ContainerID!;
    await s.cm.kill(id, 'SIGKILL');
    const failed = await r.state(t.ID, 'failed');
    assert.equal(failed.Err, 'task: non-zero exit (137)');
  });

  it('publishes host-mode ports and reports them in PortStatus', async () => {
    const { m, r } = await manager();
    const t = task(TRAPPING, { Endpoint: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' }] } });
    m.update([t]);
    const running = await r.state(t.ID, 'running');
    const ports = running.PortStatus?.Ports ?? [];
    assert.equal(ports.length, 1);
    assert.equal(ports[0].TargetPort, 80);
    assert.equal(ports[0].PublishMode, 'host');
    const bound = s.cm.get(running.ContainerStatus!.ContainerID!).NetworkSettings.Ports['80/tcp']?.[0]?.HostPort;
    assert.ok(bound && Number(bound) > 0);
    assert.equal(ports[0].PublishedPort, Number(bound));
  });

  it('rejects a task whose container the engine refuses, with a one-line error', async () => {
    const { m, r } = await manager();
    const t = task({ Image: 'busybox', Command: ['true'], Mounts: [{ Type: 'bind', Source: '/nonexistent-shoal-path', Target: '/x' }] });
    m.update([t]);
    const rejected = await r.state(t.ID, 'rejected');
    assert.ok(rejected.Err && !rejected.Err.includes('\n'), rejected.Err);
    assert.match(rejected.Err!, /nonexistent-shoal-path/);
    assert.equal((await taskContainers()).length, 0);
  });

  it('adopts its running containers after a restart instead of creating duplicates', async () => {
    const first = await manager();
    const known = task(TRAPPING); // the manager saw it RUNNING
    const unreported = task(TRAPPING); // RUNNING here, but the report never reached the manager
    const stray = task(TRAPPING); // no longer assigned after the restart
    const died = task(SLEEP); // killed while no agent watched
    first.m.update([known, unreported, stray, died]);
    const knownStatus = await first.r.state(known.ID, 'running');
    const unreportedId = (await first.r.state(unreported.ID, 'running')).ContainerStatus!.ContainerID!;
    const strayId = (await first.r.state(stray.ID, 'running')).ContainerStatus!.ContainerID!;
    const diedStatus = await first.r.state(died.ID, 'running');
    await first.m.close();
    assert.equal((await taskContainers()).filter((c) => c.State === 'running').length, 4, 'close() leaves containers running');
    await s.cm.kill(diedStatus.ContainerStatus!.ContainerID!, 'SIGKILL');

    // The daemon restarts: a new container manager adopts the containers, then a new agent.
    await s.reopen();
    const second = await manager();
    // Until the dispatcher sends the set, nothing is touched.
    await second.m.resync();
    assert.equal((await taskContainers()).length, 4);
    second.m.update([{ ...known, Status: knownStatus }, unreported, { ...died, Status: diedStatus }]);
    const again = await second.r.state(known.ID, 'running');
    assert.equal(again.ContainerStatus?.ContainerID, knownStatus.ContainerStatus?.ContainerID);
    assert.equal(again.Timestamp, knownStatus.Timestamp, 'same state: its timestamp stays');
    const caughtUp = await second.r.state(unreported.ID, 'running');
    assert.equal(caughtUp.ContainerStatus?.ContainerID, unreportedId);
    assert.equal((await second.r.state(died.ID, 'failed')).Err, 'task: non-zero exit (137)');
    await until(async () => !(await taskContainers()).some((c) => c.Id === strayId));
    const left = await taskContainers();
    assert.deepEqual(left.map((c) => (c.Labels as Record<string, string>)[TASK_ID_LABEL]).sort(), [known.ID, unreported.ID, died.ID].sort(), 'one container per task, no duplicates');
    assert.deepEqual(left.map((c) => c.State).sort(), ['exited', 'running', 'running']);
  });

  describe('images from a registry', () => {
    let reg: TestRegistry | undefined;
    let tmp: string | undefined;
    let ref = '';
    let imageId = '';

    before(async function () {
      if (!registryAvailable()) return this.skip();
      reg = await startRegistry();
      // Another node's store builds and pushes an image this node has never seen.
      tmp = await fs.mkdtemp(join(tmpdir(), 'shoal-agent-reg-'));
      const other = await ImageStore.open({ root: join(tmp, 'images'), events: new EventBus() });
      ref = `${reg.domain}/agent/app:${tag}`;
      imageId = await other.importRootfs(Readable.from([await busyboxRootfs()]), { repo: `${reg.domain}/agent/app`, tag, changes: [`LABEL marker=${tag}`, 'CMD ["sleep", "300"]'] });
      for await (const msg of new Distribution({ store: other }).push(`${reg.domain}/agent/app`, tag)) if (msg.errorDetail) throw new Error(msg.errorDetail.message);
    });

    after(async () => {
      await reg?.destroy();
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
      if (imageId) await s.images.remove(imageId, { force: true }).catch(() => undefined);
    });

    it('pulls a missing image from the registry named in the reference', async () => {
      assert.throws(() => s.images.resolve(ref));
      const { m, r } = await manager();
      const t = task({ Image: ref, StopGracePeriod: 1e9 });
      m.update([t]);
      const running = await r.state(t.ID, 'running');
      assert.equal(s.images.resolve(ref).id, imageId);
      assert.equal(s.cm.get(running.ContainerStatus!.ContainerID!).Image, imageId);
    });

    it('rejects the task when the image is in no registry', async () => {
      const { m, r } = await manager();
      const missing = `${reg!.domain}/agent/missing:${tag}`;
      const t = task({ Image: missing });
      m.update([t]);
      const rejected = await r.state(t.ID, 'rejected');
      assert.equal(rejected.Err, `No such image: ${missing}`);
      assert.equal(rejected.Message, 'preparing');
      assert.deepEqual(r.states(t.ID), ['accepted', 'preparing', 'rejected']);
      assert.equal((await taskContainers()).length, 0);
    });
  });
});
