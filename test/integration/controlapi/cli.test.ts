import assert from 'node:assert/strict';
import type { Node, Service, Task } from '../../../shared/swarm';
import { SELF, startHarness, testNode, type Harness } from './harness';

// The stock docker CLI 28, unchanged, against the control API. No orchestrator runs here: the
// tasks `service ps` shows are written into the store by the test, and `service create` runs
// with -d (without it the CLI waits for the service to converge).
describe('stock docker CLI against the control API', function () {
  this.timeout(120_000);
  let h: Harness;
  const W1 = 'workerone0000000000000000';

  before(async () => {
    h = await startHarness();
    await h.store.create<Node>('nodes', testNode(SELF, 'self', { role: 'manager', ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '127.0.0.1:2377' } }));
    await h.store.create<Node>('nodes', testNode(W1, 'w1'));
  });
  after(async () => {
    await h?.destroy();
  });

  async function ok(...args: string[]): Promise<string> {
    const r = await h.dk(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function fails(args: string[], message: string): Promise<void> {
    const r = await h.dk(...args);
    assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
    assert.equal(r.stderr.trim(), `Error response from daemon: ${message}`);
  }

  async function addTask(serviceId: string, id: string, slot: number, node: string | undefined, state: Task['Status']['State'], desired: Task['DesiredState'], err?: string): Promise<void> {
    const svc = (await h.store.get<Service>('services', serviceId))!;
    const at = new Date(Date.now() - 3_600_000).toISOString();
    await h.store.create<Task>('tasks', { ID: id, ServiceID: serviceId, Slot: slot, NodeID: node, Spec: svc.Spec.TaskTemplate!, Status: { State: state, Timestamp: at, Message: state, ...(err ? { Err: err } : {}) }, DesiredState: desired });
  }

  describe('services', () => {
    let id: string;

    it('service create -d prints the new ID', async () => {
      id = (await ok('service', 'create', '-d', '--name', 'web', '--replicas', '2', '--label', 'tier=front', '--constraint', 'node.role==worker', 'busybox', 'sleep', '100')).trim();
      assert.match(id, /^[0-9a-z]{25}$/);
      const s = (await h.store.get<Service>('services', id))!;
      assert.equal(s.Spec.Name, 'web');
      assert.deepEqual(s.Spec.TaskTemplate?.ContainerSpec?.Args, ['sleep', '100']);
      assert.deepEqual(s.Spec.TaskTemplate?.Placement?.Constraints, ['node.role==worker']);
    });

    it('service ls shows the replica counts from ?status=true', async () => {
      assert.equal(await ok('service', 'ls', '--format', '{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}'), 'web replicated 0/2 busybox:latest\n');
      await addTask(id, 'taskone000000000000000000', 1, SELF, 'running', 'running');
      await addTask(id, 'tasktwo000000000000000000', 2, W1, 'rejected', 'shutdown', 'no such image');
      await addTask(id, 'taskthree0000000000000000', 2, undefined, 'pending', 'running', 'no suitable node');
      assert.equal(await ok('service', 'ls', '--format', '{{.Name}} {{.Replicas}}'), 'web 1/2\n');
      assert.equal(await ok('service', 'ls', '-q', '--filter', 'label=tier=front'), `${id.slice(0, 12)}\n`);
      assert.equal(await ok('service', 'ls', '-q', '--filter', 'mode=global'), '');
    });

    it('service inspect and service ps', async () => {
      assert.equal(await ok('service', 'inspect', '--format', '{{.ID}} {{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels "tier"}}', 'web'), `${id} 2 front\n`);
      const ps = await ok('service', 'ps', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Node}} {{.DesiredState}} {{.Error}}', 'web');
      assert.deepEqual(ps.trim().split('\n').map((l) => l.trimEnd()).sort(), [
        'taskone000000000000000000 web.1 self Running',
        'taskthree0000000000000000 web.2  Running "no suitable node"',
        'tasktwo000000000000000000 web.2 w1 Shutdown "no such image"',
      ]);
      // The default table shows the earlier task of a slot under the current one.
      assert.match(await ok('service', 'ps', 'web'), /\n\S+\s+\\_ web\.2\s+busybox:latest\s+w1\s+Shutdown\s+Rejected about an hour ago\s+"no such image"/);
      const running = await ok('service', 'ps', '-q', '--no-trunc', '-f', 'desired-state=running', 'web');
      assert.deepEqual(running.trim().split('\n').sort(), ['taskone000000000000000000', 'taskthree0000000000000000']);
      assert.equal(await ok('node', 'ps', '-q', '--no-trunc', 'w1'), 'tasktwo000000000000000000\n');
    });

    it('service update, update --force, rollback and scale', async () => {
      assert.equal(await ok('service', 'update', '-d', '--replicas', '3', 'web'), 'web\n');
      assert.equal(await ok('service', 'update', '-d', '--force', 'web'), 'web\n');
      const fmt = '{{.Spec.Mode.Replicated.Replicas}} {{.Spec.TaskTemplate.ForceUpdate}} {{.PreviousSpec.TaskTemplate.ForceUpdate}}';
      assert.equal(await ok('service', 'inspect', '--format', fmt, 'web'), '3 1 0\n');
      assert.equal(await ok('service', 'rollback', '-d', 'web'), 'web\n');
      assert.equal(await ok('service', 'inspect', '--format', `${fmt} {{.UpdateStatus.State}}`, 'web'), '3 0 1 rollback_started\n');
      assert.match(await ok('service', 'scale', '-d', 'web=5'), /^web scaled to 5\n/);
      assert.equal(await ok('service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', 'web'), '5\n');
    });

    it('bad input is refused with the daemon\'s message, and nothing is written', async () => {
      const before = await h.snapshot();
      await fails(['service', 'create', '-d', '--name', 'web', 'busybox'], 'name conflicts with an existing object: service web already exists');
      await fails(
        ['service', 'create', '-d', '--name', 'bad', '--constraint', 'node.hostname=x', 'busybox'],
        "invalid spec: TaskTemplate.Placement.Constraints[0]: constraint 'node.hostname=x' has no operator (expected <key>==<value> or <key>!=<value>)",
      );
      await fails(
        ['service', 'create', '-d', '--name', 'bad', '--constraint', 'node.colour==red', 'busybox'],
        "invalid spec: TaskTemplate.Placement.Constraints[0]: constraint 'node.colour==red': key 'node.colour' is not supported (expected one of node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>)",
      );
      await fails(['service', 'create', '-d', '--name', 'bad name', 'busybox'], 'invalid spec: Name: must be a valid DNS name component (letters, digits, \'-\' and \'_\', starting and ending with a letter or digit), got "bad name"');
      await fails(['service', 'update', '-d', '--replicas', '1', 'nope'], 'service nope not found');
      assert.equal(await h.snapshot(), before);
    });

    it('service logs: the CLI prints svc.slot.task@node | line from the details (stand-in LogSource)', async () => {
      h.logLines.push(
        { stream: 'stdout', line: Buffer.from('hello\n'), timestamp: '2024-01-02T03:04:05.123456789Z', serviceId: id, taskId: 'taskone000000000000000000', nodeId: SELF },
        { stream: 'stderr', line: Buffer.from('trouble\n'), timestamp: '2024-01-02T03:04:06Z', serviceId: id, taskId: 'tasktwo000000000000000000', nodeId: W1 },
      );
      const r = await h.dk('service', 'logs', 'web');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'web.1.taskone00000@self    | hello\n');
      assert.equal(r.stderr, 'web.2.tasktwo00000@w1    | trouble\n');
      const t = await h.dk('service', 'logs', '--timestamps', '--no-task-ids', 'web');
      assert.equal(t.stdout, '2024-01-02T03:04:05.123456789Z web.1@self    | hello\n');
      const raw = await h.dk('service', 'logs', '--raw', 'web');
      assert.equal(raw.stdout + raw.stderr, 'hello\ntrouble\n');
      const task = await h.dk('service', 'logs', 'taskone');
      assert.equal(task.stdout, 'web.1.taskone00000@self    | hello\n');
    });

    it('service rm', async () => {
      assert.equal(await ok('service', 'rm', 'web'), 'web\n');
      assert.equal(await h.store.get('services', id), undefined);
      assert.equal(await ok('service', 'ls', '-q'), '');
    });
  });

  describe('nodes', () => {
    it('node ls and inspect', async () => {
      const ls = await ok('node', 'ls', '--format', '{{.ID}} {{.Self}} {{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}');
      assert.deepEqual(ls.trim().split('\n').map((l) => l.trimEnd()).sort(), [`${SELF} true self Ready Active Leader`, `${W1} false w1 Ready Active`]);
      assert.equal(await ok('node', 'inspect', '--format', '{{.ID}} {{.Description.Hostname}}', 'w1'), `${W1} w1\n`);
      assert.equal(await ok('node', 'inspect', '--format', '{{.ID}}', 'self'), `${SELF}\n`);
    });

    it('node update writes availability and labels', async () => {
      assert.equal(await ok('node', 'update', '--availability', 'drain', '--label-add', 'zone=east', 'w1'), 'w1\n');
      assert.equal(await ok('node', 'inspect', '--format', '{{.Spec.Availability}} {{.Spec.Labels.zone}}', 'w1'), 'drain east\n');
      assert.equal(await ok('node', 'ls', '-q', '--filter', 'node.label=zone=east'), `${W1}\n`);
      assert.equal(await ok('node', 'update', '--label-rm', 'zone', '--availability', 'active', 'w1'), 'w1\n');
      assert.equal(await ok('node', 'inspect', '--format', '{{.Spec.Availability}} {{len .Spec.Labels}}', 'w1'), 'active 0\n');
    });

    it('promote, demote and rm refusals carry the daemon\'s message', async () => {
      const before = await h.snapshot();
      await fails(['node', 'promote', 'w1'], `promoting node ${W1} to manager is not supported by this manager yet`);
      await fails(['node', 'demote', 'self'], 'attempting to demote the last manager of the swarm');
      await fails(['node', 'rm', 'w1'], `node ${W1} is not down and can't be removed`);
      await fails(['node', 'rm', '--force', 'self'], `node ${SELF} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
      assert.equal(await h.snapshot(), before);
      assert.equal(await ok('node', 'rm', '--force', 'w1'), 'w1\n');
      assert.equal(await h.store.get('nodes', W1), undefined);
    });
  });
});
