import assert from 'node:assert/strict';
import { ClusterIndex } from '../../../manager/dispatcher/state';
import type { StoreEvent } from '../../../manager/store';
import type { Node } from '../../../shared/swarm';
import { task } from './fixtures';

const put = (kind: StoreEvent['kind'], object: { ID: string }): StoreEvent => ({ kind, type: 'put', id: object.ID, object: object as never, created: false, revision: 1 });
const del = (kind: StoreEvent['kind'], id: string): StoreEvent => ({ kind, type: 'delete', id, revision: 2 });
const manager = (id: string, addr: string, leader: boolean, reach: 'reachable' | 'unreachable' = 'reachable'): Node => ({ ID: id, Spec: { Role: 'manager' }, ManagerStatus: { Addr: addr, Leader: leader, Reachability: reach } });

describe('dispatcher: the in-memory index', () => {
  it('indexes tasks by node and says which nodes an event touched', () => {
    const ix = new ClusterIndex();
    ix.load({ tasks: [task('t1', 'n1', 'running') as never, task('t2', undefined, 'pending') as never] });
    assert.deepEqual(ix.tasksOf('n1').map((t) => t.ID), ['t1']);
    assert.deepEqual(ix.apply(put('tasks', task('t2', 'n2', 'assigned'))), { kind: 'task', nodeIds: ['n2'] });
    assert.deepEqual(ix.apply(put('tasks', task('t1', 'n3', 'running'))), { kind: 'task', nodeIds: ['n1', 'n3'] }, 'a move concerns both nodes');
    assert.deepEqual(ix.tasksOf('n1'), []);
    assert.deepEqual(ix.apply(del('tasks', 't2')), { kind: 'task', nodeIds: ['n2'] });
    assert.deepEqual(ix.tasksOf('n2'), []);
  });

  it('gives each network its live endpoints as Peers, and tells every node on a network when they change', () => {
    const ix = new ClusterIndex();
    const att = (ip: string, extra: object = {}) => ({ NetworksAttachments: [{ Network: { ID: 'net1' }, Addresses: [`${ip}/24`] }], ServiceAnnotations: { Name: 'web' }, ...extra });
    const node = (id: string, addr: string) => ({ ID: id, Spec: { Role: 'worker' }, Status: { State: 'ready', Addr: addr } });
    const peers = () => (ix.network('net1') as unknown as { Peers: unknown }).Peers;
    const vip = { Endpoint: { VirtualIPs: [{ NetworkID: 'net1', Addr: '10.0.1.2/24' }] }, Spec: { Networks: [{ Target: 'net1', Aliases: ['www'] }] } };
    ix.load({ nodes: [node('n1', '192.0.2.1'), node('n2', '192.0.2.2')] as never, networks: [{ ID: 'net1', Spec: { Name: 'front' } }] as never, tasks: [task('t1', 'n1', 'running', att('10.0.1.3', vip)) as never] });
    assert.deepEqual(peers(), [{ IP: '10.0.1.3', Node: '192.0.2.1', Task: 't1', Service: 'web', Aliases: ['www'], VIP: '10.0.1.2', Running: true }]);
    // A new endpoint on n2 concerns n1 too (it must reach it).
    assert.deepEqual(ix.apply(put('tasks', task('t2', 'n2', 'assigned', att('10.0.1.4')))), { kind: 'task', nodeIds: ['n2', 'n1'] });
    assert.deepEqual(peers(), [
      { IP: '10.0.1.3', Node: '192.0.2.1', Task: 't1', Service: 'web', Aliases: ['www'], VIP: '10.0.1.2', Running: true },
      { IP: '10.0.1.4', Node: '192.0.2.2', Task: 't2', Service: 'web', Running: false },
    ]);
    // Reaching RUNNING is news for every node (DNS answers running tasks only).
    assert.deepEqual(ix.apply(put('tasks', task('t2', 'n2', 'running', att('10.0.1.4')))), { kind: 'task', nodeIds: ['n2', 'n1'] });
    // A change that moves no endpoint concerns only the task's node; the object sent is the same.
    const sent = ix.network('net1');
    assert.deepEqual(ix.apply(put('tasks', task('t2', 'n2', 'running', { ...att('10.0.1.4'), DesiredState: 'shutdown' }))), { kind: 'task', nodeIds: ['n2'] });
    assert.equal(ix.network('net1'), sent);
    // An ended task leaves the peers.
    const ended = ix.apply(put('tasks', task('t1', 'n1', 'shutdown', att('10.0.1.3')))) as { nodeIds: string[] };
    assert.deepEqual(ended.nodeIds.sort(), ['n1', 'n2']);
    assert.deepEqual(peers(), [{ IP: '10.0.1.4', Node: '192.0.2.2', Task: 't2', Service: 'web', Running: true }]);
  });

  it('sends the ingress network to every node while a task is on it, with each node\'s own ingress address and the published ports', () => {
    const ix = new ClusterIndex();
    const node = (id: string, addr: string) => ({ ID: id, Spec: { Role: 'worker' }, Status: { State: 'ready', Addr: addr } });
    const ingress = { ID: 'ing', Spec: { Name: 'ingress', Ingress: true } };
    const pool = { ID: 'ing', Allocations: { allocated: { '10.0.0.3': 'node:n1', '10.0.0.4': 'node:n2', '10.0.0.5': 'task:t1' } } };
    ix.load({ nodes: [node('n1', '192.0.2.1'), node('n2', '192.0.2.2')] as never, networks: [ingress] as never, ipam: [pool] as never });
    assert.deepEqual(ix.everyNode(), [], 'no task on ingress: no node needs it');
    const t1 = task('t1', 'n1', 'running', {
      NetworksAttachments: [{ Network: { ID: 'ing', Spec: { Ingress: true } } as never, Addresses: ['10.0.0.5/24'] }],
      Endpoint: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 22, PublishedPort: 2222, PublishMode: 'host' }] },
    });
    const change = ix.apply(put('tasks', t1)) as { nodeIds: string[] };
    assert.deepEqual(change.nodeIds.sort(), ['n1', 'n2'], 'every node hears of the mesh');
    assert.deepEqual(ix.everyNode(), ['ing']);
    const peers = (ix.network('ing') as unknown as { Peers: unknown[] }).Peers;
    assert.deepEqual(peers, [
      { IP: '10.0.0.5', Node: '192.0.2.1', Task: 't1', Ports: [{ Protocol: 'tcp', PublishedPort: 8080, TargetPort: 80 }], Running: true },
      { IP: '10.0.0.3', Node: '192.0.2.1', NodeID: 'n1', Running: true },
      { IP: '10.0.0.4', Node: '192.0.2.2', NodeID: 'n2', Running: true },
    ]);
    // A node's address moving in the pool is news for every node.
    assert.deepEqual(ix.apply(put('ipam', { ...pool, Allocations: { allocated: { '10.0.0.9': 'node:n1', '10.0.0.4': 'node:n2', '10.0.0.5': 'task:t1' } } } as never)), { kind: 'dependency' });
    assert.ok((ix.network('ing') as unknown as { Peers: Array<{ IP: string }> }).Peers.some((p) => p.IP === '10.0.0.9'));
  });

  it('keeps dependencies, nodes and the cluster object', () => {
    const ix = new ClusterIndex();
    ix.load({});
    assert.deepEqual(ix.apply(put('secrets', { ID: 's1' })), { kind: 'dependency' });
    assert.equal(ix.secret('s1')?.ID, 's1');
    ix.apply(del('secrets', 's1'));
    assert.equal(ix.secret('s1'), undefined);
    assert.deepEqual(ix.apply(put('nodes', { ID: 'n1' })), { kind: 'node', nodeId: 'n1', removed: false });
    assert.deepEqual(ix.apply(del('nodes', 'n1')), { kind: 'node', nodeId: 'n1', removed: true });
    ix.apply(put('cluster', { ID: 'c', Spec: { Dispatcher: { HeartbeatPeriod: 1e9 } } } as never));
    assert.equal(ix.cluster?.Spec.Dispatcher?.HeartbeatPeriod, 1e9);
  });

  it('lists reachable managers with an address, the leader first', () => {
    const ix = new ClusterIndex();
    ix.load({ nodes: [manager('b', '10.0.0.2:2377', false), manager('c', '10.0.0.3:2377', false, 'unreachable'), manager('a', '10.0.0.1:2377', true), { ID: 'w', Spec: { Role: 'worker' } }] as never });
    assert.deepEqual(ix.managerPeers(), [
      { nodeId: 'a', addr: '10.0.0.1:2377', weight: 10 },
      { nodeId: 'b', addr: '10.0.0.2:2377', weight: 1 },
    ]);
  });
});
