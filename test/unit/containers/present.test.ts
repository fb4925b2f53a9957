import assert from 'node:assert/strict';
import { networkSettingsView, humanDuration, initialState, matchesFilters, statusString, validateListFilters, withStatus, summaryView } from '../../../worker/engine/containers/present';
import type { ContainerRecord } from '../../../worker/engine/containers/types';

function rec(over: Partial<ContainerRecord> & { id?: string } = {}): ContainerRecord {
  return {
    Id: over.id ?? 'a'.repeat(64),
    Created: '2026-01-01T00:00:00.000Z',
    Path: 'sh',
    Args: ['-c', 'x'],
    Config: { Image: 'busybox', Labels: { app: 'web' }, Env: [], Cmd: null, Entrypoint: null } as never,
    HostConfig: { NetworkMode: 'bridge' } as never,
    Image: 'sha256:img',
    Name: '/web1',
    RestartCount: 0,
    State: initialState(),
    NetworkSettings: { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, Networks: { bridge: { NetworkID: 'n123' } } },
    Mounts: [{ Type: 'volume', Name: 'vol1', Source: '/v', Destination: '/data', Mode: '', RW: true, Propagation: '' }],
    LogPath: '',
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    shoal: {} as never,
    ...over,
  };
}
const ctx = { lookup: () => undefined, ancestorImageIds: new Set<string>() };

describe('containers/present (status strings, list filters)', () => {
  it('formats durations like go-units', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(45_000), '45 seconds');
    assert.equal(humanDuration(61_000), 'About a minute');
    assert.equal(humanDuration(5 * 60_000), '5 minutes');
    assert.equal(humanDuration(3_600_000), 'About an hour');
    assert.equal(humanDuration(5 * 3_600_000), '5 hours');
    assert.equal(humanDuration(3 * 86_400_000), '3 days');
  });

  it('says Created, Up, Up (Paused), Up (healthy), Restarting, Exited', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const s = initialState();
    assert.equal(statusString(s, now), 'Created');
    const up = { ...withStatus(s, 'running'), StartedAt: '2026-01-01T00:00:30Z' };
    assert.equal(statusString(up, now), 'Up 30 seconds');
    assert.equal(statusString(withStatus(up, 'paused'), now), 'Up 30 seconds (Paused)');
    assert.equal(statusString({ ...up, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } }, now), 'Up 30 seconds (healthy)');
    assert.equal(statusString({ ...up, Health: { Status: 'starting', FailingStreak: 0, Log: [] } }, now), 'Up 30 seconds (health: starting)');
    const ex = { ...withStatus(up, 'exited'), ExitCode: 137, FinishedAt: '2026-01-01T00:00:58Z' };
    assert.equal(statusString(ex, now), 'Exited (137) 2 seconds ago');
    assert.equal(statusString({ ...withStatus(up, 'restarting'), ExitCode: 1, FinishedAt: '2026-01-01T00:00:59Z' }, now), 'Restarting (1) 1 second ago');
  });

  it('filters by id, name (regexp), label, status, exited, network, volume, health', () => {
    const running = rec({ State: withStatus(initialState(), 'running') });
    const exited = rec({ id: 'b'.repeat(64), Name: '/db', State: { ...withStatus(initialState(), 'exited'), ExitCode: 3 } });
    const f = (k: string, v: string[]) => new Map([[k, v]]);
    assert.ok(matchesFilters(running, f('id', ['aaa']), ctx));
    assert.ok(!matchesFilters(exited, f('id', ['aaa']), ctx));
    assert.ok(matchesFilters(running, f('name', ['^/?web']), ctx));
    assert.ok(!matchesFilters(exited, f('name', ['web']), ctx));
    assert.ok(matchesFilters(running, f('label', ['app=web']), ctx));
    assert.ok(matchesFilters(running, f('label', ['app']), ctx));
    assert.ok(!matchesFilters(running, f('label', ['app=db']), ctx));
    assert.ok(matchesFilters(exited, f('status', ['exited', 'dead']), ctx));
    assert.ok(matchesFilters(exited, f('exited', ['3']), ctx));
    assert.ok(!matchesFilters(running, f('exited', ['0']), ctx));
    assert.ok(matchesFilters(running, f('network', ['bridge']), ctx));
    assert.ok(matchesFilters(running, f('network', ['n12']), ctx));
    assert.ok(matchesFilters(running, f('volume', ['vol1']), ctx));
    assert.ok(matchesFilters(running, f('volume', ['/data']), ctx));
    assert.ok(matchesFilters(running, f('health', ['none']), ctx));
    assert.ok(matchesFilters(running, new Map([['ancestor', ['busybox']]]), ctx));
    const lookup = { lookup: (r: string) => (r === 'db' ? { ...exited, Created: '2026-01-02T00:00:00Z' } : undefined), ancestorImageIds: new Set<string>() };
    assert.ok(matchesFilters(running, f('before', ['db']), lookup));
    assert.ok(!matchesFilters(running, f('since', ['db']), lookup));
  });

  it('refuses unknown filters and bad values', () => {
    assert.throws(() => validateListFilters(new Map([['colour', ['red']]])), /invalid filter 'colour'/);
    assert.throws(() => validateListFilters(new Map([['status', ['sleeping']]])), /invalid filter 'status=sleeping'/);
    assert.throws(() => validateListFilters(new Map([['exited', ['x']]])), /invalid filter 'exited=x'/);
  });

  it('keeps the deprecated top-level address fields from the bridge endpoint', () => {
    const v = networkSettingsView({ Bridge: '', SandboxID: 's', SandboxKey: '/k', Ports: {}, Networks: { bridge: { IPAddress: '10.0.0.2', IPPrefixLen: 24, Gateway: '10.0.0.1', MacAddress: '02:42:0a:00:00:02', EndpointID: 'e' } } });
    assert.equal(v.IPAddress, '10.0.0.2');
    assert.equal(v.Gateway, '10.0.0.1');
    assert.equal(v.MacAddress, '02:42:0a:00:00:02');
    assert.equal(networkSettingsView({ Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, Networks: { custom: { IPAddress: '10.1.0.2' } } }).IPAddress, '');
  });

  it('summarizes like docker ps', () => {
    const r = rec({ Config: { Image: 'busybox', Labels: {}, ExposedPorts: { '80/tcp': {} } } as never });
    const v = summaryView(r, Date.parse('2026-01-01T00:00:00Z'));
    assert.deepEqual(v.Names, ['/web1']);
    assert.equal(v.Command, 'sh -c x');
    assert.equal(v.Created, Date.parse('2026-01-01T00:00:00Z') / 1000);
    assert.deepEqual(v.Ports, [{ PrivatePort: 80, Type: 'tcp' }]);
    assert.equal(v.State, 'created');
  });
});

describe('containers/stats parsing', () => {
  it('reads key/value files, /proc/stat and /proc/net/dev', async () => {
    const { parseKeyValues, systemCpuNs, parseNetDev } = await import('../../../worker/engine/containers/stats');
    assert.deepEqual(parseKeyValues('user 12\nsystem 3\n'), { user: 12, system: 3 });
    assert.equal(systemCpuNs('cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1\n'), 36 * 1e7);
    const dev = 'Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 5000 40 1 2 0 0 0 0 7000 50 3 4 0 0 0 0\n';
    assert.deepEqual(parseNetDev(dev), { eth0: { rx_bytes: 5000, rx_packets: 40, rx_errors: 1, rx_dropped: 2, tx_bytes: 7000, tx_packets: 50, tx_errors: 3, tx_dropped: 4 } });
  });
});
