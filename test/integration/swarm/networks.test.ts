import assert from 'node:assert/strict';
import { SHOAL, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { docker, runCli } from '../../helpers/docker';
import { eventually } from '../../helpers/swarm';
import { ApiError } from '../../../shared/client';
import { overlaps, parseCidr } from '../../../shared/net/ipv4';
import { run } from '../../../shared/exec';

interface NetworkJson {
  Id: string;
  Name: string;
  Scope: string;
  Driver: string;
  Ingress: boolean;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  Options: Record<string, string>;
}

const status = (e: unknown) => (e instanceof ApiError ? e.status : 0);


describe('swarm networks: create, list, inspect, remove (one manager, real etcd)', function () {
  this.timeout(90_000);
  let d: TestDaemon;
  const port = 26000 + Math.floor(Math.random() * 1000) * 6;
  const swarmNets = async () => (await d.client.get<NetworkJson[]>('/networks')).filter((n) => n.Scope === 'swarm');

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.client.post('/swarm/leave', { query: { force: 1 } }).catch(() => undefined);
    await d?.destroy();
  });

  it('outside a swarm, an overlay network is refused with dockerd\'s message and nothing is made', async () => {
    const r = await docker(d.host, ['network', 'create', '-d', 'overlay', 'early']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is not a swarm manager\. Use "docker swarm init"/);
    assert.equal((await d.client.get<NetworkJson[]>('/networks')).some((n) => n.Name === 'early'), false);
  });

  it('swarm init makes the ingress network; docker network create/ls/inspect/rm work on overlay networks', async () => {
    const init = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`]);
    assert.equal(init.code, 0, init.stderr);
    const [ingress] = await swarmNets();
    assert.equal(ingress.Name, 'ingress');
    assert.equal(ingress.Ingress, true);
    assert.equal(ingress.Driver, 'overlay');
    assert.match(ingress.IPAM.Config[0].Subnet, /^10\.\d+\.\d+\.0\/24$/);

    const made = await docker(d.host, ['network', 'create', '-d', 'overlay', '--attachable', '--label', 'tier=front', 'front']);
    assert.equal(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    const ls = await docker(d.host, ['network', 'ls', '--filter', 'scope=swarm', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['front overlay swarm', 'ingress overlay swarm']);
    const inspect = await docker(d.host, ['network', 'inspect', 'front']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [n] = JSON.parse(inspect.stdout) as NetworkJson[];
    assert.equal(n.Id, id);
    assert.equal(n.Scope, 'swarm');
    assert.ok(!overlaps(parseCidr(n.IPAM.Config[0].Subnet), parseCidr(ingress.IPAM.Config[0].Subnet)));
    assert.notEqual(n.Options['com.docker.network.driver.overlay.vxlanid_list'], ingress.Options['com.docker.network.driver.overlay.vxlanid_list']);
    // A local network and a swarm network side by side in one list.
    assert.ok((await d.client.get<NetworkJson[]>('/networks')).some((x) => x.Name === 'bridge' && x.Scope === 'local'));

    const rm = await docker(d.host, ['network', 'rm', 'front']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual((await swarmNets()).map((x) => x.Name), ['ingress']);

    // The shoal CLI, same verbs and flags.
    const shoal = (...args: string[]) => runCli(process.execPath, [SHOAL, '-H', d.host, ...args]);
    const sm = await shoal('network', 'create', '-d', 'overlay', '--subnet', '10.150.0.0/24', 'viashoal');
    assert.equal(sm.code, 0, sm.stderr);
    assert.equal((await shoal('network', 'inspect', 'viashoal', '--format', '{{.Scope}} {{.Driver}} {{json .IPAM.Config}}')).stdout.trim(), 'swarm overlay [{"Subnet":"10.150.0.0/24","Gateway":"10.150.0.1"}]');
    const taken = await shoal('network', 'create', '-d', 'overlay', '--subnet', '10.150.0.128/25', 'clash');
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /overlaps 10\.150\.0\.0\/24 of network viashoal/);
    assert.equal((await shoal('network', 'rm', 'viashoal')).code, 0);
    assert.deepEqual((await swarmNets()).map((x) => x.Name), ['ingress']);
  });

  it('bad input gets a clear 4xx and changes nothing', async () => {
    const before = await swarmNets();
    const cases: Array<[string[], RegExp]> = [
      [['network', 'create', '-d', 'overlay', '--subnet', '10.0.0.0/8', 'clash'], /Pool overlaps with other one on this address space \(10\.0\.0\.0\/8 overlaps .* of network ingress\)/],
      [['network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'secret'], /IPsec ESP/],
      [['network', 'create', '-d', 'overlay', 'ingress'], /network with name ingress already exists/],
      [['network', 'rm', 'no-such-net'], /network no-such-net not found/],
    ];
    for (const [args, re] of cases) {
      const r = await docker(d.host, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    await assert.rejects(d.client.post('/networks/create', { body: { Name: 'x', Driver: 'overlay', Bogus: true } }), (e) => status(e) === 400 && /Bogus: unknown field/.test((e as Error).message));
    // The CLI checks this one itself; the API refuses it too.
    const gw = { Name: 'gw', Driver: 'overlay', IPAM: { Config: [{ Subnet: '10.77.0.0/24', Gateway: '10.78.0.1' }] } };
    await assert.rejects(d.client.post('/networks/create', { body: gw }), (e) => status(e) === 400 && /gateway 10\.78\.0\.1 is not a usable address of subnet 10\.77\.0\.0\/24/.test((e as Error).message));
    assert.deepEqual(await swarmNets(), before);
  });

  it('a network in use by a service cannot be removed; the message names the service', async () => {
    assert.equal((await docker(d.host, ['network', 'create', '-d', 'overlay', 'back'])).code, 0);
    const svc = await docker(d.host, ['service', 'create', '--detach', '--name', 'api', '--network', 'back', 'busybox', 'sleep', '600']);
    assert.equal(svc.code, 0, svc.stderr);
    // The allocator gives the service a VIP on the network and each task an address there.
    const back = (await swarmNets()).find((n) => n.Name === 'back')!;
    let vip = '';
    let addrs: string[] = [];
    const until = Date.now() + 30_000;
    while (Date.now() < until && (!vip || addrs.length < 1)) {
      const svcJson = await d.client.get<{ Endpoint?: { VirtualIPs?: Array<{ NetworkID: string; Addr: string }> } }>('/services/api');
      vip = svcJson.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === back.Id)?.Addr ?? '';
      const tasks = await d.client.get<Array<{ NetworksAttachments?: Array<{ Network: { ID: string }; Addresses: string[] }> }>>('/tasks', { query: { filters: JSON.stringify({ service: ['api'] }) } });
      addrs = tasks.flatMap((t) => (t.NetworksAttachments ?? []).filter((a) => a.Network.ID === back.Id).flatMap((a) => a.Addresses));
      if (!vip || !addrs.length) await new Promise((ok) => setTimeout(ok, 100));
    }
    const subnet = parseCidr(back.IPAM.Config[0].Subnet);
    for (const a of [vip, ...addrs]) assert.ok(a && overlaps(parseCidr(a, true), subnet), `${a} is in ${back.IPAM.Config[0].Subnet}`);
    assert.ok(!addrs.includes(vip));
    // --network-add and --network-rm: the service's VIPs follow its networks.
    assert.equal((await docker(d.host, ['network', 'create', '-d', 'overlay', 'side'])).code, 0);
    const vipNets = async () => ((await d.client.get<{ Endpoint?: { VirtualIPs?: Array<{ NetworkID: string }> } }>('/services/api')).Endpoint?.VirtualIPs ?? []).map((v) => v.NetworkID).sort();
    const side = (await swarmNets()).find((n) => n.Name === 'side')!;
    assert.equal((await docker(d.host, ['service', 'update', '--detach', '--network-add', 'side', 'api'])).code, 0);
    await eventually('the VIP on side too', async () => (await vipNets()).join() === [back.Id, side.Id].sort().join());
    assert.equal((await docker(d.host, ['service', 'update', '--detach', '--network-rm', 'side', 'api'])).code, 0);
    await eventually('the VIP on back only', async () => (await vipNets()).join() === back.Id);
    const unknown = await docker(d.host, ['service', 'update', '--detach', '--network-add', 'nosuch', 'api']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /network nosuch not found/);
    await eventually('side removable', async () => (await docker(d.host, ['network', 'rm', 'side'])).code === 0);

    const refused = await docker(d.host, ['network', 'rm', 'back']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /network back is in use by service api/);
    const ingress = await docker(d.host, ['network', 'rm', 'ingress'], { input: 'y\n' });
    assert.equal(ingress.code, 0, `no service publishes an ingress port: the ingress network may go, as in Docker: ${ingress.stderr}`);
    assert.equal((await swarmNets()).some((n) => n.Ingress), false, 'the ingress network is gone');
    assert.equal((await docker(d.host, ['service', 'rm', 'api'])).code, 0);
    // Once the service's tasks have stopped, the network goes.
    const deadline = Date.now() + 30_000;
    let r = await docker(d.host, ['network', 'rm', 'back']);
    while (r.code !== 0 && Date.now() < deadline) {
      assert.match(r.stderr, /in use|active endpoints/);
      await new Promise((ok) => setTimeout(ok, 200));
      r = await docker(d.host, ['network', 'rm', 'back']);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await swarmNets(), []);
  });

  it('concurrent creations never share a subnet or a VNI; a contested subnet goes to exactly one', async () => {
    const auto = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => d.client.post<{ Id: string }>('/networks/create', { body: { Name: `par${i}`, Driver: 'overlay' } })));
    assert.ok(auto.every((r) => r.status === 'fulfilled'), JSON.stringify(auto.filter((r) => r.status === 'rejected')));
    const nets = await swarmNets();
    const subnets = nets.map((n) => n.IPAM.Config[0].Subnet);
    const vnis = nets.map((n) => n.Options['com.docker.network.driver.overlay.vxlanid_list']);
    assert.equal(new Set(subnets).size, nets.length, `subnets: ${subnets.join(' ')}`);
    assert.equal(new Set(vnis).size, nets.length, `VNIs: ${vnis.join(' ')}`);
    for (const a of subnets) for (const b of subnets) if (a !== b) assert.ok(!overlaps(parseCidr(a), parseCidr(b)), `${a} overlaps ${b}`);

    const contested = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => d.client.post('/networks/create', { body: { Name: `same${i}`, Driver: 'overlay', IPAM: { Config: [{ Subnet: '10.123.0.0/24' }] } } })));
    assert.equal(contested.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of contested) if (r.status === 'rejected') assert.equal(status(r.reason), 403, String(r.reason));
    for (const n of await swarmNets()) await d.client.delete(`/networks/${n.Id}`);
    assert.deepEqual(await swarmNets(), []);
  });

  it('leaving the swarm takes the node off every overlay network: no device is left', async () => {
    assert.equal((await docker(d.host, ['network', 'create', '-d', 'overlay', 'last'])).code, 0);
    assert.equal((await docker(d.host, ['service', 'create', '--detach', '--name', 'stay', '--network', 'last', 'busybox', 'sleep', '600'])).code, 0);
    const overlayLinks = async () => (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => / (ov|vx)\d+[:@]/.test(l));
    let seen: string[] = [];
    await eventually('the overlay devices', async () => (seen = await overlayLinks()).length === 2).catch((e: Error) => {
      throw new Error(`${e.message}; overlay links now: ${seen.join(' | ') || 'none'}`);
    });
    assert.equal((await docker(d.host, ['swarm', 'leave', '--force'])).code, 0);
    assert.deepEqual(await overlayLinks(), []);
  });

  it('swarm init --default-addr-pool and --default-addr-pool-mask-length choose where automatic subnets come from; bad pools are refused before anything is made', async () => {
    const bad = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`, '--default-addr-pool', '10.20.0.0/16', '--default-addr-pool', '10.20.128.0/17']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /default address pools 10\.20\.0\.0\/16 and 10\.20\.128\.0\/17 overlap/);
    const small = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`, '--default-addr-pool', '10.30.0.0/28', '--default-addr-pool-mask-length', '24']);
    assert.notEqual(small.code, 0);
    assert.match(small.stderr, /10\.30\.0\.0\/28: it is smaller than a \/24 subnet/);
    const info = await d.client.get<{ Swarm: { LocalNodeState: string } }>('/info');
    assert.equal(info.Swarm.LocalNodeState, 'inactive', 'a refused init leaves the node out of any swarm');

    const init = await docker(d.host, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`, '--default-addr-pool', '10.20.0.0/16', '--default-addr-pool-mask-length', '26']);
    assert.equal(init.code, 0, init.stderr);
    const shown = await docker(d.host, ['info', '--format', '{{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}']);
    assert.equal(shown.stdout.trim(), '["10.20.0.0/16"] 26');
    assert.equal((await docker(d.host, ['network', 'create', '-d', 'overlay', 'pooled'])).code, 0);
    const subnets = (await swarmNets()).map((n) => `${n.Name} ${n.IPAM.Config[0].Subnet}`).sort();
    assert.deepEqual(subnets, ['ingress 10.20.0.0/26', 'pooled 10.20.0.64/26']);
    assert.equal((await docker(d.host, ['swarm', 'leave', '--force'])).code, 0);
  });
});
