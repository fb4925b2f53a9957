// Manager high availability on a lab of three managers and two workers: the leader killed,
// a manager cut off, quorum lost and regained, every manager restarted, and intruders refused.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startLab, type TestLab } from '../helpers/lab';
import { busyboxService, eventually, running, taskContainers, tasksOf } from '../helpers/swarm';
import { ApiError, type EngineClient } from '../../shared/client';
import { Bus } from '../../shared/bus';
import { DispatcherClient, RpcClient, untrustedCredentials } from '../../shared/rpc';

interface ManagerNode {
  ID: string;
  Description: { Hostname: string };
  Status: { State: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string };
}

const MANAGERS = ['m1', 'm2', 'm3'];

describe('manager high availability: three managers in Raft (real etcd, NATS, crun)', function () {
  this.timeout(600_000);
  let lab: TestLab;
  let steady: string;
  /** Container IDs of the steady service's tasks on the workers, by the workers' engines. */
  let steadyContainers: string[];

  const client = (host: string): EngineClient => lab.host(host).client;
  const nodes = (via: string) => client(via).get<ManagerNode[]>('/nodes');
  const leaderName = async (via: string) => (await nodes(via)).find((n) => n.ManagerStatus?.Leader)?.Description.Hostname;
  const workerContainers = async () => {
    const ids: string[] = [];
    for (const w of ['w1', 'w2']) ids.push(...(await taskContainers(client(w), steady)).filter((c) => c.State === 'running').map((c) => c.Id));
    return ids.sort();
  };
  const allReachable = (via: string) =>
    eventually(`every manager reachable from ${via}`, async () => {
      const ms = (await nodes(via)).filter((n) => n.ManagerStatus);
      return ms.length === 3 && ms.every((n) => n.ManagerStatus!.Reachability === 'reachable') && ms.some((n) => n.ManagerStatus!.Leader);
    });
  /** The steady service still runs the very same containers: nothing restarted or duplicated. */
  const steadyUntouched = async (via: string) => {
    await running(client(via), steady, 4);
    assert.deepEqual(await workerContainers(), steadyContainers);
  };

  before(async () => {
    lab = await startLab({ managers: 3, workers: 2 });
    steady = (await client('m1').post<{ ID: string }>('/services/create', { body: busyboxService('steady', { Mode: { Replicated: { Replicas: 4 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'], StopGracePeriod: 1e9 }, Placement: { Constraints: ['node.role==worker'] } } }) })).ID;
    await running(client('m1'), steady, 4);
    steadyContainers = await workerContainers();
    assert.equal(steadyContainers.length, 4);
    await allReachable('m1');
  });
  after(async () => {
    await lab?.down();
  });

  it('every manager serves the API and sees the same three managers, one leader', async () => {
    for (const m of MANAGERS) {
      const ms = (await nodes(m)).filter((n) => n.ManagerStatus);
      assert.deepEqual(ms.map((n) => n.Description.Hostname).sort(), MANAGERS);
      assert.equal(ms.filter((n) => n.ManagerStatus!.Leader).length, 1, `${m} names one leader`);
    }
  });

  it('kill -9 of the leader: another manager leads, a new service runs, no task of the old one restarts', async () => {
    const old = (await leaderName('m1'))!;
    const via = MANAGERS.find((m) => m !== old)!;
    await lab.kill(old);
    const next = await eventually('a new leader', async () => {
      const l = await leaderName(via);
      return l && l !== old ? l : undefined;
    });
    assert.notEqual(next, old);
    const id = (await client(via).post<{ ID: string }>('/services/create', { body: busyboxService('after-kill', { Mode: { Replicated: { Replicas: 2 } } }) })).ID;
    await running(client(via), id, 2);
    await steadyUntouched(via);
    await lab.start(old);
    await allReachable(old);
    await steadyUntouched(old);
  });

  it("cutting the leader's link: the others go on, and it catches up when healed", async () => {
    const cut = (await leaderName('m1'))!;
    const via = MANAGERS.find((m) => m !== cut)!;
    await lab.cut(cut);
    await eventually('a leader on the majority side', async () => {
      const l = await leaderName(via);
      return l && l !== cut;
    });
    const id = (await client(via).post<{ ID: string }>('/services/create', { body: busyboxService('during-cut', { Mode: { Replicated: { Replicas: 2 } } }) })).ID;
    await running(client(via), id, 2);
    await lab.heal(cut);
    await allReachable(cut);
    // The healed manager has the service written while it was away (its first reads may still
    // time out while its member catches up with the log).
    await eventually('the healed manager lists during-cut', async () => (await client(cut).get<Array<{ Spec: { Name: string } }>>('/services')).some((s) => s.Spec.Name === 'during-cut'));
    await steadyUntouched(cut);
  });

  it('two of three managers killed: writes refused with the count, reads warn, tasks keep running; all resumes after', async () => {
    const [survivor, ...gone] = MANAGERS;
    for (const m of gone) await lab.kill(m);
    const err = await eventually('a write refused for lack of quorum', async () => {
      try {
        await client(survivor).post('/services/create', { body: busyboxService('no-quorum') });
        return undefined;
      } catch (e) {
        return e instanceof ApiError && /does not have a leader/.test(e.message) ? e : undefined;
      }
    });
    assert.equal(err.status, 503);
    assert.match(err.message, /\(1 of 3 managers reachable, 2 needed\)/);
    // Reads still answer from the survivor's copy, and say it may be stale.
    const res = await client(survivor).raw('GET', '/services');
    assert.equal(res.status, 200);
    assert.match(String(res.headers.warning), /no quorum \(1 of 3 managers reachable\).*may be stale/);
    res.stream.resume();
    // The docker CLI shows the refusal and exits non-zero.
    const cli = await lab.docker(survivor, ['service', 'create', '--name', 'no-quorum', 'busybox', 'sleep', '1']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /does not have a leader/);
    // Tasks on the workers keep running, untouched.
    assert.deepEqual(await workerContainers(), steadyContainers);
    for (const m of gone) await lab.start(m);
    await allReachable(survivor);
    const id = (await client(survivor).post<{ ID: string }>('/services/create', { body: busyboxService('after-quorum', { Mode: { Replicated: { Replicas: 1 } } }) })).ID;
    await running(client(survivor), id, 1);
    const names = (await client(survivor).get<Array<{ Spec: { Name: string } }>>('/services')).map((s) => s.Spec.Name).sort();
    assert.deepEqual(names, ['after-kill', 'after-quorum', 'during-cut', 'steady']);
    assert.ok(!names.includes('no-quorum'));
    await steadyUntouched(survivor);
  });

  it('restarting every manager keeps the state intact', async () => {
    const before = (await client('m1').get<Array<{ ID: string; Version: { Index: number } }>>('/services')).map((s) => s.ID).sort();
    const tasksBefore = (await tasksOf(client('m1'), steady)).map((t) => t.ID).sort();
    for (const m of MANAGERS) await lab.kill(m);
    for (const m of MANAGERS) await lab.start(m);
    await allReachable('m2');
    assert.deepEqual((await client('m2').get<Array<{ ID: string }>>('/services')).map((s) => s.ID).sort(), before);
    assert.equal((await nodes('m3')).length, 5);
    await steadyUntouched('m3');
    assert.deepEqual((await tasksOf(client('m3'), steady)).map((t) => t.ID).sort(), tasksBefore);
  });

  it('intruders: a wrong token cannot join; without a certificate neither gRPC, etcd nor NATS answers', async () => {
    const m1 = lab.host('m1');
    // w2 leaves, then tries again with a token whose secret is wrong.
    const { JoinTokens } = await client('m1').get<{ JoinTokens: { Worker: string } }>('/swarm');
    await client('w2').post('/swarm/leave', { query: { force: true } });
    const countBefore = (await nodes('m1')).length;
    const wrong = JoinTokens.Worker.replace(/-[a-z0-9]+$/, '-0000000000000000000000000');
    const joined = await lab.docker('w2', ['swarm', 'join', '--token', wrong, '--advertise-addr', lab.host('w2').address, `${m1.address}:2377`]);
    assert.notEqual(joined.code, 0);
    assert.match(joined.stderr, /token/i);
    assert.equal((await nodes('m1')).length, countBefore, 'a refused join leaves no node record');
    // gRPC without a client certificate: the dispatcher refuses to open a session.
    const rpc = new RpcClient(`${m1.address}:2377`, untrustedCredentials());
    try {
      const session = new DispatcherClient(rpc).session({ description: '{}', sessionId: '' }, { signal: AbortSignal.timeout(10_000) });
      await assert.rejects(async () => {
        for await (const _ of session) break;
      }, /certificate|PERMISSION_DENIED|permission/i);
    } finally {
      rpc.close();
    }
    // etcd: its client port listens on the manager's loopback only, its peer port wants a cluster certificate.
    const reach = (port: number) =>
      new Promise<boolean>((resolve) => {
        const s = connect({ host: m1.address, port, timeout: 2000 }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
        s.on('timeout', () => (s.destroy(), resolve(false)));
      });
    assert.equal(await reach(2379), false, 'the etcd client port is not reachable from another host');
    const answered = await new Promise<string | undefined>((resolve) => {
      const t = tlsConnect({ host: m1.address, port: 2380, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => t.write(`GET /members HTTP/1.1\r\nHost: ${m1.address}\r\n\r\n`));
      let got = '';
      t.on('data', (d) => (got += d.toString()));
      t.on('error', () => resolve(undefined));
      t.on('close', () => resolve(got || undefined));
      t.setTimeout(3000, () => t.destroy());
    });
    assert.equal(answered, undefined, `etcd's peer port answered a client without a certificate: ${answered}`);
    // NATS: even with the bus token, a client without a cluster certificate is turned away.
    const state = JSON.parse(await fs.readFile(join(lab.lab.host('m1').dataRoot, 'swarm', 'state.json'), 'utf8')) as { busToken: string };
    await assert.rejects(Bus.connect(`nats://${m1.address}:2381`, { token: state.busToken, connectTimeoutMs: 2000, name: 'intruder' }));
  });

  it('a worker keeps the managers its sessions name: restarted while the manager it joined through is down, it finds another', async () => {
    const stateFile = join(lab.lab.host('w1').dataRoot, 'swarm', 'state.json');
    const saved = async () => (JSON.parse(await fs.readFile(stateFile, 'utf8')) as { managers: string[] }).managers;
    const all = MANAGERS.map((m) => `${lab.host(m).address}:2377`).sort();
    await eventually("w1's saved managers are all three", async () => [...(await saved())].sort().join() === all.join());
    const opened = async () => (await fs.readFile(lab.lab.host('w1').log, 'utf8')).split('\n').filter((l) => l.includes('"session open"'));
    await lab.kill('m1');
    await lab.kill('w1');
    const before = (await opened()).length;
    await lab.start('w1');
    const line = await eventually('w1 in session again', async () => (await opened()).slice(before).find((l) => !l.includes(`"manager":"${lab.host('m1').address}:2377"`)));
    assert.ok(line);
    await lab.start('m1');
    await allReachable('m1');
  });

  it('swarm init --force-new-cluster recovers the swarm from the one manager left', async () => {
    const services = (await client('m1').get<Array<{ ID: string }>>('/services')).map((s) => s.ID).sort();
    for (const m of ['m2', 'm3']) await lab.kill(m);
    await eventually('quorum lost on m1', async () => {
      try {
        await client('m1').post('/services/create', { body: busyboxService('lost') });
        return false;
      } catch (e) {
        return e instanceof ApiError && /does not have a leader/.test(e.message);
      }
    });
    const r = await lab.docker('m1', ['swarm', 'init', '--force-new-cluster']);
    assert.equal(r.code, 0, r.stderr);
    const id = (await client('m1').post<{ ID: string }>('/services/create', { body: busyboxService('recovered', { Mode: { Replicated: { Replicas: 1 } } }) })).ID;
    await running(client('m1'), id, 1);
    assert.deepEqual((await client('m1').get<Array<{ ID: string }>>('/services')).map((s) => s.ID).sort(), [...services, id].sort());
    const ms = (await nodes('m1')).filter((n) => n.ManagerStatus);
    assert.equal(ms.find((n) => n.Description.Hostname === 'm1')?.ManagerStatus?.Leader, true);
    for (const m of ['m2', 'm3']) assert.equal(ms.find((n) => n.Description.Hostname === m)?.ManagerStatus?.Reachability, 'unreachable');
    // (w2 left in the test before: its share of the steady tasks runs on w1 now.)
    await running(client('m1'), steady, 4);
  });
});
