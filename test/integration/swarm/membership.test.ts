import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { docker } from '../../helpers/docker';
import { ApiError } from '../../../shared/client';

interface SwarmJson {
  ID: string;
  Version: { Index: number };
  Spec: { Dispatcher: { HeartbeatPeriod: number }; Orchestration: { TaskHistoryRetentionLimit: number } };
  JoinTokens: { Worker: string; Manager: string };
  TLSInfo: { TrustRoot: string };
}

/** The etcd and nats-server children a daemon started (their pid files under its swarm dir). */
async function swarmChildren(d: TestDaemon): Promise<number[]> {
  const run = join(d.dataRoot, 'swarm', 'run');
  const pids: number[] = [];
  for (const f of await fs.readdir(run).catch(() => [] as string[])) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(JSON.parse(await fs.readFile(join(run, f), 'utf8')).pid);
    if (pid > 0 && existsSync(`/proc/${pid}`)) pids.push(pid);
  }
  return pids;
}

const status = (e: unknown) => (e instanceof ApiError ? e.status : 0);

describe('swarm membership: init, inspect, update, leave (real etcd and nats-server)', function () {
  this.timeout(90_000);
  let d: TestDaemon;
  const port = 24000 + Math.floor(Math.random() * 1000) * 6;

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.client.post('/swarm/leave', { query: { force: 1 } }).catch(() => undefined);
    await d?.destroy();
  });

  it('refuses bad init requests with a 400 and leaves no swarm state', async () => {
    for (const body of [{ ListenAddr: '127.0.0.1:99999' }, { ListenAddr: '127.0.0.1:1', Bogus: 1 }, { AdvertiseAddr: 'no-such-if0' }, { Spec: { Dispatcher: { HeartbeatPeriod: -1 } } }]) {
      await assert.rejects(d.client.post('/swarm/init', { body }), (e) => status(e) === 400, JSON.stringify(body));
    }
    assert.equal(existsSync(join(d.dataRoot, 'swarm')), false);
    const info = await d.client.get<{ Swarm: { LocalNodeState: string } }>('/info');
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
    await assert.rejects(d.client.get('/swarm'), (e) => status(e) === 503 && /not a swarm manager. Use "docker swarm init"/.test((e as Error).message));
  });

  it('docker swarm init makes a one-manager cluster with its own etcd and NATS', async () => {
    const r = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Swarm initialized: current node \(\w{25}\) is now a manager/);
    const sw = await d.client.get<SwarmJson>('/swarm');
    assert.match(sw.ID, /^\w{25}$/);
    assert.match(sw.JoinTokens.Worker, /^SWMTKN-1-\w{50}-\w{25}$/);
    assert.notEqual(sw.JoinTokens.Worker, sw.JoinTokens.Manager);
    assert.match(sw.TLSInfo.TrustRoot, /BEGIN CERTIFICATE/);
    assert.equal(sw.Spec.Orchestration.TaskHistoryRetentionLimit, 5);
    assert.equal(sw.Spec.Dispatcher.HeartbeatPeriod, 500e6);
    const info = await d.client.get<{ Swarm: { LocalNodeState: string; ControlAvailable: boolean; Managers: number; Nodes: number; Cluster: { ID: string; JoinTokens?: unknown } } }>('/info');
    assert.equal(info.Swarm.LocalNodeState, 'active');
    assert.equal(info.Swarm.ControlAvailable, true);
    assert.equal(info.Swarm.Cluster.ID, sw.ID);
    assert.equal(info.Swarm.Cluster.JoinTokens, undefined, '/info never shows the join tokens');
    assert.equal((await swarmChildren(d)).length, 2, 'etcd and nats-server run as children');
    const again = await docker(d.host, ['swarm', 'init']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already part of a swarm/);
  });

  it('swarm update: needs the version, refuses a stale one, rotates a token', async () => {
    const sw = await d.client.get<SwarmJson>('/swarm');
    await assert.rejects(d.client.post('/swarm/update', { body: sw.Spec }), (e) => status(e) === 400 && /version/.test((e as Error).message));
    await d.client.post('/swarm/update', { query: { version: sw.Version.Index, rotateWorkerToken: 1 }, body: { ...sw.Spec, Orchestration: { TaskHistoryRetentionLimit: 3 } } });
    const next = await d.client.get<SwarmJson>('/swarm');
    assert.notEqual(next.JoinTokens.Worker, sw.JoinTokens.Worker);
    assert.equal(next.JoinTokens.Manager, sw.JoinTokens.Manager);
    assert.equal(next.Spec.Orchestration.TaskHistoryRetentionLimit, 3);
    await assert.rejects(d.client.post('/swarm/update', { query: { version: sw.Version.Index }, body: sw.Spec }), (e) => status(e) === 409 && /out of sequence/.test((e as Error).message));
  });

  it('survives a daemon restart: same cluster, etcd and NATS started again', async () => {
    const before = await d.client.get<SwarmJson>('/swarm');
    const old = await swarmChildren(d);
    await d.stop();
    for (const pid of old) assert.equal(existsSync(`/proc/${pid}`), false, 'children stop with the daemon');
    await d.restart();
    const after = await d.client.get<SwarmJson>('/swarm');
    assert.equal(after.ID, before.ID);
    assert.equal(after.JoinTokens.Worker, before.JoinTokens.Worker);
    assert.equal((await swarmChildren(d)).length, 2);
  });

  it('leave needs --force on the last manager, then erases the swarm state and stops etcd and NATS', async () => {
    const r = await docker(d.host, ['swarm', 'leave']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Use `--force` to ignore this message/);
    const pids = await swarmChildren(d);
    const f = await docker(d.host, ['swarm', 'leave', '--force']);
    assert.equal(f.code, 0, f.stderr);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false);
    assert.equal(existsSync(join(d.dataRoot, 'swarm')), false);
    const info = await d.client.get<{ Swarm: { LocalNodeState: string } }>('/info');
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
    const again = await docker(d.host, ['swarm', 'leave']);
    assert.match(again.stderr, /not part of a swarm/);
  });
});
