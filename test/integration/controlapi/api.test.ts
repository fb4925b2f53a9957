import assert from 'node:assert/strict';
import http from 'node:http';
import { Demuxer, StreamType } from '../../../shared/api';
import { ApiError, readAll } from '../../../shared/client';
import type { Node, Service, Task } from '../../../shared/swarm';
import { within } from '../../helpers/etcd';
import { SELF, startHarness, swarmId, testNode, type Harness } from './harness';

const status = (code: number, message?: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, String(e));
  assert.equal(e.status, code, e.message);
  if (typeof message === 'string') assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
  return true;
};

const spec = (extra: Record<string, unknown> = {}) => ({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', Args: ['sleep', '100'] } }, Mode: { Replicated: { Replicas: 2 } }, ...extra });

/** GET on the socket with an explicit API version prefix (the client always sends its own). */
function rawGet(h: Harness, path: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: h.host.slice('unix://'.length), path }, async (res) => {
      resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: await readAll(res) });
    });
    req.on('error', reject);
  });
}

describe('control API over a unix socket, on a real etcd', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
    await h.store.create<Node>('nodes', testNode(SELF, 'self', { role: 'manager', ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '127.0.0.1:2377' } }));
    await h.store.create<Node>('nodes', testNode('workerone0000000000000000', 'w1'));
    await h.store.create<Node>('nodes', testNode('workerdown000000000000000', 'w2', { state: 'down' }));
  });
  after(async () => {
    await h?.destroy();
  });
  afterEach(async () => {
    h.role = 'manager';
    for (const s of (await h.store.list<Service>('services')).items) await h.store.delete('services', s.ID);
    for (const t of (await h.store.list<Task>('tasks')).items) await h.store.delete('tasks', t.ID);
    h.logLines.length = 0;
  });

  describe('off a manager', () => {
    const routes: Array<[string, string]> = [
      ['GET', '/nodes'],
      ['GET', '/nodes/x'],
      ['DELETE', '/nodes/x'],
      ['POST', '/nodes/x/update?version=1'],
      ['GET', '/services'],
      ['POST', '/services/create'],
      ['GET', '/services/x'],
      ['DELETE', '/services/x'],
      ['POST', '/services/x/update?version=1'],
      ['GET', '/services/x/logs?stdout=1'],
      ['GET', '/tasks'],
      ['GET', '/tasks/x'],
      ['GET', '/tasks/x/logs?stdout=1'],
    ];
    for (const role of ['none', 'worker'] as const) {
      it(`every endpoint answers 503 when this node is ${role === 'none' ? 'not in a swarm' : 'a worker'}`, async () => {
        h.role = role;
        const before = await h.snapshot();
        const want =
          role === 'none'
            ? 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
            : "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
        for (const [method, path] of routes) {
          const [p, qs] = path.split('?');
          await assert.rejects(h.client.request(method, p, { query: Object.fromEntries(new URLSearchParams(qs ?? '')), body: method === 'POST' ? spec() : undefined }), status(503, want), `${method} ${path}`);
        }
        assert.equal(await h.snapshot(), before);
      });
    }
  });

  describe('services', () => {
    it('create answers 201 {ID, Warnings}, stores the spec with defaults, and emits an event', async () => {
      const r = await h.client.post<{ ID: string; Warnings: null }>('/services/create', { body: spec({ Labels: { tier: 'front' } }), headers: { 'X-Registry-Auth': 'e30=' } });
      assert.deepEqual(Object.keys(r).sort(), ['ID', 'Warnings']);
      assert.equal(r.Warnings, null);
      const stored = await h.store.get<Service>('services', r.ID);
      assert.equal(stored?.Spec.Name, 'web');
      assert.equal(stored?.Spec.TaskTemplate?.RestartPolicy?.Condition, 'any');
      assert.equal(stored?.Spec.UpdateConfig?.FailureAction, 'pause');
      const got = await h.client.get<Service>(`/services/${r.ID}`);
      assert.deepEqual(got, stored);
      assert.deepEqual(await h.client.get<Service>('/services/web'), stored, 'by name');
      assert.deepEqual(await h.client.get<Service>(`/services/${r.ID.slice(0, 5)}`), stored, 'by prefix');
      assert.ok(h.events.history(0).some((e) => e.Type === 'service' && e.Action === 'create' && e.Actor.ID === r.ID && e.Actor.Attributes.name === 'web' && e.scope === 'swarm'));
    });

    it('a name already in use is 409 and writes nothing', async () => {
      await h.client.post('/services/create', { body: spec() });
      const before = await h.snapshot();
      await assert.rejects(h.client.post('/services/create', { body: spec() }), status(409, 'name conflicts with an existing object: service web already exists'));
      assert.equal(await h.snapshot(), before);
    });

    it('a service without a name gets one', async () => {
      const r = await h.client.post<{ ID: string }>('/services/create', { body: { TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } });
      const s = await h.client.get<Service>(`/services/${r.ID}`);
      assert.match(s.Spec.Name ?? '', /^[a-z]+_[a-z]+$/);
    });

    const badSpecs: Array<[string, Record<string, unknown>, string]> = [
      ['negative replicas', spec({ Mode: { Replicated: { Replicas: -1 } } }), 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got -1'],
      ['non-numeric replicas', spec({ Mode: { Replicated: { Replicas: 'two' } } }), 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got "two"'],
      [
        'a malformed constraint',
        spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.role=manager'] } } }),
        "invalid spec: TaskTemplate.Placement.Constraints[0]: constraint 'node.role=manager' has no operator (expected <key>==<value> or <key>!=<value>)",
      ],
      [
        'a bad duration',
        spec({ UpdateConfig: { Delay: -5 } }),
        'invalid spec: UpdateConfig.Delay: must be a duration in integer nanoseconds (0 or more), got -5',
      ],
      [
        'a duration as text',
        spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Delay: '5s' } } }),
        'invalid spec: TaskTemplate.RestartPolicy.Delay: must be a duration in integer nanoseconds (0 or more), got "5s"',
      ],
      ['an unknown mode', spec({ Mode: { Sometimes: {} } }), 'invalid spec: Mode.Sometimes: unknown mode (expected one of Replicated, Global, ReplicatedJob, GlobalJob)'],
      ['no image', spec({ TaskTemplate: { ContainerSpec: {} } }), 'invalid spec: TaskTemplate.ContainerSpec.Image: must be provided'],
    ];
    for (const [what, body, message] of badSpecs) {
      it(`create refuses ${what} with 400 naming the field, and writes nothing`, async () => {
        const before = await h.snapshot();
        await assert.rejects(h.client.post('/services/create', { body }), status(400, message));
        assert.equal(await h.snapshot(), before);
      });
    }

    it('create refuses a body that is not JSON, a missing network, secret or config', async () => {
      const before = await h.snapshot();
      await assert.rejects(h.client.post('/services/create', { body: Buffer.from('{"Name": '), headers: { 'Content-Type': 'application/json' } }), status(400));
      await assert.rejects(
        h.client.post('/services/create', { body: spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'backend' }] } }) }),
        status(404, 'network backend not found'),
      );
      await assert.rejects(
        h.client.post('/services/create', { body: spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 'abc', SecretName: 'db-pass', File: { Name: 'p' } }] } } }) }),
        status(400, 'secret not found: db-pass'),
      );
      await assert.rejects(
        h.client.post('/services/create', { body: spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox', Configs: [{ ConfigID: 'a', ConfigName: 'c1' }, { ConfigID: 'b', ConfigName: 'c2' }] } } }) }),
        status(400, 'configs not found: c1, c2'),
      );
      assert.equal(await h.snapshot(), before);
    });

    it('networks are named by ID, name or prefix and stored by ID; ingress is refused', async () => {
      const net = { ID: 'net0backend00000000000000', Spec: { Name: 'backend' } };
      const ingress = { ID: 'net0ingress00000000000000', Spec: { Name: 'ingress', Ingress: true } };
      await h.store.create('networks', net);
      await h.store.create('networks', ingress);
      try {
        const r = await h.client.post<{ ID: string }>('/services/create', { body: spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'backend', Aliases: ['db'] }] } }) });
        const s = await h.client.get<Service>(`/services/${r.ID}`);
        assert.deepEqual(s.Spec.TaskTemplate?.Networks, [{ Target: net.ID, Aliases: ['db'] }]);
        await assert.rejects(
          h.client.post('/services/create', { body: spec({ Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'ingress' }] } }) }),
          status(400, 'Service cannot be explicitly attached to the ingress network "ingress"'),
        );
      } finally {
        await h.store.delete('networks', net.ID);
        await h.store.delete('networks', ingress.ID);
      }
    });

    it('update needs the version: missing is 400 naming it, stale is 409 telling to re-read; nothing is written', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec() });
      const s = await h.client.get<Service>(`/services/${ID}`);
      const before = await h.snapshot();
      const next = { ...s.Spec, Mode: { Replicated: { Replicas: 5 } } };
      await assert.rejects(
        h.client.post(`/services/${ID}/update`, { body: next }),
        status(400, "invalid service version '': the version query parameter is required; read the service's current Version.Index (docker service inspect) and send it with the update"),
      );
      await assert.rejects(h.client.post(`/services/${ID}/update`, { body: next, query: { version: 'latest' } }), status(400));
      const v = s.Version!.Index!;
      await assert.rejects(
        h.client.post(`/services/${ID}/update`, { body: next, query: { version: v - 1 } }),
        status(409, `update out of sequence: service ${ID} is at version ${v}, not ${v - 1}; re-read it and apply the change again`),
      );
      assert.equal(await h.snapshot(), before);
    });

    it('update refuses a mode change, a rename and a bad spec, writing nothing', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec() });
      const s = await h.client.get<Service>(`/services/${ID}`);
      const version = s.Version!.Index!;
      const before = await h.snapshot();
      await assert.rejects(
        h.client.post(`/services/${ID}/update`, { body: { ...s.Spec, Mode: { Global: {} } }, query: { version } }),
        status(400, 'service mode change is not allowed (replicated to global); remove the service and create it again'),
      );
      await assert.rejects(h.client.post(`/services/${ID}/update`, { body: { ...s.Spec, Name: 'other' }, query: { version } }), status(400, 'renaming services is not supported'));
      await assert.rejects(
        h.client.post(`/services/${ID}/update`, { body: { ...s.Spec, Mode: { Replicated: { Replicas: -2 } } }, query: { version } }),
        status(400, 'invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got -2'),
      );
      await assert.rejects(h.client.post(`/services/${ID}/update`, { body: s.Spec, query: { version, rollback: 'sideways' } }), status(400, 'unrecognized rollback option sideways'));
      await assert.rejects(h.client.post(`/services/${ID}/update`, { body: s.Spec, query: { version, rollback: 'previous' } }), status(400, `service ${ID} does not have a previous spec`));
      await assert.rejects(h.client.post('/services/nope/update', { body: s.Spec, query: { version } }), status(404, 'service nope not found'));
      assert.equal(await h.snapshot(), before);
    });

    it('update keeps PreviousSpec and honours ForceUpdate; rollback=previous swaps the specs back', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec() });
      const s0 = await h.client.get<Service>(`/services/${ID}`);
      const forced = { ...s0.Spec, TaskTemplate: { ...s0.Spec.TaskTemplate, ForceUpdate: 1 }, Mode: { Replicated: { Replicas: 3 } } };
      const r = await h.client.post<Record<string, unknown>>(`/services/${ID}/update`, { body: forced, query: { version: s0.Version!.Index!, registryAuthFrom: 'spec' } });
      assert.deepEqual(r, {});
      const s1 = await h.client.get<Service>(`/services/${ID}`);
      assert.equal(s1.Spec.TaskTemplate?.ForceUpdate, 1);
      assert.equal(s1.Spec.Mode?.Replicated?.Replicas, 3);
      assert.deepEqual(s1.PreviousSpec, s0.Spec);
      assert.ok(s1.Version!.Index! > s0.Version!.Index!);
      // A rollback ignores the body it is sent.
      await h.client.post(`/services/${ID}/update`, { body: { Name: 'ignored' }, query: { version: s1.Version!.Index!, rollback: 'previous' } });
      const s2 = await h.client.get<Service>(`/services/${ID}`);
      assert.deepEqual(s2.Spec, s0.Spec);
      assert.deepEqual(s2.PreviousSpec, s1.Spec);
      assert.equal(s2.UpdateStatus?.State, 'rollback_started');
      const ev = h.events.history(0).filter((e) => e.Type === 'service' && e.Action === 'update' && e.Actor.ID === ID);
      assert.deepEqual(ev.map((e) => e.Actor.Attributes), [
        { name: 'web', 'replicas.old': '2', 'replicas.new': '3' },
        { name: 'web', 'replicas.old': '3', 'replicas.new': '2', 'updatestate.new': 'rollback_started' },
      ]);
    });

    it('a job gets JobStatus, and each update runs it again as a new iteration', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec({ Name: 'batch', Mode: { ReplicatedJob: { TotalCompletions: 3 } } }) });
      const s0 = await h.client.get<Service>(`/services/${ID}`);
      assert.equal(s0.JobStatus?.JobIteration?.Index, 0);
      await h.client.post(`/services/${ID}/update`, { body: s0.Spec, query: { version: s0.Version!.Index! } });
      const s1 = await h.client.get<Service>(`/services/${ID}`);
      assert.equal(s1.JobStatus?.JobIteration?.Index, 1);
    });

    it('list filters, and ?status=true counts tasks (running only on live nodes)', async () => {
      const { ID: web } = await h.client.post<{ ID: string }>('/services/create', { body: spec({ Labels: { tier: 'front' } }) });
      const { ID: agent } = await h.client.post<{ ID: string }>('/services/create', { body: spec({ Name: 'agent', Mode: { Global: {} } }) });
      const tpl = (await h.store.get<Service>('services', web))!.Spec.TaskTemplate!;
      const mk = (id: string, service: string, node: string, state: Task['Status']['State'], desired: Task['DesiredState'], slot?: number): Task => ({
        ID: id,
        ServiceID: service,
        Slot: slot,
        NodeID: node,
        Spec: tpl,
        Status: { State: state },
        DesiredState: desired,
      });
      await h.store.batch(
        [
          mk('ta', web, SELF, 'running', 'running', 1),
          mk('tb', web, 'workerdown000000000000000', 'running', 'running', 2),
          mk('g1', agent, SELF, 'running', 'running'),
          mk('g2', agent, 'workerone0000000000000000', 'starting', 'running'),
          mk('g3', agent, 'workerone0000000000000000', 'shutdown', 'shutdown'),
        ].map((object) => ({ op: 'create' as const, kind: 'tasks' as const, object })),
      );
      const plain = await h.client.get<Service[]>('/services');
      assert.deepEqual(plain.map((s) => s.Spec.Name).sort(), ['agent', 'web']);
      assert.ok(plain.every((s) => s.ServiceStatus === undefined));
      const withStatus = await h.client.get<Service[]>('/services', { query: { status: 'true' } });
      const byName = new Map(withStatus.map((s) => [s.Spec.Name, s.ServiceStatus]));
      assert.deepEqual(byName.get('web'), { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 });
      assert.deepEqual(byName.get('agent'), { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 });
      const names = async (f: Record<string, string[]>) => (await h.client.get<Service[]>('/services', { query: { filters: JSON.stringify(f) } })).map((s) => s.Spec.Name).sort();
      assert.deepEqual(await names({ mode: ['global'] }), ['agent']);
      assert.deepEqual(await names({ label: ['tier'] }), ['web']);
      assert.deepEqual(await names({ name: ['ag'] }), ['agent']);
      assert.deepEqual(await names({ id: [web.slice(0, 6)] }), ['web']);
      await assert.rejects(h.client.get('/services', { query: { filters: JSON.stringify({ image: ['x'] }) } }), status(400, "invalid filter 'image'"));
    });

    it('delete answers 200, by name too, and a second delete is 404', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec() });
      const res = await h.client.raw('DELETE', '/services/web');
      assert.equal(res.status, 200);
      await readAll(res.stream);
      assert.equal(await h.store.get('services', ID), undefined);
      await assert.rejects(h.client.delete('/services/web'), status(404, 'service web not found'));
      assert.ok(h.events.history(0).some((e) => e.Type === 'service' && e.Action === 'remove' && e.Actor.ID === ID));
    });
  });

  describe('nodes', () => {
    it('list with filters, inspect by ID, hostname or prefix', async () => {
      const ids = async (f: Record<string, string[]>) => (await h.client.get<Node[]>('/nodes', { query: { filters: JSON.stringify(f) } })).map((n) => n.ID).sort();
      assert.deepEqual(await ids({}), [SELF, 'workerdown000000000000000', 'workerone0000000000000000']);
      assert.deepEqual(await ids({ role: ['manager'] }), [SELF]);
      assert.deepEqual(await ids({ name: ['w'] }), ['workerdown000000000000000', 'workerone0000000000000000']);
      await assert.rejects(h.client.get('/nodes', { query: { filters: JSON.stringify({ role: ['boss'] }) } }), status(400, "Invalid role filter: 'boss'"));
      assert.equal((await h.client.get<Node>('/nodes/w1')).ID, 'workerone0000000000000000');
      assert.equal((await h.client.get<Node>('/nodes/workerone')).ID, 'workerone0000000000000000');
      await assert.rejects(h.client.get('/nodes/worker'), status(400, 'node worker is ambiguous (2 matches found)'));
      await assert.rejects(h.client.get('/nodes/zz'), status(404, 'node zz not found'));
    });

    it('update: version required and checked, spec validated, labels and availability written', async () => {
      const n = await h.client.get<Node>('/nodes/w1');
      const v = n.Version!.Index!;
      const before = await h.snapshot();
      await assert.rejects(h.client.post('/nodes/w1/update', { body: n.Spec }), status(400, /^invalid node version '': the version query parameter is required/));
      await assert.rejects(
        h.client.post('/nodes/w1/update', { body: { ...n.Spec, Availability: 'asleep' }, query: { version: v } }),
        status(400, 'invalid node spec: Availability: must be one of active, pause, drain, got "asleep"'),
      );
      await assert.rejects(
        h.client.post('/nodes/w1/update', { body: n.Spec, query: { version: v + 100 } }),
        status(409, `update out of sequence: node ${n.ID} is at version ${v}, not ${v + 100}; re-read it and apply the change again`),
      );
      await assert.rejects(
        h.client.post('/nodes/w1/update', { body: { ...n.Spec, Role: 'manager' }, query: { version: v } }),
        status(501, `promoting node ${n.ID} to manager is not supported by this manager yet`),
      );
      assert.equal(await h.snapshot(), before);
      const res = await h.client.raw('POST', '/nodes/w1/update', { body: { Availability: 'drain', Labels: { zone: 'east' } }, query: { version: v } });
      assert.equal(res.status, 200);
      await readAll(res.stream);
      const after = await h.client.get<Node>('/nodes/w1');
      assert.deepEqual(after.Spec, { Role: 'worker', Availability: 'drain', Labels: { zone: 'east' } });
      assert.ok(h.events.history(0).some((e) => e.Type === 'node' && e.Action === 'update' && e.Actor.Attributes['availability.new'] === 'drain'));
    });

    it('demoting the last manager is refused; promotion goes through the promote callback', async () => {
      const self = await h.client.get<Node>(`/nodes/${SELF}`);
      await assert.rejects(h.client.post(`/nodes/${SELF}/update`, { body: { ...self.Spec, Role: 'worker' }, query: { version: self.Version!.Index! } }), status(400, 'attempting to demote the last manager of the swarm'));
      const asked: string[] = [];
      h.ctx.promote = async (node) => {
        asked.push(node.ID);
      };
      try {
        const w = await h.client.get<Node>('/nodes/w1');
        await h.client.post('/nodes/w1/update', { body: { ...w.Spec, Role: 'manager' }, query: { version: w.Version!.Index! } });
        assert.deepEqual(asked, [w.ID]);
        assert.equal((await h.client.get<Node>('/nodes/w1')).Spec.Role, 'manager');
        const w2 = await h.client.get<Node>('/nodes/w1');
        h.ctx.demote = async () => {
          throw new ApiError(400, 'would lose quorum');
        };
        await assert.rejects(h.client.post('/nodes/w1/update', { body: { ...w2.Spec, Role: 'worker' }, query: { version: w2.Version!.Index! } }), status(400, 'would lose quorum'));
        assert.equal((await h.client.get<Node>('/nodes/w1')).Spec.Role, 'manager', 'a refused demotion writes nothing');
        h.ctx.demote = async () => undefined;
        await h.client.post('/nodes/w1/update', { body: { ...w2.Spec, Role: 'worker' }, query: { version: w2.Version!.Index! } });
        assert.equal((await h.client.get<Node>('/nodes/w1')).Spec.Role, 'worker');
      } finally {
        delete h.ctx.promote;
        delete h.ctx.demote;
      }
    });

    it('remove: a ready node needs force, a manager is refused even with force, a down node goes', async () => {
      const extra = testNode(swarmId(), 'w3');
      await h.store.create('nodes', extra);
      await assert.rejects(h.client.delete(`/nodes/${extra.ID}`), status(400, `node ${extra.ID} is not down and can't be removed`));
      await assert.rejects(
        h.client.delete(`/nodes/${SELF}`, { query: { force: '1' } }),
        status(400, `node ${SELF} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`),
      );
      const res = await h.client.raw('DELETE', `/nodes/${extra.ID}`, { query: { force: 'true' } });
      assert.equal(res.status, 200);
      await readAll(res.stream);
      assert.equal(await h.store.get('nodes', extra.ID), undefined);
      assert.ok(h.events.history(0).some((e) => e.Type === 'node' && e.Action === 'remove' && e.Actor.ID === extra.ID && e.Actor.Attributes.name === 'w3'));
      const down = testNode(swarmId(), 'w4', { state: 'down' });
      await h.store.create('nodes', down);
      await h.client.delete('/nodes/w4');
      assert.equal(await h.store.get('nodes', down.ID), undefined);
    });
  });

  describe('tasks', () => {
    it('list with filters and inspect by ID, name or prefix', async () => {
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body: spec() });
      const tpl = (await h.store.get<Service>('services', ID))!.Spec.TaskTemplate!;
      const t1: Task = { ID: 'tasksone00000000000000000', ServiceID: ID, Slot: 1, NodeID: SELF, Spec: tpl, Status: { State: 'running' }, DesiredState: 'running' };
      const t2: Task = { ID: 'taskstwo00000000000000000', ServiceID: ID, Slot: 2, NodeID: 'workerone0000000000000000', Spec: tpl, Status: { State: 'failed' }, DesiredState: 'shutdown' };
      await h.store.create('tasks', t1);
      await h.store.create('tasks', t2);
      const ids = async (f: Record<string, string[]>) => (await h.client.get<Task[]>('/tasks', { query: { filters: JSON.stringify(f) } })).map((t) => t.ID).sort();
      assert.deepEqual(await ids({ service: ['web'] }), [t1.ID, t2.ID]);
      assert.deepEqual(await ids({ node: ['w1'] }), [t2.ID]);
      assert.deepEqual(await ids({ 'desired-state': ['running'] }), [t1.ID]);
      assert.deepEqual(await ids({ name: ['web.2'] }), [t2.ID]);
      assert.deepEqual(await ids({ '_up-to-date': ['true'], service: [ID] }), [t1.ID, t2.ID]);
      await assert.rejects(h.client.get('/tasks', { query: { filters: JSON.stringify({ service: ['nope'] }) } }), status(404, 'service nope not found'));
      await assert.rejects(h.client.get('/tasks', { query: { filters: JSON.stringify({ 'desired-state': ['x'] }) } }), status(400, "Invalid desired-state filter: 'x'"));
      const got = await h.client.get<Task>(`/tasks/${t1.ID}`);
      assert.equal(got.ID, t1.ID);
      assert.equal(got.Version?.Index, (await h.store.get<Task>('tasks', t1.ID))?.Version?.Index);
      assert.equal((await h.client.get<Task>(`/tasks/web.2.${t2.ID}`)).ID, t2.ID);
      assert.equal((await h.client.get<Task>('/tasks/taskst')).ID, t2.ID);
      await assert.rejects(h.client.get('/tasks/tasks'), status(400, 'task tasks is ambiguous (2 matches found)'));
      await assert.rejects(h.client.get('/tasks/nothing'), status(404, 'task nothing not found'));
    });
  });

  describe('logs (the LogSource here is the harness\'s test stand-in; what is tested is the framing)', () => {
    async function withTask(tty = false) {
      const body = spec({ TaskTemplate: { ContainerSpec: { Image: 'busybox', TTY: tty } } });
      const { ID } = await h.client.post<{ ID: string }>('/services/create', { body });
      const tpl = (await h.store.get<Service>('services', ID))!.Spec.TaskTemplate!;
      const t: Task = { ID: swarmId(), ServiceID: ID, Slot: 1, NodeID: SELF, Spec: tpl, Status: { State: 'running' }, DesiredState: 'running' };
      await h.store.create('tasks', t);
      h.logLines.push(
        { stream: 'stdout', line: Buffer.from('out line\n'), timestamp: '2024-05-06T07:08:09.5Z', serviceId: ID, taskId: t.ID, nodeId: SELF },
        { stream: 'stderr', line: Buffer.from('err line\n'), timestamp: '2024-05-06T07:08:10Z', serviceId: ID, taskId: t.ID, nodeId: SELF },
      );
      return { service: ID, task: t.ID };
    }

    it('service logs: multiplexed stdout/stderr frames with details and timestamps', async () => {
      const { service, task } = await withTask();
      const res = await h.client.raw('GET', `/services/web/logs`, { query: { stdout: '1', stderr: '1', details: '1', timestamps: '1', tail: '5', since: '1714900000' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
      const frames = new Demuxer().push(await readAll(res.stream));
      const ctxText = `com.docker.swarm.node.id=${SELF},com.docker.swarm.service.id=${service},com.docker.swarm.task.id=${task}`;
      assert.deepEqual(
        frames.map((f) => [f.stream, f.data.toString()]),
        [
          [StreamType.Stdout, `2024-05-06T07:08:09.500000000Z ${ctxText} out line\n`],
          [StreamType.Stderr, `2024-05-06T07:08:10.000000000Z ${ctxText} err line\n`],
        ],
      );
      assert.deepEqual(h.logRequests.at(-1), { selector: { serviceId: service }, opts: { follow: false, stdout: true, stderr: true, tail: 5, since: '1714900000' } });
    });

    it('task logs: only the streams asked for; raw stream for a TTY service and for API < 1.42', async () => {
      const { task } = await withTask(true);
      const res = await h.client.raw('GET', `/tasks/${task}/logs`, { query: { stdout: '1' } });
      assert.equal(res.headers['content-type'], 'application/vnd.docker.raw-stream');
      assert.equal((await readAll(res.stream)).toString(), 'out line\n');
      await h.store.delete('services', (await h.store.get<Task>('tasks', task))!.ServiceID);
      h.logLines.length = 0;
      const { task: t2 } = await withTask(false);
      const old = await rawGet(h, `/v1.41/tasks/${t2}/logs?stderr=1`);
      assert.equal(old.type, 'application/vnd.docker.raw-stream');
      assert.deepEqual(new Demuxer().push(old.body).map((f) => [f.stream, f.data.toString()]), [[StreamType.Stderr, 'err line\n']], 'still framed, as dockerd frames it');
    });

    it('bad parameters and unknown targets are refused before streaming', async () => {
      await withTask();
      await assert.rejects(h.client.get('/services/web/logs'), status(400, 'Bad parameters: you must choose at least one stream'));
      await assert.rejects(h.client.get('/services/web/logs', { query: { stdout: '1', tail: '-1' } }), status(400, 'negative tail values not supported'));
      await assert.rejects(h.client.get('/services/nope/logs', { query: { stdout: '1' } }), status(404, 'service nope not found'));
      await assert.rejects(h.client.get('/tasks/nope/logs', { query: { stdout: '1' } }), status(404, 'task nope not found'));
    });

    it('a follow ends when the client goes away', async () => {
      await withTask();
      const ac = new AbortController();
      const res = await h.client.raw('GET', '/services/web/logs', { query: { stdout: '1', follow: '1' }, signal: ac.signal });
      const first = await new Promise<Buffer>((resolve) => res.stream.once('data', resolve));
      assert.equal(new Demuxer().push(first)[0].data.toString(), 'out line\n');
      const ended = h.logsEnded;
      ac.abort();
      res.stream.destroy();
      // The handler stops reading: the source's iteration is closed (its signal aborted).
      await within(h.waitFor(() => h.logsEnded > ended));
    });
  });
});
