import assert from 'node:assert/strict';
import { assignHostPorts, parsePublishSpec, portsReport, wantedBindings, type Binding } from '../../../worker/network/ports';
import { isShoalError } from '../../../shared/errors';

const fixed = { ephemeral: [40000, 40009] as [number, number], random: () => 0 };

describe('network/ports', () => {
  describe('parsePublishSpec', () => {
    it('parses the -p forms', () => {
      assert.deepEqual(parsePublishSpec('8080:80'), [{ key: '80/tcp', binding: { HostIp: '', HostPort: '8080' } }]);
      assert.deepEqual(parsePublishSpec('127.0.0.1:8080:80/tcp'), [{ key: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '8080' } }]);
      assert.deepEqual(parsePublishSpec('80'), [{ key: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
      assert.deepEqual(parsePublishSpec('127.0.0.1::53/udp'), [{ key: '53/udp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
      assert.deepEqual(parsePublishSpec('8000-8001:80-81'), [
        { key: '80/tcp', binding: { HostIp: '', HostPort: '8000' } },
        { key: '81/tcp', binding: { HostIp: '', HostPort: '8001' } },
      ]);
      assert.deepEqual(parsePublishSpec('9000-9010:80'), [{ key: '80/tcp', binding: { HostIp: '', HostPort: '9000-9010' } }]);
      assert.deepEqual(parsePublishSpec('0.0.0.0:8080:80/SCTP'), [{ key: '80/sctp', binding: { HostIp: '', HostPort: '8080' } }]);
    });

    it('rejects bad specs with a clear message', () => {
      for (const [spec, re] of [
        ['70000:80', /65535/],
        ['8080:0', /container port/],
        ['8080:80/icmp', /protocol/],
        ['1.2.3:8080:80', /host IP/],
        ['[::1]:8080:80', /IPv6/],
        ['8000-8002:80-81', /differ in length/],
        ['a:b:c:d', /expected/],
        ['8080:', /no container port/],
        ['90-80:80', /below the start/],
      ] as const) {
        assert.throws(() => parsePublishSpec(spec), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message), spec);
      }
    });
  });

  describe('wantedBindings', () => {
    it('reads PortBindings and adds exposed ports with publishAll', () => {
      const w = wantedBindings({ '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': null }, true, ['80/tcp', '443/tcp', '53/udp']);
      assert.deepEqual(w, [
        { proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8080, 8080] },
        { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPorts: undefined },
        { proto: 'udp', containerPort: 53, hostIp: '' },
        { proto: 'tcp', containerPort: 443, hostIp: '' },
      ]);
      assert.deepEqual(wantedBindings({ '53/udp': null }, false, ['53/udp']), []);
    });
  });

  describe('assignHostPorts', () => {
    const other: Binding[] = [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 }];

    it('refuses a host port another container holds, as Docker words it', () => {
      assert.throws(
        () => assignHostPorts([{ proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8080, 8080] }], other, fixed),
        (e: unknown) => isShoalError(e, 'CONFLICT') && (e as Error).message === 'Bind for 0.0.0.0:8080 failed: port is already allocated',
      );
      assert.throws(() => assignHostPorts([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPorts: [8080, 8080] }], other, fixed), /already allocated/);
    });

    it('allows the same port on another protocol or another specific address', () => {
      const b = assignHostPorts([{ proto: 'udp', containerPort: 80, hostIp: '', hostPorts: [8080, 8080] }], other, fixed);
      assert.deepEqual(b, [{ proto: 'udp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 }]);
      const ips: Binding[] = [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 9000 }];
      assert.equal(assignHostPorts([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.2', hostPorts: [9000, 9000] }], ips, fixed)[0].hostPort, 9000);
    });

    it('refuses the same host port twice in one request', () => {
      assert.throws(() => assignHostPorts([
        { proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8081, 8081] },
        { proto: 'tcp', containerPort: 81, hostIp: '', hostPorts: [8081, 8081] },
      ], [], fixed), /8081 failed: port is already allocated/);
    });

    it('picks random ports from the ephemeral range around taken and unavailable ones', () => {
      const taken: Binding[] = [{ proto: 'tcp', containerPort: 1, hostIp: '0.0.0.0', hostPort: 40000 }];
      const b = assignHostPorts([
        { proto: 'tcp', containerPort: 80, hostIp: '' },
        { proto: 'tcp', containerPort: 81, hostIp: '', hostPorts: [40002, 40002] },
        { proto: 'tcp', containerPort: 82, hostIp: '' },
      ], taken, { ...fixed, available: (_p, _ip, port) => port !== 40001 });
      assert.deepEqual(b.map((x) => [x.containerPort, x.hostPort]), [[81, 40002], [80, 40003], [82, 40004]]);
    });

    it('picks from a user range in order, and reports when it is full', () => {
      const b = assignHostPorts([{ proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8080, 8081] }], other, fixed);
      assert.equal(b[0].hostPort, 8081);
      assert.throws(() => assignHostPorts([{ proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8080, 8080] }, { proto: 'tcp', containerPort: 81, hostIp: '', hostPorts: [8080, 8081] }], other, fixed), /already allocated/);
    });
  });

  it('reports NetworkSettings.Ports as Docker does', () => {
    const r = portsReport(['80/tcp', '443/tcp'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 }]);
    assert.deepEqual(r, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null });
  });
});
