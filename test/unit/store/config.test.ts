import assert from 'node:assert/strict';
import { compileEtcdConfig, etcdArgs, type EtcdMemberOptions } from '../../../manager/etcd';
import { compileNatsConfig, renderNatsConfig, natsClientUrl, type NatsServerOptions } from '../../../manager/nats';
import { eventSubject, logSubject, parseLogSubject, serviceLogsSubject } from '../../../shared/bus';
import { isShoalError } from '../../../shared/errors';

const invalidWith = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message);

describe('etcd member config', () => {
  const base: EtcdMemberOptions = { name: 'node1', dataRoot: '/var/lib/shoal', clientUrls: ['http://127.0.0.1:2379'], peerUrl: 'http://127.0.0.1:2380' };

  it('fills in every default, with the data under <dataRoot>/swarm/etcd', () => {
    const c = compileEtcdConfig(base);
    assert.equal(c.dataDir, '/var/lib/shoal/swarm/etcd');
    assert.equal(c.stateDir, '/var/lib/shoal/swarm/run');
    assert.deepEqual(c.initialCluster, { node1: 'http://127.0.0.1:2380' });
    assert.equal(c.initialClusterState, 'new');
    assert.deepEqual(c.advertiseClientUrls, ['http://127.0.0.1:2379']);
    assert.equal(c.maxTxnOps, 2048);
    assert.equal(c.maxRequestBytes, 8 * 1024 * 1024);
    assert.ok(c.electionMs >= 5 * c.heartbeatMs);
  });

  it('renders etcd 3.4 flags', () => {
    const args = etcdArgs(compileEtcdConfig({ ...base, initialCluster: { node1: 'http://127.0.0.1:2380', node2: 'http://10.0.0.2:2380' }, initialClusterState: 'existing' }));
    for (const flag of [
      '--name=node1',
      '--data-dir=/var/lib/shoal/swarm/etcd',
      '--listen-client-urls=http://127.0.0.1:2379',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=node1=http://127.0.0.1:2380,node2=http://10.0.0.2:2380',
      '--initial-cluster-state=existing',
      '--max-txn-ops=2048',
      '--max-request-bytes=8388608',
      '--auto-compaction-mode=periodic',
    ]) {
      assert.ok(args.includes(flag), flag);
    }
  });

  const bad: Array<[string, Partial<EtcdMemberOptions>, RegExp]> = [
    ['a name with a slash', { name: 'a/b' }, /member name "a\/b"/],
    ['a relative data root', { dataRoot: 'data' }, /dataRoot "data" must be an absolute path/],
    ['no client URL', { clientUrls: [] }, /clientUrls must list at least one URL/],
    ['a client URL without port', { clientUrls: ['http://127.0.0.1'] }, /clientUrls\[0\]: "http:\/\/127.0.0.1" needs an explicit port/],
    ['a port out of range', { clientUrls: ['http://127.0.0.1:70000'] }, /clientUrls\[0\]: "http:\/\/127.0.0.1:70000" is not a URL/],
    ['port 0', { peerUrl: 'http://127.0.0.1:0' }, /peerUrl: port 0 must be a whole number from 1 to 65535/],
    ['a host name to listen on', { clientUrls: ['http://localhost:2379'] }, /must name an IP address to listen on/],
    ['https (no certificates yet)', { peerUrl: 'https://127.0.0.1:2380' }, /must use http:\/\//],
    ['a path', { peerUrl: 'http://127.0.0.1:2380/x' }, /must not have a path/],
    ['not a URL', { peerUrl: 'nonsense' }, /peerUrl: "nonsense" is not a URL/],
    ['client and peer on one port', { peerUrl: 'http://127.0.0.1:2379' }, /uses 127.0.0.1:2379, already taken by clientUrls\[0\]/],
    ['a wildcard clash', { clientUrls: ['http://0.0.0.0:2380'] }, /already taken/],
    ['an initial cluster without this member', { initialCluster: { other: 'http://10.0.0.2:2380' } }, /must map this member "node1" to its peerUrl/],
    ['a bad initial cluster URL', { initialCluster: { node1: 'http://127.0.0.1:2380', n2: 'ftp://x:1' } }, /initialCluster\["n2"\]: "ftp:\/\/x:1" must use http/],
    ['a bad state', { initialClusterState: 'old' as 'new' }, /initialClusterState "old"/],
    ['an election timeout under 5 heartbeats', { heartbeatMs: 100, electionMs: 300 }, /electionMs \(300\) must be at least 5 times heartbeatMs \(100\)/],
    ['too few txn ops', { maxTxnOps: 10 }, /maxTxnOps 10 must be a whole number from 128/],
    ['a bad retention', { autoCompactionRetention: 'forever' }, /autoCompactionRetention "forever"/],
  ];
  for (const [what, patch, msg] of bad) {
    it(`rejects ${what}`, () => assert.throws(() => compileEtcdConfig({ ...base, ...patch }), invalidWith(msg)));
  }
  it('accepts one port on two different addresses', () => {
    assert.doesNotThrow(() => compileEtcdConfig({ ...base, clientUrls: ['http://127.0.0.1:2379', 'http://10.0.0.1:2379'] }));
  });
});

describe('nats-server config', () => {
  const base: NatsServerOptions = { name: 'node1', dataRoot: '/var/lib/shoal', listen: '127.0.0.1:4222', clusterListen: '127.0.0.1:6222' };

  it('renders a config with routes and, given a token, client and route authorization', () => {
    const c = compileNatsConfig({ ...base, routes: ['10.0.0.2:6222', 'nats-route://manager3:6222'], token: 'abcdefghijklmnop' });
    assert.equal(c.configFile, '/var/lib/shoal/swarm/nats/nats-server.conf');
    const text = renderNatsConfig(c);
    assert.match(text, /^server_name: "node1"$/m);
    assert.match(text, /^listen: "127.0.0.1:4222"$/m);
    assert.match(text, /^ {2}token: "abcdefghijklmnop"$/m);
    assert.match(text, /^ {2}name: "shoal"$/m);
    assert.match(text, /routes: \["nats-route:\/\/shoal:abcdefghijklmnop@10.0.0.2:6222", "nats-route:\/\/shoal:abcdefghijklmnop@manager3:6222"\]/);
    assert.doesNotMatch(text, /jetstream/i);
    assert.equal(natsClientUrl(c), 'nats://127.0.0.1:4222');
    assert.equal(natsClientUrl(compileNatsConfig({ ...base, listen: '0.0.0.0:4222' })), 'nats://127.0.0.1:4222');
  });

  it('renders no authorization without a token', () => {
    const text = renderNatsConfig(compileNatsConfig(base));
    assert.doesNotMatch(text, /authorization|token/);
    assert.match(text, /routes: \[\]/);
  });

  const bad: Array<[string, Partial<NatsServerOptions>, RegExp]> = [
    ['a bad name', { name: '' }, /nats server name ""/],
    ['a listen address without port', { listen: '127.0.0.1' }, /nats listen: "127.0.0.1" must be HOST:PORT/],
    ['a host name to listen on', { listen: 'localhost:4222' }, /must name an IP address to listen on/],
    ['a port out of range', { clusterListen: '127.0.0.1:99999' }, /port 99999 must be a whole number/],
    ['client and routes on one address', { clusterListen: '127.0.0.1:4222' }, /both use 127.0.0.1:4222/],
    ['a route to itself', { routes: ['127.0.0.1:6222'] }, /routes\[0\] is this server's own cluster address/],
    ['a route that is not HOST:PORT', { routes: ['just-a-host'] }, /routes\[0\]: "just-a-host" must be HOST:PORT/],
    ['a route with credentials', { routes: ['nats-route://u:p@10.0.0.2:6222'] }, /must not carry credentials/],
    ['a short token', { token: 'short' }, /nats token must be 16-256/],
    ['a token with quotes', { token: 'abcdefghijklmnop"' }, /nats token/],
  ];
  for (const [what, patch, msg] of bad) {
    it(`rejects ${what}`, () => assert.throws(() => compileNatsConfig({ ...base, ...patch }), invalidWith(msg)));
  }
});

describe('bus subjects', () => {
  it('names events and logs in one place', () => {
    assert.equal(eventSubject('task'), 'shoal.events.task');
    assert.equal(logSubject('svc1', 'task1'), 'shoal.logs.svc1.task1');
    assert.equal(serviceLogsSubject('svc1'), 'shoal.logs.svc1.*');
    assert.deepEqual(parseLogSubject('shoal.logs.svc1.task1'), { serviceId: 'svc1', taskId: 'task1' });
    assert.equal(parseLogSubject('shoal.events.task'), undefined);
    assert.throws(() => logSubject('svc1', 'a>b'), invalidWith(/task ID "a>b"/));
  });
});
