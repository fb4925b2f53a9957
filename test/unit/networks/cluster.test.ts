import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { compileNetworkCreate, wantsSwarmNetwork } from '../../../manager/networks/spec';
import { VXLAN_OPTION } from '../../../shared/swarm';
import { dropOwners, emptySubnetTable, releaseNetwork, reserveNetwork, swarmAddressPools, takeAddress, taskOwner, vipOwner, FIRST_VNI } from '../../../manager/networks/ipam';
import { servicesUsing } from '../../../manager/networks/objects';
import { networkFacts, swarmNetworkJson } from '../../../manager/networks/present';
import { networkMatches } from '../../../shared/net/filters';
import type { Network, Service } from '../../../shared/swarm';

const refused = (code: string, re: RegExp) => (e: unknown) => isShoalError(e) && e.code === code && re.test(e.message);

describe('cluster networks', () => {
  describe('compileNetworkCreate', () => {
    it('compiles docker network create -d overlay into a swarm spec', () => {
      const spec = compileNetworkCreate({ Name: 'front', Driver: 'overlay', Attachable: true, Labels: { a: 'b' }, IPAM: { Driver: 'default', Config: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.254' }] }, CheckDuplicate: true });
      assert.deepEqual(spec, {
        Name: 'front',
        Labels: { a: 'b' },
        DriverConfiguration: { Name: 'overlay' },
        Attachable: true,
        IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.9.0.0/24', Gateway: '10.9.0.254' }] },
        Scope: 'swarm',
      });
      assert.equal(wantsSwarmNetwork({ Name: 'x', Driver: 'overlay' }), true);
      assert.equal(wantsSwarmNetwork({ Name: 'x', Scope: 'swarm' }), true);
      assert.equal(wantsSwarmNetwork({ Name: 'x' }), false);
    });

    it('refuses bad requests with a message naming the problem', () => {
      const cases: Array<[unknown, string, RegExp]> = [
        [{ Name: '' , Driver: 'overlay'}, 'INVALID_ARGUMENT', /name is required/],
        [{ Name: 'a b', Driver: 'overlay' }, 'INVALID_ARGUMENT', /invalid network name 'a b'/],
        [{ Name: 'host', Driver: 'overlay' }, 'PERMISSION_DENIED', /pre-defined network/],
        [{ Name: 'x', Driver: 'overlay', Bogus: 1 }, 'INVALID_ARGUMENT', /Bogus: unknown field/],
        [{ Name: 'x', Driver: 'macvlan', Scope: 'swarm' }, 'INVALID_ARGUMENT', /driver 'macvlan' cannot be used in swarm scope/],
        [{ Name: 'x', Driver: 'overlay', Options: { encrypted: '' } }, 'INVALID_ARGUMENT', /IPsec ESP/],
        [{ Name: 'x', Driver: 'overlay', Options: { [VXLAN_OPTION]: '5000' } }, 'INVALID_ARGUMENT', /chosen by the cluster/],
        [{ Name: 'x', Driver: 'overlay', EnableIPv6: true }, 'INVALID_ARGUMENT', /IPv6/],
        [{ Name: 'x', Driver: 'overlay', Ingress: true, Attachable: true }, 'INVALID_ARGUMENT', /ingress network cannot be attachable/],
        [{ Name: 'x', Driver: 'overlay', IPAM: { Config: [{ Subnet: '10.1.0.0/24' }, { Subnet: '10.2.0.0/24' }] } }, 'INVALID_ARGUMENT', /one IPv4 subnet/],
        [{ Name: 'x', Driver: 'overlay', Labels: { a: 1 } }, 'INVALID_ARGUMENT', /Labels.a: must be a string/],
      ];
      for (const [body, code, re] of cases) assert.throws(() => compileNetworkCreate(body), refused(code, re), JSON.stringify(body));
    });
  });

  describe('the subnet table and address pools', () => {
    it('gives each network the next free /24 of 10.0.0.0/8 and the next VNI, avoiding host routes', () => {
      const a = reserveNetwork(emptySubnetTable(), 'net-a', undefined, { names: {}, hostRoutes: ['10.0.0.0/24'] });
      assert.equal(a.pool.Pool.subnet, '10.0.1.0/24');
      assert.equal(a.pool.Pool.gateway, '10.0.1.1');
      assert.equal(a.vni, FIRST_VNI);
      const b = reserveNetwork(a.table, 'net-b', undefined, { names: { 'net-a': 'a' }, hostRoutes: [] });
      assert.equal(b.pool.Pool.subnet, '10.0.0.0/24');
      assert.equal(b.vni, FIRST_VNI + 1);
      assert.deepEqual(b.table.Subnets, { '10.0.1.0/24': 'net-a', '10.0.0.0/24': 'net-b' });
      assert.throws(() => reserveNetwork(b.table, 'net-c', { Subnet: '10.0.0.0/16' }, { names: { 'net-a': 'a', 'net-b': 'b' }, hostRoutes: [] }), refused('PERMISSION_DENIED', /overlaps 10\.0\.(0|1)\.0\/24 of network (a|b)/));
      // A released network's subnet and VNI are free again.
      const freed = releaseNetwork(b.table, 'net-a');
      const c = reserveNetwork(freed, 'net-c', undefined, { names: {}, hostRoutes: [] });
      assert.equal(c.pool.Pool.subnet, '10.0.1.0/24');
      assert.equal(c.vni, FIRST_VNI);
    });

    it('hands each owner one address, keeps it on a second ask, and frees it', () => {
      const { pool } = reserveNetwork(emptySubnetTable(), 'n', { Subnet: '10.5.0.0/29' }, { names: {}, hostRoutes: [] });
      const one = takeAddress(pool, taskOwner('t1'));
      assert.equal(one.address, '10.5.0.2/29');
      const again = takeAddress(one.pool, taskOwner('t1'));
      assert.equal(again.address, '10.5.0.2/29');
      assert.equal(again.pool, one.pool, 'nothing to change');
      let p = one.pool;
      const seen = new Set([one.address]);
      for (const owner of [vipOwner('s1'), taskOwner('t2'), taskOwner('t3'), taskOwner('t4')]) {
        const r = takeAddress(p, owner);
        assert.ok(!seen.has(r.address), `${r.address} handed out twice`);
        seen.add(r.address);
        p = r.pool;
      }
      assert.throws(() => takeAddress(p, taskOwner('t5')), refused('UNAVAILABLE', /no available IPv4 addresses in 10\.5\.0\.0\/29/));
      const dropped = dropOwners(p, new Set([taskOwner('t2'), vipOwner('s1')]));
      assert.equal(Object.keys(dropped.Allocations.allocated).length, 3);
      assert.equal(dropOwners(dropped, new Set([taskOwner('gone')])), dropped, 'unchanged when the owners hold nothing');
      assert.equal(Object.keys(p.Allocations.allocated).length, 5, 'the input is not changed');
    });
  });

  describe('presentation and use', () => {
    const net: Network = {
      ID: 'n1',
      CreatedAt: '2026-11-22T00:00:00.000Z',
      Spec: { Name: 'front', Labels: { tier: 'web' }, DriverConfiguration: { Name: 'overlay' }, Attachable: true, Scope: 'swarm' },
      DriverState: { Name: 'overlay', Options: { [VXLAN_OPTION]: '4100' } },
      IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.0.3.0/24', Gateway: '10.0.3.1' }] },
    };

    it('shows a swarm network in Docker\'s Network shape and filters it by scope, driver and label', () => {
      const j = swarmNetworkJson(net);
      assert.equal(j.Scope, 'swarm');
      assert.equal(j.Driver, 'overlay');
      assert.deepEqual(j.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.3.0/24', Gateway: '10.0.3.1' }] });
      assert.deepEqual(j.Options, { [VXLAN_OPTION]: '4100' });
      const f = (k: string, v: string) => networkMatches(networkFacts(net), new Map([[k, [v]]]), false);
      assert.equal(f('scope', 'swarm'), true);
      assert.equal(f('scope', 'local'), false);
      assert.equal(f('driver', 'overlay'), true);
      assert.equal(f('label', 'tier=web'), true);
      assert.equal(f('label', 'tier=db'), false);
    });

    it('finds the services that keep a network: attached ones, and ingress publishers for the ingress network', () => {
      const svc = (name: string, extra: Partial<Service['Spec']>): Service => ({ ID: name, Spec: { Name: name, TaskTemplate: {}, ...extra } });
      const services = [
        svc('web', { TaskTemplate: { Networks: [{ Target: 'n1' }] } }),
        svc('pub', { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }),
        svc('hostport', { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8081, PublishMode: 'host' }] } }),
        svc('other', {}),
      ];
      assert.deepEqual(servicesUsing(net, services).map((s) => s.ID), ['web']);
      const ingress: Network = { ...net, ID: 'ing', Spec: { ...net.Spec, Name: 'ingress', Ingress: true } };
      assert.deepEqual(servicesUsing(ingress, services).map((s) => s.ID), ['pub']);
    });
  });

  it('default address pools: Docker\'s when none are given, validated when they are, and used for automatic subnets', () => {
    assert.deepEqual(swarmAddressPools(undefined, undefined), [{ range: '10.0.0.0/8', prefix: 24 }]);
    assert.deepEqual(swarmAddressPools([], 26), [{ range: '10.0.0.0/8', prefix: 26 }]);
    assert.deepEqual(swarmAddressPools(['10.20.0.0/16', '192.168.128.0/20'], 24), [{ range: '10.20.0.0/16', prefix: 24 }, { range: '192.168.128.0/20', prefix: 24 }]);
    const refused = (pools: string[] | undefined, size: number | undefined, re: RegExp) => assert.throws(() => swarmAddressPools(pools, size), (e: unknown) => isShoalError(e) && e.code === 'INVALID_ARGUMENT' && re.test(e.message));
    refused(['10.20.0.0/33'], 24, /invalid IPv4 CIDR '10\.20\.0\.0\/33'/);
    refused(['10.20.0.1/16'], 24, /host bits are set/);
    refused(['10.20.0.0/16', '10.20.4.0/24'], 24, /10\.20\.0\.0\/16 and 10\.20\.4\.0\/24 overlap/);
    refused(['10.20.0.0/25'], 24, /smaller than a \/24 subnet/);
    refused(undefined, 30, /mask length 30/);
    refused(undefined, 2.5, /mask length 2\.5/);
    const r = reserveNetwork(emptySubnetTable(), 'n1', undefined, { names: {}, hostRoutes: ['10.20.0.0/27'], defaults: swarmAddressPools(['10.20.0.0/16'], 26) });
    assert.equal(r.pool.Pool.subnet, '10.20.0.64/26', 'the first /26 of the pool that no route overlaps');
  });
});
