// The allocator and scheduler loops over the in-memory store, with time moved by hand.
import { strict as assert } from 'node:assert';
import { Allocator } from '../../../manager/allocator';
import { LeaderComponents } from '../../../manager/leader';
import { SchedulerLoop } from '../../../manager/scheduler/loop';
import { TaskReaper } from '../../../manager/reaper';
import { attachNetwork, detachNetwork } from '../../../manager/dispatcher/attach';
import { isShoalError } from '../../../shared/errors';
import { MemoryStore, type BatchOp, type BatchOptions } from '../../../manager/store';
import type { Node, Service, Task } from '../../../shared/swarm';
import { createNetwork } from '../../../manager/networks/objects';
import type { AddressPool } from '../../../manager/networks/ipam';
import { silenceLogging } from '../../../shared/log';
import { ManualClock, flush } from './manual-clock';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

function task(id: string, over: Partial<Task> = {}): Task {
  return { ID: id, ServiceID: 's1', Slot: 1, Spec: {}, Status: { State: 'new' }, DesiredState: 'running', ...over };
}

function node(id: string, cpus: number): Node {
  return { ID: id, Spec: { Role: 'worker', Availability: 'active' }, Description: { Resources: { NanoCPUs: cpus * 1e9, MemoryBytes: 1 << 30 } }, Status: { State: 'ready' } };
}

/** Counts the task writes a store receives. */
class CountingStore extends MemoryStore {
  writes = 0;
  override async batch(ops: BatchOp[], opts?: BatchOptions) {
    this.writes += ops.length;
    return super.batch(ops, opts);
  }
}

async function settle(clock: ManualClock, loop: { idle(): Promise<void> }): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flush();
    clock.advance(10);
  }
  await loop.idle();
}

