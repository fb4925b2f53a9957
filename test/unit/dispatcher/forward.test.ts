import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import type { NodeIdentity } from '../../../shared/rpc';
import { callerOf, forwardedMetadata, forwardTarget, FORWARDED_CLUSTER, FORWARDED_NODE, FORWARDED_REMOTE } from '../../../manager/dispatcher';

const CLUSTER = 'c1';
const worker: NodeIdentity = { nodeId: 'w1', role: 'worker', clusterId: CLUSTER };
const manager: NodeIdentity = { nodeId: 'm2', role: 'manager', clusterId: CLUSTER };
const REMOTE = 'ipv4:10.0.0.2:40000';
const code = (c: string) => (e: unknown) => isShoalError(e) && e.code === c;

describe('dispatcher forwarding: whom a call is for', () => {
  it('a direct call is for the TLS peer, at the address it called from', () => {
    assert.deepEqual(callerOf(worker, {}, REMOTE, CLUSTER), { nodeId: 'w1', remote: REMOTE });
    assert.deepEqual(callerOf(manager, { other: 'x' }, REMOTE, CLUSTER), { nodeId: 'm2', remote: REMOTE });
  });

  it('no peer certificate, or one of another cluster, is refused', () => {
    assert.throws(() => callerOf(undefined, {}, REMOTE, CLUSTER), code('PERMISSION_DENIED'));
    assert.throws(() => callerOf({ ...worker, clusterId: 'c2' }, {}, REMOTE, CLUSTER), code('PERMISSION_DENIED'));
    assert.throws(() => callerOf({ ...manager, clusterId: 'c2' }, { [FORWARDED_NODE]: 'w1' }, REMOTE, CLUSTER), code('PERMISSION_DENIED'));
  });

  it('a manager of the cluster speaks for the node it names, at the address it passes on', () => {
    const md = { [FORWARDED_NODE]: 'w1', [FORWARDED_CLUSTER]: CLUSTER, [FORWARDED_REMOTE]: 'ipv6:[::1]:5000' };
    assert.deepEqual(callerOf(manager, md, REMOTE, CLUSTER), { nodeId: 'w1', remote: 'ipv6:[::1]:5000', forwardedBy: 'm2' });
    // Without the remote, the forwarding manager's own address stands in.
    assert.deepEqual(callerOf(manager, { [FORWARDED_NODE]: 'w1' }, REMOTE, CLUSTER), { nodeId: 'w1', remote: REMOTE, forwardedBy: 'm2' });
  });

  it('a worker naming another node is refused, whatever node it names', () => {
    assert.throws(() => callerOf(worker, { [FORWARDED_NODE]: 'w9' }, REMOTE, CLUSTER), (e: unknown) => code('PERMISSION_DENIED')(e) && /only a manager/.test((e as Error).message));
    assert.throws(() => callerOf(worker, { [FORWARDED_NODE]: 'w1' }, REMOTE, CLUSTER), code('PERMISSION_DENIED'));
  });

  it('a forwarded node of another cluster, or no node ID at all, is refused', () => {
    assert.throws(() => callerOf(manager, { [FORWARDED_NODE]: 'w1', [FORWARDED_CLUSTER]: 'c2' }, REMOTE, CLUSTER), code('PERMISSION_DENIED'));
    assert.throws(() => callerOf(manager, { [FORWARDED_NODE]: '' }, REMOTE, CLUSTER), code('INVALID_ARGUMENT'));
    assert.throws(() => callerOf(manager, { [FORWARDED_NODE]: 'a b' }, REMOTE, CLUSTER), code('INVALID_ARGUMENT'));
  });

  it('the metadata a follower sends reads back as the same caller on the leader', () => {
    const caller = { nodeId: 'w1', remote: REMOTE };
    const md = forwardedMetadata(caller, CLUSTER);
    assert.deepEqual(md, { [FORWARDED_NODE]: 'w1', [FORWARDED_CLUSTER]: CLUSTER, [FORWARDED_REMOTE]: REMOTE });
    assert.deepEqual(callerOf(manager, md, 'ipv4:10.0.0.3:1', CLUSTER), { ...caller, forwardedBy: 'm2' });
  });
});

describe('dispatcher forwarding: where a follower sends a call', () => {
  const leader = { nodeId: 'm1', addr: '10.0.0.1:4242' };

  it('to the leader', () => {
    assert.deepEqual(forwardTarget({ nodeId: 'w1', remote: REMOTE }, leader, 'm2'), leader);
  });

  it('nowhere while the leader is unknown or has no address (UNAVAILABLE: the agent tries again)', () => {
    assert.throws(() => forwardTarget({ nodeId: 'w1', remote: REMOTE }, undefined, 'm2'), code('UNAVAILABLE'));
    assert.throws(() => forwardTarget({ nodeId: 'w1', remote: REMOTE }, { nodeId: 'm1', addr: '' }, 'm2'), code('UNAVAILABLE'));
  });

  it('never to itself (it leads but is not dispatching yet)', () => {
    assert.throws(() => forwardTarget({ nodeId: 'w1', remote: REMOTE }, leader, 'm1'), code('UNAVAILABLE'));
  });

  it('never a second time: a call forwarded to a manager that does not lead either stops there', () => {
    assert.throws(() => forwardTarget({ nodeId: 'w1', remote: REMOTE, forwardedBy: 'm3' }, leader, 'm2'), (e: unknown) => code('UNAVAILABLE')(e) && /m3/.test((e as Error).message));
  });
});
