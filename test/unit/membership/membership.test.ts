import assert from 'node:assert/strict';
import { parseAddr, swarmSpecWithDefaults, portsFor, DEFAULT_HEARTBEAT_NS } from '../../../manager/membership';
import { isShoalError } from '../../../shared/errors';

const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message));

describe('membership: listen and advertise addresses', () => {
  const dflt = { host: '0.0.0.0', port: 2377 };
  const cases: Array<[string | undefined, { host: string; port: number }]> = [
    [undefined, dflt],
    ['', dflt],
    ['10.0.0.1', { host: '10.0.0.1', port: 2377 }],
    ['10.0.0.1:4000', { host: '10.0.0.1', port: 4000 }],
    [':4000', { host: '0.0.0.0', port: 4000 }],
  ];
  for (const [input, want] of cases) it(`reads ${JSON.stringify(input)}`, () => assert.deepEqual(parseAddr('listen address', input, dflt), want));

  it('refuses a bad port or an unknown interface, naming the field', () => {
    bad(() => parseAddr('listen address', '10.0.0.1:99999', dflt), /invalid listen address "10.0.0.1:99999": bad port/);
    bad(() => parseAddr('listen address', '10.0.0.1:0', dflt), /bad port/);
    bad(() => parseAddr('advertise address', 'nosuchif9', dflt), /invalid advertise address "nosuchif9": "nosuchif9" is neither an IPv4 address nor an interface/);
    bad(() => parseAddr('listen address', 'a:b:c', dflt), /invalid listen address/);
  });

  it('puts etcd and NATS on the ports above the listen port (2377 gives etcd its usual 2379/2380)', () => {
    assert.deepEqual(portsFor(2377), { grpc: 2377, etcdClient: 2379, etcdPeer: 2380, natsClient: 2381, natsCluster: 2382 });
    bad(() => portsFor(65533), /needs the five ports above it/);
  });
});

describe('membership: swarm spec defaults', () => {
  it("fills shoal's defaults: a short heartbeat for fast failover, history 5, 90-day certificates", () => {
    const s = swarmSpecWithDefaults({});
    assert.equal(s.Name, 'default');
    assert.equal(s.Dispatcher?.HeartbeatPeriod, DEFAULT_HEARTBEAT_NS);
    assert.equal(s.Orchestration?.TaskHistoryRetentionLimit, 5);
    assert.equal(s.CAConfig?.NodeCertExpiry, 90 * 24 * 3600 * 1e9);
    assert.equal(s.EncryptionConfig?.AutoLockManagers, false);
  });

  it('keeps what the user gave, and treats the zeros docker swarm init sends as unset', () => {
    const s = swarmSpecWithDefaults({ Dispatcher: { HeartbeatPeriod: 5e9 }, Orchestration: { TaskHistoryRetentionLimit: 2 }, Raft: { ElectionTick: 0, HeartbeatTick: 0, SnapshotInterval: 0 }, Labels: { a: 'b' } });
    assert.equal(s.Dispatcher?.HeartbeatPeriod, 5e9);
    assert.equal(s.Orchestration?.TaskHistoryRetentionLimit, 2);
    assert.deepEqual(s.Raft, { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 });
    assert.deepEqual(s.Labels, { a: 'b' });
  });

  it('refuses negative or fractional durations and a non-integer history limit, naming the field', () => {
    bad(() => swarmSpecWithDefaults({ Dispatcher: { HeartbeatPeriod: -1 } }), /Dispatcher.HeartbeatPeriod must be a non-negative integer, got -1/);
    bad(() => swarmSpecWithDefaults({ CAConfig: { NodeCertExpiry: 1.5 } }), /CAConfig.NodeCertExpiry/);
    bad(() => swarmSpecWithDefaults({ Orchestration: { TaskHistoryRetentionLimit: 'x' as unknown as number } }), /Orchestration.TaskHistoryRetentionLimit must be an integer/);
  });
});
