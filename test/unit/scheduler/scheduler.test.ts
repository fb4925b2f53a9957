import assert from 'node:assert/strict';
import { NodeInfoSet, scheduleBatch, type NodeView, type TaskView } from '../../../manager/scheduler';
import { node, task, tasks, perNode, GiB, type NodeOpts } from './fixtures';

const nodesOf = (...specs: Array<[string, NodeOpts?]>): NodeView[] => specs.map(([id, o]) => node(id, o));
const running = (id: string, nodeId: string, service = 'svc') => task(id, { node: nodeId, service });
const counts = (m: Map<string, number>, ids: string[]) => ids.map((id) => m.get(id) ?? 0);

describe('scheduler: spreading a service', () => {
  it('spreads tasks evenly over empty nodes', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c']));
    const r = scheduleBatch(tasks(6, 't'), set);
    assert.deepEqual(r.unassigned, []);
    assert.deepEqual(counts(perNode(r.assigned), ['a', 'b', 'c']), [2, 2, 2]);
  });

  it('breaks ties by node ID, whatever order the nodes came in', () => {
    const set = new NodeInfoSet(nodesOf(['c'], ['a'], ['b']));
    assert.deepEqual(scheduleBatch(tasks(2, 't'), set).assigned, [
      { taskId: 't0', nodeId: 'a' },
      { taskId: 't1', nodeId: 'b' },
    ]);
  });

  it('fills the nodes with fewest tasks of the service first', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c']), [running('x1', 'a'), running('x2', 'a'), running('x3', 'b')]);
    const r = scheduleBatch(tasks(4, 't'), set);
    // c catches up with b, then b and c catch up with a, then a.
    assert.deepEqual(r.assigned.map((a) => a.nodeId), ['c', 'b', 'c', 'a']);
  });

  it('prefers fewer tasks overall when the service is even', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c']), [running('o1', 'a', 'other'), running('o2', 'a', 'other'), running('o3', 'b', 'other')]);
    assert.deepEqual(scheduleBatch(tasks(3, 't'), set).assigned.map((a) => a.nodeId), ['c', 'b', 'a']);
  });

  it('ends balanced: 1000 tasks over 100 nodes, max-min <= 1', () => {
    const set = new NodeInfoSet(Array.from({ length: 100 }, (_, i) => node(`n${String(i).padStart(3, '0')}`)));
    const r = scheduleBatch(tasks(1000, 't'), set);
    assert.equal(r.assigned.length, 1000);
    const per = [...perNode(r.assigned).values()];
    assert.equal(per.length, 100);
    assert.ok(Math.max(...per) - Math.min(...per) <= 1, `spread ${Math.min(...per)}..${Math.max(...per)}`);
    assert.equal(set.all().reduce((s, n) => s + n.serviceTasks('svc'), 0), 1000);
  });

  it('evens out an uneven start and keeps two services each balanced', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const held = Array.from({ length: 20 }, (_, i) => running(`old${i}`, ids[i % 3]));
    const set = new NodeInfoSet(ids.map((id) => node(id)), held);
    const mixed = [...tasks(80, 'a'), ...tasks(35, 'b', { service: 'web' })];
    const r = scheduleBatch(mixed, set);
    assert.equal(r.assigned.length, 115);
    for (const svc of ['svc', 'web']) {
      const per = set.all().map((n) => n.serviceTasks(svc));
      assert.ok(Math.max(...per) - Math.min(...per) <= 1, `${svc}: ${per}`);
    }
  });

  it('gives the same answer for the same input', () => {
    const make = (order: string[]) => new NodeInfoSet(order.map((id) => node(id, { labels: { z: id < 'c' ? 'x' : 'y' } })));
    const batch = [...tasks(7, 't', { spread: ['node.labels.z'] }), ...tasks(5, 'u', { service: 'u', cpus: 1 })];
    const one = scheduleBatch(batch, make(['a', 'b', 'c', 'd', 'e']));
    const two = scheduleBatch(batch, make(['e', 'c', 'a', 'd', 'b']));
    assert.deepEqual(one, two);
  });

  it('places a task listed twice once', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b']));
    const t = task('t');
    const r = scheduleBatch([t, t], set);
    assert.equal(r.assigned.length, 1);
    assert.equal(set.get(r.assigned[0].nodeId)!.activeTasksCount, 1);
  });

  it('records assignments so the next batch spreads on from them, and forgets uncommitted ones', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c']));
    const first = scheduleBatch(tasks(2, 'p'), set);
    assert.deepEqual(first.assigned.map((a) => a.nodeId), ['a', 'b']);
    set.removeTask('p1'); // its commit failed; b is free again
    assert.deepEqual(scheduleBatch(tasks(2, 'q'), set).assigned.map((a) => a.nodeId), ['b', 'c']);
  });
});

