import assert from 'node:assert/strict';
import { initRequest, initSpec, mergeSwarmSpec, parseNodeAddr, runInit, runUpdate } from '../../../../cli/commands/swarm';
import { unlockNotice } from '../../../../cli/commands/swarm/unlock-key';
import { FakeCli } from './fake-cli';
import { mergeNodeUpdate } from '../../../../cli/commands/node';
import { parseLogDetails, pinImage, scaledSpec, splitLogLine } from '../../../../cli/commands/service';
import type { NodeSpec, ServiceSpec } from '../../../../cli/format/swarm-types';

describe('cli swarm init/join/update requests', () => {
  it('node addresses take the missing host or port from 0.0.0.0:2377', () => {
    assert.equal(parseNodeAddr('10.0.0.1'), '10.0.0.1:2377');
    assert.equal(parseNodeAddr(':4567'), '0.0.0.0:4567');
    assert.equal(parseNodeAddr('eth0:4567'), 'eth0:4567');
    assert.equal(parseNodeAddr('tcp://10.0.0.1:3000'), '10.0.0.1:3000');
    assert.equal(parseNodeAddr('[fd00::1]:2377'), '[fd00::1]:2377');
    assert.throws(() => parseNodeAddr('10.0.0.1:http'), /invalid argument "10.0.0.1:http" for "--listen-addr" flag: invalid bind address format/);
  });
  it('init without flags sends what docker sends', () => {
    assert.deepEqual(initRequest({}), {
      ListenAddr: '0.0.0.0:2377',
      AdvertiseAddr: '',
      DataPathAddr: '',
      DataPathPort: 0,
      ForceNewCluster: false,
      Spec: { Labels: null, Orchestration: {}, Raft: { ElectionTick: 0, HeartbeatTick: 0 }, Dispatcher: {}, CAConfig: {}, TaskDefaults: {}, EncryptionConfig: { AutoLockManagers: false } },
      AutoLockManagers: false,
      Availability: '',
      DefaultAddrPool: [],
      SubnetSize: 24,
    });
  });
  it('init flags', () => {
    const r = initRequest({ advertiseAddr: '10.0.0.1', listenAddr: '10.0.0.1:2400', taskHistoryLimit: '10', dispatcherHeartbeat: '2s', certExpiry: '720h', availability: 'Drain', defaultAddrPool: ['10.20.0.0/16'], defaultAddrPoolMaskLength: '26', dataPathPort: '7789', snapshotInterval: '500', maxSnapshots: '2' });
    assert.equal(r.ListenAddr, '10.0.0.1:2400');
    assert.equal(r.AdvertiseAddr, '10.0.0.1');
    assert.equal(r.Availability, 'drain');
    assert.deepEqual(r.DefaultAddrPool, ['10.20.0.0/16']);
    assert.equal(r.SubnetSize, 26);
    assert.equal(r.DataPathPort, 7789);
    assert.deepEqual(r.Spec.Orchestration, { TaskHistoryRetentionLimit: 10 });
    assert.deepEqual(r.Spec.Dispatcher, { HeartbeatPeriod: 2e9 });
    assert.deepEqual(r.Spec.CAConfig, { NodeCertExpiry: 720 * 3600e9 });
    assert.deepEqual(r.Spec.Raft, { ElectionTick: 0, HeartbeatTick: 0, SnapshotInterval: 500, KeepOldSnapshots: 2 });
  });
  it('bad values and unsupported options are refused before anything is sent', () => {
    assert.throws(() => initRequest({ dispatcherHeartbeat: '5' }), /invalid argument "5" for "--dispatcher-heartbeat" flag: time: missing unit in duration "5"/);
    assert.throws(() => initRequest({ availability: 'off' }), /"--availability" flag: must be one of "active", "pause", "drain"/);
    assert.throws(() => initRequest({ taskHistoryLimit: 'ten' }), /"--task-history-limit" flag/);
    assert.throws(() => initRequest({ defaultAddrPool: ['10.0.0.0'] }), /invalid CIDR address: 10.0.0.0/);
    assert.throws(() => initSpec({ externalCa: 'protocol=cfssl,url=x' }), /external CAs are not supported by shoal/);
  });
  it('--autolock: in the request and in its spec, as docker sends it', () => {
    const r = initRequest({ autolock: true });
    assert.equal(r.AutoLockManagers, true);
    assert.deepEqual(r.Spec.EncryptionConfig, { AutoLockManagers: true });
    assert.deepEqual(initRequest({ autolock: false }).Spec.EncryptionConfig, { AutoLockManagers: false });
    assert.deepEqual(mergeSwarmSpec({ EncryptionConfig: { AutoLockManagers: true } }, { autolock: false }).EncryptionConfig, { AutoLockManagers: false });
    assert.deepEqual(mergeSwarmSpec({ Name: 'x' }, { certExpiry: '1h' }), { Name: 'x', CAConfig: { NodeCertExpiry: 3600e9 } }, 'autolock untouched when not given');
  });
  it('update changes only the given fields of the current spec', () => {
    const current = { Name: 'default', Labels: { a: 'b' }, Orchestration: { TaskHistoryRetentionLimit: 5 }, Raft: { SnapshotInterval: 10000, ElectionTick: 10, HeartbeatTick: 1 }, Dispatcher: { HeartbeatPeriod: 5e9 }, CAConfig: { NodeCertExpiry: 7776000e9 } };
    const next = mergeSwarmSpec(current, { taskHistoryLimit: '-1', dispatcherHeartbeat: '10s' });
    assert.deepEqual(next, { ...current, Orchestration: { TaskHistoryRetentionLimit: -1 }, Dispatcher: { HeartbeatPeriod: 10e9 } });
    assert.deepEqual(current.Orchestration, { TaskHistoryRetentionLimit: 5 }, 'input untouched');
  });
});

