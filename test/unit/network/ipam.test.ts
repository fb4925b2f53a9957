import assert from 'node:assert/strict';
import { allocate, choosePool, newAllocations, poolFromGatewayCidr, release, releaseOwner, type Pool } from '../../../shared/net/ipam';
import { isShoalError } from '../../../shared/errors';
import { overlaps, parseCidr } from '../../../shared/net/ipv4';

describe('network/ipam', () => {
  describe('choosePool', () => {
    it('takes the first default /24 that overlaps neither networks nor host routes', () => {
      const pool = choosePool(undefined, [{ subnet: '172.18.0.0/24', network: 'a' }], ['172.18.1.0/24', '0.0.0.0/0', '192.0.2.0/24']);
      assert.deepEqual(pool, { subnet: '172.18.2.0/24', gateway: '172.18.2.1', ipRange: undefined, aux: {} });
    });

    it('skips a default subnet covered by a wider host route', () => {
      const pool = choosePool(undefined, [], ['172.16.0.0/12']);
      assert.equal(pool.subnet, '192.168.0.0/24');
    });

    it('honours subnet, gateway, ip range and auxiliary addresses', () => {
      const pool = choosePool({ Subnet: '10.9.0.0/16', Gateway: '10.9.0.254', IPRange: '10.9.3.0/24', AuxiliaryAddresses: { r: '10.9.3.1' } }, [], []);
      assert.deepEqual(pool, { subnet: '10.9.0.0/16', gateway: '10.9.0.254', ipRange: '10.9.3.0/24', aux: { r: '10.9.3.1' } });
    });

    it('clears host bits of a given subnet', () => {
      assert.equal(choosePool({ Subnet: '10.9.1.7/24' }, [], []).subnet, '10.9.1.0/24');
    });

    it('refuses a subnet overlapping another network with a 403 naming it', () => {
      assert.throws(
        () => choosePool({ Subnet: '10.1.0.0/16' }, [{ subnet: '10.1.2.0/24', network: 'web' }], []),
        (e: unknown) => isShoalError(e, 'PERMISSION_DENIED') && /overlaps.*10\.1\.2\.0\/24 of network web/.test((e as Error).message),
      );
    });

    it('rejects bad input clearly', () => {
      assert.throws(() => choosePool({ Subnet: 'nonsense' }, [], []), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT'));
      assert.throws(() => choosePool({ Subnet: '10.0.0.0/24', Gateway: '10.0.1.1' }, [], []), /not a usable address/);
      assert.throws(() => choosePool({ Subnet: '10.0.0.0/24', Gateway: '10.0.0.255' }, [], []), /not a usable address/);
      assert.throws(() => choosePool({ Subnet: '10.0.0.0/24', IPRange: '10.0.0.0/23' }, [], []), /not inside subnet/);
      assert.throws(() => choosePool({ Subnet: '10.0.0.0/31' }, [], []), /at least a \/30/);
      assert.throws(() => choosePool({ Subnet: 'fd00::/64' }, [], []), /IPv6/);
      assert.throws(() => choosePool({ Gateway: '10.0.0.1' }, [], []), /needs a subnet/);
    });

    it('reports exhaustion of the default pools', () => {
      assert.throws(
        () => choosePool(undefined, [{ subnet: '10.0.0.0/30', network: 'x' }], [], [{ range: '10.0.0.0/30', prefix: 30 }]),
        (e: unknown) => isShoalError(e, 'UNAVAILABLE') && /non-overlapping/.test((e as Error).message),
      );
    });

    it('never hands out overlapping subnets one after another', () => {
      const used: Array<{ subnet: string; network: string }> = [];
      for (let i = 0; i < 20; i++) used.push({ subnet: choosePool(undefined, used, []).subnet, network: `n${i}` });
      for (let i = 0; i < used.length; i++) for (let j = i + 1; j < used.length; j++) assert.ok(!overlaps(parseCidr(used[i].subnet), parseCidr(used[j].subnet)));
    });
  });

  describe('allocate/release', () => {
    const pool: Pool = { subnet: '10.5.0.0/29', gateway: '10.5.0.1', aux: { reserved: '10.5.0.3' } };

    it('hands out usable addresses in order, skipping gateway, aux, network and broadcast', () => {
      const a = newAllocations();
      const got = [1, 2, 3, 4].map((i) => allocate(pool, a, `c${i}`));
      assert.deepEqual(got, ['10.5.0.2', '10.5.0.4', '10.5.0.5', '10.5.0.6']);
      assert.throws(() => allocate(pool, a, 'c5'), (e: unknown) => isShoalError(e, 'UNAVAILABLE'));
    });

    it('does not reuse a freed address at once, then wraps to it', () => {
      const a = newAllocations();
      allocate(pool, a, 'x');
      allocate(pool, a, 'y');
      release(a, '10.5.0.2', 'x');
      assert.equal(allocate(pool, a, 'z'), '10.5.0.5');
      assert.equal(allocate(pool, a, 'w'), '10.5.0.6');
      assert.equal(allocate(pool, a, 'v'), '10.5.0.2');
    });

    it('honours a requested address and refuses one already taken', () => {
      const a = newAllocations();
      assert.equal(allocate(pool, a, 'x', '10.5.0.6'), '10.5.0.6');
      assert.throws(() => allocate(pool, a, 'y', '10.5.0.6'), (e: unknown) => isShoalError(e, 'CONFLICT') && /already in use/.test((e as Error).message));
      assert.throws(() => allocate(pool, a, 'y', '10.5.0.1'), (e: unknown) => isShoalError(e, 'CONFLICT'));
      assert.throws(() => allocate(pool, a, 'y', '10.5.0.7'), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT'));
      assert.throws(() => allocate(pool, a, 'y', '10.6.0.2'), /not a usable address/);
      // The dynamic allocator steps around the requested one.
      assert.deepEqual([allocate(pool, a, 'p'), allocate(pool, a, 'q'), allocate(pool, a, 'r')], ['10.5.0.2', '10.5.0.4', '10.5.0.5']);
    });

    it('keeps dynamic addresses inside the ip range', () => {
      const p: Pool = { subnet: '10.7.0.0/24', gateway: '10.7.0.1', ipRange: '10.7.0.128/30', aux: {} };
      const a = newAllocations();
      assert.deepEqual([allocate(p, a, 'a'), allocate(p, a, 'b'), allocate(p, a, 'c'), allocate(p, a, 'd')], ['10.7.0.128', '10.7.0.129', '10.7.0.130', '10.7.0.131']);
      assert.throws(() => allocate(p, a, 'e'));
      assert.equal(allocate(p, a, 'e', '10.7.0.9'), '10.7.0.9');
    });

    it('never hands an address out twice and releases by owner', () => {
      const p: Pool = { subnet: '10.8.0.0/24', gateway: '10.8.0.1', aux: {} };
      const a = newAllocations();
      const seen = new Set<string>();
      for (let i = 0; i < 253; i++) {
        const ip = allocate(p, a, `o${i % 5}`);
        assert.ok(!seen.has(ip), ip);
        seen.add(ip);
      }
      assert.throws(() => allocate(p, a, 'x'));
      const freed = releaseOwner(a, 'o0');
      assert.equal(freed.length, 51);
      assert.ok(freed.every((ip) => a.allocated[ip] === undefined));
      assert.ok(freed.includes(allocate(p, a, 'n')));
    });

    it('builds the default bridge pool from a gateway CIDR', () => {
      assert.deepEqual(poolFromGatewayCidr('172.17.0.1/16'), { subnet: '172.17.0.0/16', gateway: '172.17.0.1', aux: {} });
      assert.throws(() => poolFromGatewayCidr('10.0.0.0/24'), /network or broadcast/);
    });
  });
});