describe('scheduler: spread preferences', () => {
  // zone=a: three nodes; zone=b: one node; one node without the label (its own group).
  const zoned = () =>
    new NodeInfoSet(nodesOf(['a1', { labels: { zone: 'a' } }], ['a2', { labels: { zone: 'a' } }], ['a3', { labels: { zone: 'a' } }], ['b1', { labels: { zone: 'b' } }], ['nolabel']));

  it('splits evenly across label values first, then across nodes of a value', () => {
    const set = zoned();
    const r = scheduleBatch(tasks(9, 't', { spread: ['node.labels.zone'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a1', 'a2', 'a3', 'b1', 'nolabel']), [1, 1, 1, 3, 3]);
  });

  it('gives the remainder to the first values in order', () => {
    const r = scheduleBatch(tasks(4, 't', { spread: ['node.labels.zone'] }), zoned());
    // groups in value order: "" (no label), "a", "b"
    assert.deepEqual(counts(perNode(r.assigned), ['a1', 'a2', 'a3', 'b1', 'nolabel']), [1, 0, 0, 1, 2]);
  });

  it('counts what each value already runs', () => {
    const set = zoned();
    for (const [i, n] of ['a1', 'a2', 'a3'].entries()) set.applyTask(running(`old${i}`, n));
    const r = scheduleBatch(tasks(5, 't', { spread: ['node.labels.zone'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a1', 'a2', 'a3', 'b1', 'nolabel']), [0, 0, 0, 2, 3]);
  });

  it('moves the share of a value whose nodes are full to the other values', () => {
    const set = new NodeInfoSet(nodesOf(['a1', { labels: { zone: 'a' } }], ['a2', { labels: { zone: 'a' } }], ['b1', { labels: { zone: 'b' }, cpus: 1 }]));
    const r = scheduleBatch(tasks(6, 't', { spread: ['node.labels.zone'], cpus: 1 }), set);
    assert.deepEqual(r.unassigned, []);
    assert.deepEqual(counts(perNode(r.assigned), ['a1', 'a2', 'b1']), [3, 2, 1]);
  });

  it('nests several preferences', () => {
    const set = new NodeInfoSet(
      nodesOf(
        ['d1r1a', { labels: { dc: '1', rack: 'r1' } }],
        ['d1r1b', { labels: { dc: '1', rack: 'r1' } }],
        ['d1r2', { labels: { dc: '1', rack: 'r2' } }],
        ['d2r3', { labels: { dc: '2', rack: 'r3' } }],
      ),
    );
    const r = scheduleBatch(tasks(8, 't', { spread: ['node.labels.dc', 'node.labels.rack'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['d1r1a', 'd1r1b', 'd1r2', 'd2r3']), [1, 1, 2, 4]);
  });

  it('spreads over engine labels too and skips a descriptor it cannot read', () => {
    const set = new NodeInfoSet(nodesOf(['x1', { engineLabels: { az: 'x' } }], ['x2', { engineLabels: { az: 'x' } }], ['y1', { engineLabels: { az: 'y' } }]));
    const r = scheduleBatch(tasks(4, 't', { spread: ['node.hostname', 'engine.labels.az'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['x1', 'x2', 'y1']), [1, 1, 2]);
  });

  it('does not spread onto nodes the filters turn down', () => {
    const set = zoned();
    const r = scheduleBatch(tasks(6, 't', { spread: ['node.labels.zone'], constraints: ['node.labels.zone!=b'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a1', 'a2', 'a3', 'b1', 'nolabel']), [1, 1, 1, 0, 3]);
  });
});

describe('scheduler: filters in a batch', () => {
  it('stops at what the nodes can hold and says so', () => {
    const set = new NodeInfoSet(nodesOf(['a', { cpus: 2 }], ['b', { cpus: 2 }], ['c', { cpus: 2 }]));
    const r = scheduleBatch(tasks(8, 't', { cpus: 1, memory: GiB }), set);
    assert.equal(r.assigned.length, 6);
    assert.deepEqual(counts(perNode(r.assigned), ['a', 'b', 'c']), [2, 2, 2]);
    assert.deepEqual(r.unassigned, [
      { taskId: 't6', reason: 'no suitable node (insufficient resources on 3 nodes)' },
      { taskId: 't7', reason: 'no suitable node (insufficient resources on 3 nodes)' },
    ]);
  });

  it('places no two host-mode tasks on one port of a node', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c'], ['d']), [task('other', { node: 'd', service: 'other', hostPorts: ['80'] })]);
    const r = scheduleBatch(tasks(4, 't', { hostPorts: ['80'] }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a', 'b', 'c', 'd']), [1, 1, 1, 0]);
    assert.deepEqual(r.unassigned, [{ taskId: 't3', reason: 'no suitable node (host-mode port already in use on 4 nodes)' }]);
    // A different protocol on the same port number does not conflict.
    assert.equal(scheduleBatch(tasks(1, 'u', { service: 'dns', hostPorts: ['80/udp'] }), set).assigned.length, 1);
  });

  it('keeps to max replicas per node', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b'], ['c']));
    const r = scheduleBatch(tasks(7, 't', { maxReplicas: 2 }), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a', 'b', 'c']), [2, 2, 2]);
    assert.deepEqual(r.unassigned, [{ taskId: 't6', reason: 'no suitable node (max replicas per node limit exceed)' }]);
  });

  it('leaves drained, paused and down nodes out', () => {
    const set = new NodeInfoSet(nodesOf(['a'], ['b', { availability: 'drain' }], ['c', { availability: 'pause' }], ['d', { state: 'down' }], ['e', { state: 'disconnected' }]));
    const r = scheduleBatch(tasks(3, 't'), set);
    assert.deepEqual(counts(perNode(r.assigned), ['a', 'b', 'c', 'd', 'e']), [3, 0, 0, 0, 0]);
    set.upsertNode(node('a', { availability: 'drain' }));
    assert.deepEqual(scheduleBatch(tasks(1, 'u'), set).unassigned, [{ taskId: 'u0', reason: 'no suitable node (5 nodes not available for new tasks)' }]);
  });

  it('aggregates the reasons with node counts, most first', () => {
    const set = new NodeInfoSet(
      nodesOf(
        ['small1', { cpus: 1 }],
        ['small2', { cpus: 1 }],
        ['small3', { cpus: 1 }],
        ['down', { state: 'down' }],
        ['mgr1', { role: 'manager' }],
        ['mgr2', { role: 'manager' }],
        ['arm', { arch: 'aarch64' }],
      ),
    );
    const r = scheduleBatch([task('t', { cpus: 2, constraints: ['node.role==worker'], platforms: [{ OS: 'linux', Architecture: 'amd64' }] })], set);
    assert.deepEqual(r.unassigned, [
      {
        taskId: 't',
        reason:
          'no suitable node (insufficient resources on 3 nodes; scheduling constraints not satisfied on 2 nodes; 1 node not available for new tasks; unsupported platform on 1 node)',
      },
    ]);
  });

  it('says only "no suitable node" when there are no nodes', () => {
    assert.deepEqual(scheduleBatch([task('t')], new NodeInfoSet()).unassigned, [{ taskId: 't', reason: 'no suitable node' }]);
  });

  it('leaves a task with a malformed constraint pending with the parse error, others go on', () => {
    const set = new NodeInfoSet(nodesOf(['a']));
    const r = scheduleBatch([task('bad', { constraints: ['node.labels.zone=east'] }), task('good', { service: 'ok' })], set);
    assert.deepEqual(r.assigned, [{ taskId: 'good', nodeId: 'a' }]);
    assert.equal(r.unassigned.length, 1);
    assert.match(r.unassigned[0].reason, /^invalid constraint "node\.labels\.zone=east": /);
  });

  it('checks a task pinned to a node (global services) against that node only', () => {
    const set = new NodeInfoSet(nodesOf(['a', { cpus: 1 }], ['b']));
    const r = scheduleBatch(
      [
        task('g1', { node: 'b', state: 'pending', cpus: 1 }),
        task('g2', { node: 'a', state: 'pending', cpus: 2 }),
        task('g3', { node: 'gone', state: 'pending' }),
        task('g4', { node: 'b', state: 'pending', constraints: ['node.role==manager'] }),
      ],
      set,
    );
    assert.deepEqual(r.assigned, [{ taskId: 'g1', nodeId: 'b' }]);
    assert.deepEqual(r.unassigned, [
      { taskId: 'g2', reason: 'no suitable node (insufficient resources on 1 node)' },
      { taskId: 'g3', reason: 'no suitable node (node gone not found)' },
      { taskId: 'g4', reason: 'no suitable node (scheduling constraints not satisfied on 1 node)' },
    ]);
  });
});

describe('scheduler: API objects', () => {
  it('takes full Docker API Node and Task objects as they are', () => {
    // Shapes as the Engine API returns them, extra fields and all.
    const apiNode = {
      ID: '24ifsmvkjbyhk',
      Version: { Index: 373531 },
      CreatedAt: '2016-08-18T10:44:24.496525531Z',
      Spec: { Name: 'my-node', Labels: { foo: 'bar' }, Role: 'worker', Availability: 'active' },
      Description: {
        Hostname: 'bf3067039e47',
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 4000000000, MemoryBytes: 8272408576, GenericResources: [{ DiscreteResourceSpec: { Kind: 'SSD', Value: 3 } }, { NamedResourceSpec: { Kind: 'GPU', Value: 'UUID1' } }] },
        Engine: { EngineVersion: '28.0.0', Labels: { foo: 'bar' }, Plugins: [{ Type: 'Network', Name: 'overlay' }] },
        TLSInfo: { TrustRoot: '' },
      },
      Status: { State: 'ready', Message: '', Addr: '172.17.0.2' },
      ManagerStatus: null,
    };
    const apiTask = {
      ID: '0kzzo1i0y4jz6027t0k7aezc7',
      Version: { Index: 71 },
      Name: 'web.1',
      Labels: {},
      Spec: {
        ContainerSpec: { Image: 'busybox' },
        Resources: { Limits: {}, Reservations: { NanoCPUs: 1e9, MemoryBytes: 1 << 20, GenericResources: [{ DiscreteResourceSpec: { Kind: 'GPU', Value: 1 } }] } },
        RestartPolicy: { Condition: 'any', MaxAttempts: 0 },
        Placement: { Constraints: ['node.labels.foo==bar', 'node.ip==172.17.0.0/16'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.foo' } }], MaxReplicas: 1, Platforms: [{ Architecture: 'amd64', OS: 'linux' }] },
        ForceUpdate: 0,
      },
      ServiceID: '9mnpnzenvg8p8tdbtq4wvbkcz',
      Slot: 1,
      Status: { Timestamp: '2016-06-07T21:07:31.290032978Z', State: 'pending', Message: 'pending', ContainerStatus: {} },
      DesiredState: 'running',
      NetworksAttachments: [],
      Endpoint: { Spec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] }, Ports: [] },
    };
    const nodes: NodeView[] = [apiNode];
    const pending: TaskView[] = [apiTask];
    const set = new NodeInfoSet(nodes);
    assert.deepEqual(scheduleBatch(pending, set).assigned, [{ taskId: apiTask.ID, nodeId: apiNode.ID }]);
    const info = set.get(apiNode.ID)!;
    assert.equal(info.available.generic.get('GPU'), 0);
    assert.equal(info.available.generic.get('SSD'), 3);
    // The allocator's (empty) Ports win over the spec's: no host port taken.
    assert.deepEqual(info.usedHostPorts, []);
  });
});