describe('cli swarm init/update calls with autolock', () => {
  const KEY = 'SWMKEY-1-abc';
  const joinRoutes = { 'POST /swarm/init': 'node1', 'GET /nodes/node1': { ID: 'node1', Spec: {}, ManagerStatus: { Addr: '10.0.0.1:2377' } }, 'GET /swarm': { ID: 'sw', Spec: {}, JoinTokens: { Worker: 'SWMTKN-w' } } };
  const joinText = "Swarm initialized: current node (node1) is now a manager.\n\nTo add a worker to this swarm, run the following command:\n\n    shoal swarm join --token SWMTKN-w 10.0.0.1:2377\n\nTo add a manager to this swarm, run 'shoal swarm join-token manager' and follow the instructions.\n";
  it('init --autolock prints the unlock key after the join instructions', async () => {
    const cli = new FakeCli({ ...joinRoutes, 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runInit(cli, initRequest({ autolock: true }));
    assert.deepEqual(cli.paths, ['POST /swarm/init', 'GET /nodes/node1', 'GET /swarm', 'GET /swarm/unlockkey']);
    assert.equal(cli.text, joinText + unlockNotice(KEY));
  });
  it('init without --autolock does not ask for a key; an empty key prints nothing', async () => {
    const plain = new FakeCli(joinRoutes);
    await runInit(plain, initRequest({}));
    assert.deepEqual(plain.paths, ['POST /swarm/init', 'GET /nodes/node1', 'GET /swarm']);
    const empty = new FakeCli({ ...joinRoutes, 'GET /swarm/unlockkey': { UnlockKey: '' } });
    await runInit(empty, initRequest({ autolock: true }));
    assert.equal(empty.text, joinText);
  });
  const current = (autolock: boolean) => ({ ID: 'sw', Version: { Index: 9 }, Spec: { Name: 'default', EncryptionConfig: { AutoLockManagers: autolock } } });
  it('update --autolock: turned on shows the key; already on, or turned off, does not', async () => {
    const on = new FakeCli({ 'GET /swarm': current(false), 'POST /swarm/update': undefined, 'GET /swarm/unlockkey': { UnlockKey: KEY } });
    await runUpdate(on, { autolock: true });
    assert.deepEqual(on.paths, ['GET /swarm', 'POST /swarm/update', 'GET /swarm/unlockkey']);
    assert.deepEqual(on.calls[1].query, { rotateManagerToken: 'false', rotateManagerUnlockKey: 'false', rotateWorkerToken: 'false', version: 9 });
    assert.deepEqual(on.calls[1].body, current(true).Spec);
    assert.equal(on.text, `Swarm updated.\n${unlockNotice(KEY)}`);
    for (const [was, flag] of [[true, true], [true, false], [false, false]] as const) {
      const cli = new FakeCli({ 'GET /swarm': current(was), 'POST /swarm/update': undefined });
      await runUpdate(cli, { autolock: flag });
      assert.deepEqual(cli.paths, ['GET /swarm', 'POST /swarm/update']);
      assert.deepEqual(cli.calls[1].body, current(flag).Spec);
      assert.equal(cli.text, 'Swarm updated.\n');
    }
  });
});

describe('cli node update', () => {
  const spec: NodeSpec = { Name: 'n', Role: 'worker', Availability: 'active', Labels: { zone: 'a', rack: '1' } };
  it('availability, role and labels', () => {
    assert.deepEqual(mergeNodeUpdate(spec, { availability: 'drain', role: 'manager', labelAdd: ['zone=b', 'ssd'], labelRm: ['rack'] }), { Name: 'n', Role: 'manager', Availability: 'drain', Labels: { zone: 'b', ssd: '' } });
    assert.deepEqual(mergeNodeUpdate({ Role: 'worker', Labels: null }, {}), { Role: 'worker', Labels: {} });
  });
  it('refuses unknown values and removing a label that is not there', () => {
    assert.throws(() => mergeNodeUpdate(spec, { availability: 'off' }), /"--availability" flag: must be one of "active", "pause", "drain"/);
    assert.throws(() => mergeNodeUpdate(spec, { role: 'leader' }), /"--role" flag: must be one of "worker", "manager"/);
    assert.throws(() => mergeNodeUpdate(spec, { labelRm: ['nope'] }), /key nope doesn't exist in node's labels/);
  });
});

describe('cli service scale, image pinning and logs', () => {
  const base: ServiceSpec = { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox:latest' } }, Mode: { Replicated: { Replicas: 1 } } };
  it('scale sets replicas, or a replicated job\'s completions; never other modes', () => {
    assert.deepEqual(scaledSpec(base, 4).Mode, { Replicated: { Replicas: 4 } });
    assert.deepEqual(scaledSpec({ ...base, Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 2 } } }, 6).Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 6 } });
    assert.throws(() => scaledSpec({ ...base, Mode: { Global: {} } }, 2), /scale can only be used with replicated or replicated-job mode/);
    assert.deepEqual(base.Mode, { Replicated: { Replicas: 1 } }, 'input untouched');
  });
  it('the image is pinned to the registry digest and its platforms recorded', () => {
    const spec = structuredClone(base);
    const digest = 'sha256:' + 'e'.repeat(64);
    pinImage(spec, {
      Descriptor: { digest },
      Platforms: [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm', os: 'linux' },
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'unknown', os: 'unknown' },
      ],
    });
    assert.equal(spec.TaskTemplate!.ContainerSpec!.Image, `busybox:latest@${digest}`);
    assert.deepEqual(spec.TaskTemplate!.Placement, { Platforms: [{ Architecture: 'amd64', OS: 'linux' }, { Architecture: '', OS: 'linux' }] });
  });
  it('log lines: details parsed, context taken out, the rest kept', () => {
    const ctx = 'com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=task1';
    assert.deepEqual(parseLogDetails('a=b%20c,d=e+f'), { a: 'b c', d: 'e f' });
    assert.deepEqual(splitLogLine(`${ctx} hello world\n`, { timestamps: false, details: false }), { timestamp: undefined, node: 'node1', service: 'svc1', task: 'task1', details: '', text: 'hello world\n' });
    assert.deepEqual(splitLogLine(`2026-01-01T00:00:00.000000000Z ${ctx},z=1,env=prod x\n`, { timestamps: true, details: true }), {
      timestamp: '2026-01-01T00:00:00.000000000Z',
      node: 'node1',
      service: 'svc1',
      task: 'task1',
      details: 'env=prod,z=1 ',
      text: 'x\n',
    });
    assert.throws(() => splitLogLine('no-context-here', { timestamps: false, details: false }), /invalid context in log message: no-context-here/);
    assert.throws(() => splitLogLine('a=b text', { timestamps: false, details: false }), /missing node id in details/);
  });
});