describe('leader loops over the memory store', () => {
  it('allocator: VIPs for services, one address per task per network, pending; addresses come back when tasks end', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    let n = 0;
    const deps = { store, newId: () => `net${++n}`, now: () => new Date(0), hostRoutes: async () => [] };
    const ingress = await createNetwork(deps, { Name: 'ingress', DriverConfiguration: { Name: 'overlay' }, Ingress: true, Scope: 'swarm' });
    const front = await createNetwork(deps, { Name: 'front', DriverConfiguration: { Name: 'overlay' }, Scope: 'swarm' });
    const svc = (id: string, spec: Partial<Service['Spec']>): Service => ({ ID: id, Spec: { Name: id, TaskTemplate: {}, ...spec } });
    await store.create('services', svc('web', { TaskTemplate: { Networks: [{ Target: front.ID }] }, EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }));
    await store.create('services', svc('rr', { TaskTemplate: { Networks: [{ Target: front.ID }] }, EndpointSpec: { Mode: 'dnsrr' } }));
    await store.create('services', svc('plain', {}));
    const onFront = { Networks: [{ Target: front.ID }] };
    const alloc = new Allocator({ store, clock, resyncMs: 0 });
    await store.create('tasks', task('w1', { ServiceID: 'web', Spec: onFront }));
    await alloc.start();
    await store.create('tasks', task('w2', { ServiceID: 'web', Spec: onFront, Slot: 2 }));
    await store.create('tasks', task('r1', { ServiceID: 'rr', Spec: onFront }));
    await store.create('tasks', task('p1', { ServiceID: 'plain' }));
    await store.create('tasks', task('lost', { ServiceID: 'plain', Spec: { Networks: [{ Target: 'nosuchnet' }] } }));
    await store.create('tasks', task('unwanted', { ServiceID: 'web', Spec: onFront, DesiredState: 'shutdown' }));
    await settle(clock, alloc);

    const get = (id: string) => store.get<Task>('tasks', id);
    const web = (await store.get<Service>('services', 'web'))!;
    const vips = new Map(web.Endpoint!.VirtualIPs!.map((v) => [v.NetworkID, v.Addr]));
    assert.deepEqual([...vips.keys()].sort(), [front.ID, ingress.ID].sort(), 'a VIP on its network and on ingress (it publishes through the mesh)');
    assert.deepEqual(web.Endpoint!.Ports, [{ Protocol: 'tcp', PublishMode: 'ingress', TargetPort: 80, PublishedPort: 8080 }]);
    assert.equal((await store.get<Service>('services', 'rr'))!.Endpoint?.VirtualIPs, undefined, 'dnsrr has no VIP');
    const seen = new Set<string | undefined>(vips.values());
    for (const id of ['w1', 'w2', 'r1']) {
      const t = (await get(id))!;
      assert.equal(t.Status.State, 'pending', id);
      assert.equal(t.Status.Message, 'pending task scheduling');
      for (const a of t.NetworksAttachments!) {
        assert.match(a.Addresses![0], /^10\.0\.\d+\.\d+\/24$/);
        assert.ok(!seen.has(a.Addresses![0]), `${a.Addresses![0]} handed out twice`);
        seen.add(a.Addresses![0]);
      }
    }
    assert.deepEqual((await get('w1'))!.NetworksAttachments!.map((a) => a.Network!.ID), [front.ID, ingress.ID]);
    assert.deepEqual((await get('w1'))!.Endpoint, web.Endpoint, 'the task carries its service endpoint');
    assert.deepEqual((await get('r1'))!.NetworksAttachments!.map((a) => a.Network!.ID), [front.ID]);
    assert.equal((await get('p1'))!.Status.State, 'pending');
    assert.equal((await get('p1'))!.NetworksAttachments, undefined);
    assert.equal((await get('lost'))!.Status.State, 'new', 'waits for its network');
    assert.equal((await get('unwanted'))!.Status.State, 'new');

    // A task that ends gives its addresses back; a removed service its VIPs.
    const held = async (owner: string) => {
      const pools = [(await store.get<AddressPool>('ipam', front.ID))!, (await store.get<AddressPool>('ipam', ingress.ID))!];
      return pools.flatMap((p) => Object.entries(p.Allocations.allocated).filter(([, o]) => o === owner).map(([ip]) => ip));
    };
    assert.equal((await held('task:w1')).length, 2);
    const w1 = (await get('w1'))!;
    await store.update('tasks', { ...w1, Status: { State: 'shutdown' } });
    await store.delete('services', 'rr');
    await store.delete('tasks', 'r1');
    await settle(clock, alloc);
    assert.deepEqual(await held('task:w1'), []);
    assert.deepEqual(await held('task:r1'), []);
    assert.equal((await held('task:w2')).length, 2, 'the others keep theirs');
    assert.equal((await held('vip:web')).length, 2);
    await store.delete('services', 'web');
    await settle(clock, alloc);
    assert.deepEqual(await held('vip:web'), []);
    await alloc.stop();
  });

  it('allocator: an ingress port published without a number gets the first free one from 30000, and keeps it', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    let n = 0;
    await createNetwork({ store, newId: () => `net${++n}`, now: () => new Date(0), hostRoutes: async () => [] }, { Name: 'ingress', DriverConfiguration: { Name: 'overlay' }, Ingress: true, Scope: 'swarm' });
    const svc = (id: string, ports: Array<Record<string, unknown>>): Service => ({ ID: id, Spec: { Name: id, TaskTemplate: {}, EndpointSpec: { Ports: ports as never } } });
    await store.create('services', svc('fixed', [{ TargetPort: 80, PublishedPort: 30000 }]));
    await store.create('services', svc('dyn', [{ TargetPort: 80 }, { TargetPort: 53, Protocol: 'udp' }, { TargetPort: 22, PublishMode: 'host' }]));
    const alloc = new Allocator({ store, clock, resyncMs: 0 });
    await alloc.start();
    await settle(clock, alloc);
    const dyn = (await store.get<Service>('services', 'dyn'))!;
    assert.deepEqual(dyn.Endpoint!.Ports!.map((p) => `${p.Protocol}/${p.PublishedPort ?? 0}->${p.TargetPort}/${p.PublishMode}`), ['tcp/30001->80/ingress', 'udp/30000->53/ingress', 'tcp/0->22/host']);
    assert.equal(dyn.Endpoint!.VirtualIPs!.length, 1, 'a port to publish puts the service on the ingress network');
    // An unrelated change keeps the chosen ports.
    await store.update('services', { ...dyn, Spec: { ...dyn.Spec, Labels: { a: 'b' } } });
    await settle(clock, alloc);
    assert.deepEqual((await store.get<Service>('services', 'dyn'))!.Endpoint!.Ports, dyn.Endpoint!.Ports);
    await alloc.stop();
  });

  it('network attachments: a plain container gets an address on an attachable network, straight to its node; detaching or the node leaving gives it back', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    let n = 0;
    const deps = { store, newId: () => `net${++n}`, now: () => new Date(0), hostRoutes: async () => [] };
    await createNetwork(deps, { Name: 'ingress', DriverConfiguration: { Name: 'overlay' }, Ingress: true, Scope: 'swarm' });
    const closed = await createNetwork(deps, { Name: 'closed', DriverConfiguration: { Name: 'overlay' }, Scope: 'swarm' });
    const open = await createNetwork(deps, { Name: 'open', DriverConfiguration: { Name: 'overlay' }, Attachable: true, Scope: 'swarm' });
    await store.create('nodes', node('n1', 2));
    await store.create('nodes', node('n2', 2));
    const alloc = new Allocator({ store, clock, resyncMs: 0 });
    const reaper = new TaskReaper({ store, clock, resyncMs: 0 });
    await alloc.start();
    await reaper.start();
    const cid = 'ab'.repeat(32);
    const refused = async (p: Promise<unknown>, code: string, re: RegExp) => assert.rejects(p, (e: unknown) => isShoalError(e) && e.code === code && re.test(e.message));
    await refused(attachNetwork(store, 'n1', { sessionId: 's', network: 'closed', containerId: cid, aliases: [] }, () => []), 'PERMISSION_DENIED', /network closed not manually attachable/);
    await refused(attachNetwork(store, 'n1', { sessionId: 's', network: 'ingress', containerId: cid, aliases: [] }, () => []), 'PERMISSION_DENIED', /ingress/);
    await refused(attachNetwork(store, 'n1', { sessionId: 's', network: 'nope', containerId: cid, aliases: [] }, () => []), 'NOT_FOUND', /nope/);
    await refused(attachNetwork(store, 'n1', { sessionId: 's', network: 'open', containerId: 'x y', aliases: [] }, () => []), 'INVALID_ARGUMENT', /container_id/);
    assert.equal((await store.list('tasks')).items.length, 0, 'a refusal records nothing');

    const id = await attachNetwork(store, 'n1', { sessionId: 's', network: 'open', containerId: cid, aliases: ['web1', 'web1', 'w'] }, () => []);
    const other = await attachNetwork(store, 'n2', { sessionId: 's', network: open.ID.slice(0, 4), containerId: 'cd'.repeat(32), aliases: [] }, () => []);
    await settle(clock, alloc);
    const t = (await store.get<Task>('tasks', id))!;
    assert.equal(t.ServiceID, '');
    assert.equal(t.NodeID, 'n1');
    assert.equal(t.Status.State, 'assigned', 'no scheduling: the node is the container\'s');
    assert.deepEqual(t.Spec.Networks, [{ Target: open.ID, Aliases: ['web1', 'w'] }]);
    assert.equal(t.NetworksAttachments![0].Network!.ID, open.ID);
    assert.match(t.NetworksAttachments![0].Addresses![0], /^10\.0\.\d+\.\d+\/24$/);
    assert.notEqual(t.NetworksAttachments![0].Addresses![0], (await store.get<Task>('tasks', other))!.NetworksAttachments![0].Addresses![0]);
    assert.equal(await attachNetwork(store, 'n1', { sessionId: 's', network: 'open', containerId: cid, aliases: [] }, () => [t]), id, 'asking again gives the same attachment');
    assert.equal(closed.Spec.Attachable, undefined);

    const held = async (owner: string) => Object.values((await store.get<AddressPool>('ipam', open.ID))!.Allocations.allocated).filter((o) => o === owner).length;
    assert.equal(await held(`task:${id}`), 1);
    await refused(detachNetwork(store, 'n2', { sessionId: 's', attachmentId: id }), 'PERMISSION_DENIED', /another node/);
    await detachNetwork(store, 'n1', { sessionId: 's', attachmentId: id });
    await detachNetwork(store, 'n1', { sessionId: 's', attachmentId: id }); // gone already: fine
    await settle(clock, alloc);
    assert.equal(await store.get('tasks', id), undefined);
    assert.equal(await held(`task:${id}`), 0, 'the address is back in the pool');

    // The reaper leaves attachments alone while their node is there, and deletes them once it has left.
    await settle(clock, reaper);
    assert.ok(await store.get('tasks', other), 'an attachment is not an orphaned task');
    await store.delete('nodes', 'n2');
    await settle(clock, reaper);
    assert.equal(await store.get('tasks', other), undefined);
    await settle(clock, alloc);
    assert.equal(await held(`task:${other}`), 0);
    await reaper.stop();
    await alloc.stop();
  });

  it('scheduler: writes a pending reason once, rewrites it only when it changes, assigns when room appears', async () => {
    const store = new CountingStore();
    const clock = new ManualClock();
    const sched = new SchedulerLoop({ store, clock, resyncMs: 1000 });
    await store.create('nodes', node('n1', 1));
    await store.create('tasks', task('t1', { Status: { State: 'pending' }, Spec: { Resources: { Reservations: { NanoCPUs: 2e9 } } } }));
    await sched.start();
    await settle(clock, sched);
    let t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.Err, 'no suitable node (insufficient resources on 1 node)');

    // Resyncs and unrelated task changes retry the task, but the same reason is not written again.
    clock.advance(1000);
    await store.create('tasks', task('other', { ServiceID: 's2', Status: { State: 'complete' }, NodeID: 'n1' }));
    const writes = store.writes;
    await settle(clock, sched);
    assert.equal(store.writes, writes);

    await store.create('nodes', node('n2', 1));
    await settle(clock, sched);
    t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.Err, 'no suitable node (insufficient resources on 2 nodes)');

    await store.create('nodes', node('n3', 4));
    await settle(clock, sched);
    await sched.stop();
    t = await store.get<Task>('tasks', 't1');
    assert.equal(t?.Status.State, 'assigned');
    assert.equal(t?.NodeID, 'n3');
    assert.equal(t?.Status.Message, 'scheduler assigned task to node');
    assert.equal(t?.Status.Err, undefined);
    assert.equal(sched.stats.assigned, 1);
  });

  it('LeaderComponents: all loops run while the leadership signal lasts, and stop when it aborts', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const leadership = new AbortController();
    const leader = new LeaderComponents({ store, clock, resyncMs: 0, newId: (() => { let n = 0; return () => `task${++n}`; })() });
    await store.create('nodes', node('n1', 4));
    await leader.start(leadership.signal);
    await store.create('services', { ID: 'svc1', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } });
    for (let i = 0; i < 4; i++) await settle(clock, leader);
    const { items } = await store.list<Task>('tasks');
    assert.deepEqual(items.map((t) => `${t.ID}:${t.Status.State}@${t.NodeID}`).sort(), ['task1:assigned@n1', 'task2:assigned@n1']);

    leadership.abort();
    await leader.stop();
    await store.create('tasks', task('late'));
    await flush();
    clock.advance(100);
    await flush();
    assert.equal((await store.get<Task>('tasks', 'late'))?.Status.State, 'new', 'no loop acts after leadership ends');
    assert.equal(clock.pending, 0, 'no timer left');
  });
});
