// The agent's network attachments for plain containers: attach waits for the task to come back
// with its address, withdraws on failure, and a complete set detaches leftovers.
import assert from 'node:assert/strict';
import { NetworkAttachments } from '../../../worker/agent/session/attachments';
import type { Task, TaskStatus } from '../../../shared/swarm';
import { isShoalError } from '../../../shared/errors';
import { silenceLogging } from '../../../shared/log';

if (!process.env.SHOAL_TEST_LOG) silenceLogging();

const NET = { ID: 'net1', Spec: { Name: 'open', Attachable: true }, DriverState: { Name: 'overlay', Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4098' } }, IPAMOptions: { Configs: [{ Subnet: '10.0.2.0/24', Gateway: '10.0.2.1' }] } };

function attachmentTask(id: string, withAddress: boolean): Task {
  return {
    ID: id,
    ServiceID: '',
    NodeID: 'n1',
    Spec: { Runtime: 'attachment', NetworkAttachmentSpec: { ContainerID: 'c1' }, Networks: [{ Target: 'net1' }] },
    Status: { State: 'assigned' },
    DesiredState: 'running',
    ...(withAddress ? { NetworksAttachments: [{ Network: NET as never, Addresses: ['10.0.2.5/24'] }] } : {}),
  };
}

function harness(held: string[] = []) {
  const calls: string[] = [];
  const reports: Array<{ id: string; status: TaskStatus }> = [];
  let next = 0;
  const a = new NetworkAttachments({
    calls: {
      attach: async (req) => {
        calls.push(`attach ${req.network} ${req.containerId} ${req.aliases.join(',')}`);
        return `att${++next}`;
      },
      detach: async (id) => {
        calls.push(`detach ${id}`);
      },
    },
    holder: { swarmAttachments: () => new Map(held.map((id) => [id, { containerId: 'c1', networkId: 'net1' }])) },
    local: '192.0.2.10',
    report: (id, status) => reports.push({ id, status }),
    timeoutMs: 200,
    graceMs: 0,
  });
  return { a, calls, reports };
}

describe('agent/attachments: plain containers on swarm networks', () => {
  it('attach resolves with the network and address once the assignment brings them, and reports the attachment running', async () => {
    const { a, calls, reports } = harness();
    const p = a.attach('open', 'c1', ['web', 'w']);
    await new Promise((r) => setImmediate(r));
    a.apply([attachmentTask('att1', false)], []); // assigned, not yet allocated: keeps waiting
    a.apply([attachmentTask('att1', true)], []);
    const lease = await p;
    assert.equal(lease.attachmentId, 'att1');
    assert.equal(lease.address, '10.0.2.5/24');
    assert.deepEqual({ id: lease.network.id, vni: lease.network.vni, subnet: lease.network.subnet, local: lease.network.local }, { id: 'net1', vni: 4098, subnet: '10.0.2.0/24', local: '192.0.2.10' });
    assert.deepEqual(calls, ['attach open c1 web,w']);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].status.State, 'running');
  });

  it('an attachment that never comes back is withdrawn, and attach fails UNAVAILABLE', async () => {
    const { a, calls, reports } = harness();
    await assert.rejects(a.attach('open', 'c1', []), (e: unknown) => isShoalError(e) && e.code === 'UNAVAILABLE' && /no address/.test(e.message));
    assert.deepEqual(calls, ['attach open c1 ', 'detach att1']);
    assert.equal(reports.length, 0);
  });

  it('an aborted attach is withdrawn', async () => {
    const { a, calls } = harness();
    const ac = new AbortController();
    const p = a.attach('open', 'c1', [], ac.signal);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(p);
    assert.deepEqual(calls, ['attach open c1 ', 'detach att1']);
  });

  it('a complete set detaches the attachments no container here holds, and keeps those held', async () => {
    const { a, calls } = harness(['kept']);
    a.setAll([attachmentTask('kept', true), attachmentTask('stray', true)]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['detach stray']);
  });

  it('split takes attachment tasks apart from the others', () => {
    const other: Task = { ID: 't', ServiceID: 's', Spec: {}, Status: { State: 'assigned' }, DesiredState: 'running' };
    const { attachments, others } = NetworkAttachments.split([other, attachmentTask('a', true)]);
    assert.deepEqual(attachments.map((t) => t.ID), ['a']);
    assert.deepEqual(others.map((t) => t.ID), ['t']);
  });
});
