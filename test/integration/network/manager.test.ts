import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import * as dnsPacket from 'dns-packet';
import { run } from '../../../shared/exec';
import { isShoalError } from '../../../shared/errors';
import { silenceLogging } from '../../../shared/log';
import type { NetworkManager } from '../../../worker/network';
import { BUSYBOX, cid, eventually, startHttpdIn, httpGet, inNs, isMounted, linkExists, makeEnv, makePeerHost, nftTable, open, randomSubnet24, request, startHttpd, type NetEnv } from './env';

/** busybox nslookup NAME SERVER inside a namespace; the addresses it printed for NAME. */
async function lookup(nsPath: string, name: string, server: string): Promise<string[]> {
  const out = await inNs(nsPath, [BUSYBOX, 'nslookup', '-timeout=2', name, server], [0, 1]);
  const after = out.split(/Name:\s+/).slice(1).join('\n');
  return [...after.matchAll(/Address:\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]);
}

function expectCode(code: string, re?: RegExp) {
  return (e: unknown) => isShoalError(e) && e.code === code && (!re || re.test(e.message));
}

describe('network/NetworkManager (iproute2 + nftables)', function () {
  this.timeout(60_000);
  let env: NetEnv;
  let m: NetworkManager;
  let upstream: dgram.Socket;
  let upstreamQueries: string[];

  before(async () => {
    silenceLogging();
    // A resolver on loopback for forwarding: the only upstream these tests ever reach.
    upstreamQueries = [];
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const name = q.questions?.[0]?.name ?? '';
      upstreamQueries.push(name);
      const answers: dnsPacket.Answer[] = name === 'outside.example' && q.questions?.[0]?.type === 'A' ? [{ type: 'A', name, ttl: 5, data: '198.51.100.7' }] : [];
      upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    env = await makeEnv({ dnsUpstreams: [{ host: '127.0.0.1', port: upstream.address().port }] });
    m = await open(env);
  });

  after(async () => {
    try {
      await m?.purge(true);
    } finally {
      upstream?.close();
      await env?.cleanup();
    }
    assert.equal(await nftTable(m.tableName), undefined, 'table removed');
    assert.equal(await linkExists(env.config.bridge.name), false, 'default bridge removed');
  });

  it('makes the default bridge with its gateway address and fixed MAC, IP forwarding and the table', async () => {
    const out = JSON.parse((await run('ip', ['-j', 'addr', 'show', 'dev', env.config.bridge.name])).stdout) as Array<{ address: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
    assert.match(out[0].address, /^02:/);
    assert.ok(out[0].addr_info.some((a) => a.local === `${env.bridgePrefix}.1` && a.prefixlen === 24));
    assert.equal((await fs.readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim(), '1');
    assert.equal((await fs.readFile(`/proc/sys/net/ipv4/conf/${env.config.bridge.name}/route_localnet`, 'utf8')).trim(), '1');
    const table = await nftTable(m.tableName);
    assert.ok(table?.includes(`ip saddr ${env.bridgePrefix}.0/24 oifname != "${env.config.bridge.name}" masquerade`));
    const names = m.listNetworks().map((n) => n.Name);
    assert.deepEqual(names.sort(), ['bridge', 'host', 'none']);
  });

  it('sets up a container on the default bridge and tears it down leaving nothing behind', async () => {
    const id = cid();
    const r = await m.setup(request(id, { extraHosts: ['gw:host-gateway'] }));
    assert.equal(r.hostNetwork, false);
    assert.ok(r.netnsPath && (await isMounted(r.netnsPath)));
    const ep = r.networks.bridge;
    assert.equal(ep.Gateway, `${env.bridgePrefix}.1`);
    assert.match(ep.IPAddress!, new RegExp(`^${env.bridgePrefix.replace(/\./g, '\\.')}\\.\\d+$`));
    assert.equal(ep.IPPrefixLen, 24);
    assert.equal(ep.DNSNames, null);
    assert.match(r.hosts, new RegExp(`${ep.IPAddress}\\t${id.slice(0, 12)}\\n$`));
    assert.match(r.hosts, new RegExp(`${env.bridgePrefix}\\.1\\tgw`));
    assert.doesNotMatch(r.resolvConf, /127\.0\.0\.1/, 'loopback resolvers of the host are dropped');

    const addrs = await inNs(r.netnsPath!, ['ip', '-br', 'addr']);
    assert.match(addrs, new RegExp(`eth0@\\S+\\s+UP\\s+${ep.IPAddress}/24`));
    assert.match(addrs, /^lo\s+UNKNOWN/m);
    assert.match(await inNs(r.netnsPath!, ['ip', 'route']), new RegExp(`default via ${env.bridgePrefix}\\.1 dev eth0`));
    await inNs(r.netnsPath!, [BUSYBOX, 'ping', '-c', '1', '-W', '2', `${env.bridgePrefix}.1`]);
    const hostVeths = (await run('ip', ['-br', 'link', 'show', 'master', env.config.bridge.name])).stdout;
    assert.match(hostVeths, /^shv/m);

    await m.teardown(id);
    assert.equal(await isMounted(r.netnsPath!), false);
    await assert.rejects(fs.access(r.netnsPath!));
    assert.ok(await eventually(async () => (await run('ip', ['-br', 'link', 'show', 'master', env.config.bridge.name])).stdout.trim() === ''), 'host veth gone');
    assert.equal(await m.inspectEndpoints(id), undefined);
    // The address is free again: teardown is idempotent, and a new container may get it.
    await m.teardown(id);
    await m.settled();
  });

  it('replaces a half-made setup for the same container ID', async () => {
    const id = cid();
    const first = await m.setup(request(id));
    const again = await m.setup(request(id));
    assert.equal(again.netnsPath, first.netnsPath);
    const links = await inNs(again.netnsPath!, ['ip', '-br', 'link']);
    assert.equal(links.split('\n').filter((l) => l.startsWith('eth')).length, 1);
    await m.settled();
    const ports = (await run('ip', ['-br', 'link', 'show', 'master', env.config.bridge.name])).stdout.trim().split('\n');
    assert.equal(ports.length, 1, `one host veth, got ${ports.join(', ')}`);
    await m.teardown(id);
    await m.settled();
  });

  describe('user-defined networks', () => {
    let subnet: { prefix: string; cidr: string };
    let netId: string;
    const web = cid();
    const db = cid();
    let webRes: Awaited<ReturnType<NetworkManager['setup']>>;
    let dbRes: Awaited<ReturnType<NetworkManager['setup']>>;

    before(async () => {
      subnet = randomSubnet24();
      netId = (await m.createNetwork({ Name: `app-${env.tag}`, IPAM: { Config: [{ Subnet: subnet.cidr }] }, Labels: { tier: 'test' } })).Id;
    });

    it('creates the network: bridge, pool, inspect shape, events; refuses duplicates and overlaps', async () => {
      const n = m.inspectNetwork(`app-${env.tag}`) as { Id: string; Driver: string; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Options: Record<string, string>; Labels: Record<string, string>; Containers: object };
      assert.equal(n.Id, netId);
      assert.equal(n.Driver, 'bridge');
      assert.deepEqual(n.IPAM.Config, [{ Subnet: subnet.cidr, Gateway: `${subnet.prefix}.1` }]);
      assert.deepEqual(n.Labels, { tier: 'test' });
      assert.deepEqual(n.Containers, {});
      assert.ok(await linkExists(`br-${netId.slice(0, 12)}`));
      assert.ok(env.events.history(0).some((e) => e.Type === 'network' && e.Action === 'create' && e.Actor.ID === netId));
      await assert.rejects(m.createNetwork({ Name: `app-${env.tag}` }), expectCode('CONFLICT', /already exists/));
      await assert.rejects(m.createNetwork({ Name: `other-${env.tag}`, IPAM: { Config: [{ Subnet: `${subnet.prefix}.128/25` }] } }), expectCode('PERMISSION_DENIED', /overlaps/));
      await assert.rejects(m.createNetwork({ Name: 'host' }), expectCode('PERMISSION_DENIED', /pre-defined/));
      await assert.rejects(m.createNetwork({ Name: `x-${env.tag}`, Driver: 'overlay' }), expectCode('INVALID_ARGUMENT'));
      const spare = randomSubnet24();
      await assert.rejects(m.createNetwork({ Name: `x-${env.tag}`, IPAM: { Config: [{ Subnet: spare.cidr, Gateway: '11.0.0.1' }] } }), expectCode('INVALID_ARGUMENT', /gateway/));
      assert.equal(m.listNetworks(new Map([['name', [`x-${env.tag}`]]])).length, 0, 'nothing half-created');
      assert.deepEqual(m.listNetworks(new Map([['label', ['tier=test']]])).map((x) => x.Id), [netId]);
      assert.deepEqual(m.listNetworks(new Map([['type', ['custom']], ['dangling', ['true']]])).map((x) => x.Id), [netId]);
    });

    it('gives endpoints addresses (and --ip), and they resolve each other by name, alias and short ID', async () => {
      webRes = await m.setup(request(web, { name: 'web', networkMode: `app-${env.tag}`, endpointsConfig: { [`app-${env.tag}`]: { Aliases: ['frontend'] } } }));
      dbRes = await m.setup(request(db, { name: 'db', networkMode: netId.slice(0, 10), endpointsConfig: { [`app-${env.tag}`]: { IPAMConfig: { IPv4Address: `${subnet.prefix}.200` } } } }));
      const wep = webRes.networks[`app-${env.tag}`];
      const dep = dbRes.networks[`app-${env.tag}`];
      assert.equal(dep.IPAddress, `${subnet.prefix}.200`);
      assert.deepEqual(dep.IPAMConfig, { IPv4Address: `${subnet.prefix}.200` });
      assert.deepEqual(wep.DNSNames, ['web', 'frontend', web.slice(0, 12)]);
      assert.match(webRes.resolvConf, new RegExp(`nameserver ${subnet.prefix}\\.1\\n`));
      const gw = `${subnet.prefix}.1`;
      assert.deepEqual(await lookup(dbRes.netnsPath!, 'web', gw), [wep.IPAddress]);
      assert.deepEqual(await lookup(dbRes.netnsPath!, 'frontend', gw), [wep.IPAddress]);
      assert.deepEqual(await lookup(dbRes.netnsPath!, web.slice(0, 12), gw), [wep.IPAddress]);
      assert.deepEqual(await lookup(webRes.netnsPath!, 'db', gw), [dep.IPAddress]);
      await inNs(webRes.netnsPath!, [BUSYBOX, 'ping', '-c', '1', '-W', '2', dep.IPAddress!]);
      const n = m.inspectNetwork(netId) as { Containers: Record<string, { Name: string; IPv4Address: string }> };
      assert.deepEqual(n.Containers[db], { Name: 'db', EndpointID: dep.EndpointID, MacAddress: dep.MacAddress, IPv4Address: `${subnet.prefix}.200/24`, IPv6Address: '' });
      await assert.rejects(m.setup(request(cid(), { networkMode: netId, endpointsConfig: { [netId]: { IPAMConfig: { IPv4Address: `${subnet.prefix}.200` } } } })), expectCode('CONFLICT', /already in use/));
      await assert.rejects(m.setup(request(cid(), { endpointsConfig: { bridge: { IPAMConfig: { IPv4Address: `${env.bridgePrefix}.9` } } } })), expectCode('INVALID_ARGUMENT', /user defined networks only/));
    });

    it('answers over TCP too', async () => {
      const q = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'web' }] });
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const sock = net.connect({ host: `${subnet.prefix}.1`, port: 53 });
        let buf = Buffer.alloc(0);
        sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            sock.destroy();
            resolve(buf.subarray(2));
          }
        });
        sock.on('error', reject);
      });
      const r = dnsPacket.decode(reply);
      assert.equal(r.id, 7);
      assert.deepEqual(r.answers?.map((a) => (a as { data: string }).data), [webRes.networks[`app-${env.tag}`].IPAddress]);
    });

    it('forwards other names to the upstream resolver (a loopback one here)', async () => {
      assert.deepEqual(await lookup(webRes.netnsPath!, 'outside.example', `${subnet.prefix}.1`), ['198.51.100.7']);
      assert.ok(upstreamQueries.includes('outside.example'));
    });

    it('does not resolve containers of the default bridge, nor across networks', async () => {
      const other = cid();
      const r = await m.setup(request(other, { name: 'lonely' }));
      try {
        const n = upstreamQueries.length;
        assert.deepEqual(await lookup(webRes.netnsPath!, 'lonely', `${subnet.prefix}.1`), []);
        assert.ok(upstreamQueries.slice(n).includes('lonely'), 'unknown names are forwarded, not answered');
        assert.doesNotMatch(r.resolvConf, new RegExp(subnet.prefix.replace(/\./g, '\\.')));
      } finally {
        await m.teardown(other);
      }
    });

    it('hot-connects a running container (eth1, aliases) and disconnects it', async () => {
      const c = cid();
      const r = await m.setup(request(c, { name: 'late' }));
      try {
        const after = await m.connect(c, `app-${env.tag}`, { Aliases: ['cache'] });
        const ep = after.networks[`app-${env.tag}`];
        assert.match(ep.IPAddress!, new RegExp(`^${subnet.prefix.replace(/\./g, '\\.')}\\.`));
        assert.match(await inNs(r.netnsPath!, ['ip', '-br', 'addr', 'show', 'dev', 'eth1']), new RegExp(`${ep.IPAddress}/24`));
        assert.deepEqual(await lookup(dbRes.netnsPath!, 'cache', `${subnet.prefix}.1`), [ep.IPAddress]);
        await assert.rejects(m.connect(c, netId, {}), expectCode('PERMISSION_DENIED', /already exists/));
        assert.ok(env.events.history(0).some((e) => e.Action === 'connect' && e.Actor.Attributes.container === c && e.Actor.ID === netId));
        const gone = await m.disconnect(c, netId, false);
        assert.equal(gone.networks[`app-${env.tag}`], undefined);
        assert.equal((await inNs(r.netnsPath!, ['ip', '-br', 'link'])).includes('eth1'), false);
        assert.deepEqual(await lookup(dbRes.netnsPath!, 'cache', `${subnet.prefix}.1`), []);
        await assert.rejects(m.disconnect(c, netId, false), expectCode('PERMISSION_DENIED', /not connected/));
        await m.disconnect(c, netId, true);
      } finally {
        await m.teardown(c);
      }
    });

    it('remembers a network connected while the container is stopped, for its next setup', async () => {
      const c = cid();
      await m.connect(c, netId, { Aliases: ['later'] }, { running: false, name: 'sleeper' });
      const r = await m.setup(request(c, { name: 'sleeper' }));
      try {
        assert.deepEqual(Object.keys(r.networks).sort(), ['bridge', `app-${env.tag}`].sort());
        assert.match(await inNs(r.netnsPath!, ['ip', '-br', 'link']), /eth1/);
        assert.deepEqual(await lookup(dbRes.netnsPath!, 'later', `${subnet.prefix}.1`), [r.networks[`app-${env.tag}`].IPAddress]);
      } finally {
        await m.teardown(c);
      }
    });

    it('refuses to remove a network with active endpoints, then removes it', async () => {
      await assert.rejects(m.removeNetwork(`app-${env.tag}`), expectCode('PERMISSION_DENIED', /has active endpoints/));
      await assert.rejects(m.removeNetwork('bridge'), expectCode('PERMISSION_DENIED', /pre-defined/));
      assert.deepEqual(await m.pruneNetworks(new Map()), []);
      await m.teardown(web);
      await m.teardown(db);
      await m.removeNetwork(netId);
      assert.equal(await linkExists(`br-${netId.slice(0, 12)}`), false);
      assert.throws(() => m.inspectNetwork(netId), expectCode('NOT_FOUND'));
      assert.ok(env.events.history(0).some((e) => e.Action === 'destroy' && e.Actor.ID === netId));
      assert.doesNotMatch((await nftTable(m.tableName))!, new RegExp(subnet.cidr.replace(/\./g, '\\.')));
    });

    it('prunes unused networks and keeps internal ones closed', async () => {
      const s = randomSubnet24();
      const { Id } = await m.createNetwork({ Name: `int-${env.tag}`, Internal: true, IPAM: { Config: [{ Subnet: s.cidr }] } });
      const table = (await nftTable(m.tableName))!;
      const br = `br-${Id.slice(0, 12)}`;
      assert.match(table, new RegExp(`iifname "${br}" oifname != "${br}" drop`));
      assert.doesNotMatch(table, new RegExp(`ip saddr ${s.cidr.replace(/\./g, '\\.')} oifname != "${br}" masquerade`));
      const c = cid();
      const r = await m.setup(request(c, { networkMode: Id }));
      const n = upstreamQueries.length;
      assert.deepEqual(await lookup(r.netnsPath!, 'outside.example', `${s.prefix}.1`), []);
      assert.equal(upstreamQueries.length, n, 'internal networks do not forward');
      await m.teardown(c);
      assert.deepEqual(await m.pruneNetworks(new Map()), [`int-${env.tag}`]);
      assert.equal(await linkExists(br), false);
    });
  });

  describe('published ports', () => {
    let peer: { ns: string; hostAddr: string; peerAddr: string };
    const a = cid();
    let port: number;
    let aRes: Awaited<ReturnType<NetworkManager['setup']>>;

    before(async () => {
      peer = await makePeerHost(env);
      port = 20000 + Math.floor(Math.random() * 9000);
      aRes = await m.setup(request(a, { exposedPorts: ['80/tcp', '9999/udp'], portBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] } }));
      await startHttpd(env, aRes.netnsPath!, `hello from ${a.slice(0, 12)}`);
    });

    it('reports the bindings as Docker does', () => {
      assert.deepEqual(aRes.ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }], '9999/udp': null });
    });

    it('answers on the host address, on 127.0.0.1, and from another host', async () => {
      const want = `hello from ${a.slice(0, 12)}`;
      assert.equal(await httpGet('127.0.0.1', port), want);
      assert.equal(await httpGet(peer.hostAddr, port), want);
      const remote = await run('ip', ['netns', 'exec', peer.ns, 'timeout', '5', BUSYBOX, 'wget', '-q', '-O', '-', `http://${peer.hostAddr}:${port}/`]);
      assert.equal(remote.stdout, want);
    });

    it('masquerades container traffic leaving for another host', async () => {
      // The peer has no route to the bridge subnet: only a masqueraded source can get an answer.
      await startHttpdIn(env, ['ip', 'netns', 'exec', peer.ns], 'peer says hi');
      const out = await inNs(aRes.netnsPath!, ['timeout', '5', BUSYBOX, 'wget', '-q', '-O', '-', `http://${peer.peerAddr}/`]);
      assert.equal(out, 'peer says hi');
    });

    it('lets a container on the same bridge reach the published port through the host (hairpin)', async () => {
      const b = cid();
      const r = await m.setup(request(b));
      try {
        const out = await inNs(r.netnsPath!, ['timeout', '5', BUSYBOX, 'wget', '-q', '-O', '-', `http://${peer.hostAddr}:${port}/`]);
        assert.equal(out, `hello from ${a.slice(0, 12)}`);
      } finally {
        await m.teardown(b);
      }
    });

    it('refuses a host port another container holds, leaving nothing half-made', async () => {
      const b = cid();
      await assert.rejects(m.setup(request(b, { portBindings: { '80/tcp': [{ HostPort: String(port) }] } })), expectCode('CONFLICT', new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`)));
      assert.equal(await m.inspectEndpoints(b).then((x) => x?.netnsPath), undefined);
      await assert.rejects(fs.access(`${env.config.execRoot}/netns/${b}`));
      await assert.rejects(m.setup(request(b, { portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } })), expectCode('CONFLICT'));
    });

    it('binds a random ephemeral port for -p 80 and an address-specific one, reachable', async () => {
      const b = cid();
      const r = await m.setup(request(b, { exposedPorts: ['80/tcp'], portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } }));
      try {
        const [lo, hi] = (await fs.readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
        const bound = r.ports['80/tcp']![0];
        assert.equal(bound.HostIp, '127.0.0.1');
        const hp = Number(bound.HostPort);
        assert.ok(hp >= lo && hp <= hi, `${hp} in ${lo}-${hi}`);
        await startHttpd(env, r.netnsPath!, 'random port');
        assert.equal(await httpGet('127.0.0.1', hp), 'random port');
        // Bound to 127.0.0.1 only: the host's other address does not answer.
        await assert.rejects(httpGet(peer.hostAddr, hp));
      } finally {
        await m.teardown(b);
      }
    });

    it('publishes every exposed port with publishAll', async () => {
      const b = cid();
      const r = await m.setup(request(b, { publishAll: true, exposedPorts: ['80/tcp', '53/udp'] }));
      try {
        assert.equal(r.ports['80/tcp']!.length, 1);
        assert.equal(r.ports['53/udp']!.length, 1);
        const table = (await nftTable(m.tableName))!;
        assert.match(table, new RegExp(`udp dport ${r.ports['53/udp']![0].HostPort} dnat to ${r.networks.bridge.IPAddress}:53`));
      } finally {
        await m.teardown(b);
      }
      const table = (await nftTable(m.tableName))!;
      assert.doesNotMatch(table, new RegExp(`dnat to ${r.networks.bridge.IPAddress?.replace(/\./g, '\\.')}:`), 'rules go with the container');
    });

    it('rebuilds the table once on restart: rules for live containers, no strays, no duplicates', async () => {
      await run('nft', ['add', 'rule', 'ip', m.tableName, 'published', 'tcp', 'dport', '1', 'drop']);
      await m.close();
      m = await open(env);
      const table = (await nftTable(m.tableName))!;
      assert.doesNotMatch(table, /dport 1 drop/);
      assert.equal(table.split('\n').filter((l) => l.includes(`dnat to ${aRes.networks.bridge.IPAddress}:80`)).length, 1);
      assert.equal((await run('nft', ['list', 'tables'])).stdout.split('\n').filter((l) => l.trim() === `table ip ${m.tableName}`).length, 1);
      assert.equal(await httpGet('127.0.0.1', port), `hello from ${a.slice(0, 12)}`);
      // The live endpoint is still known: its port stays taken.
      await assert.rejects(m.setup(request(cid(), { portBindings: { '80/tcp': [{ HostPort: String(port) }] } })), expectCode('CONFLICT'));
    });

    after(async () => {
      await m.teardown(a);
    });
  });

  it('handles --network host, none and container:<id>', async () => {
    const h = cid();
    const hr = await m.setup(request(h, { networkMode: 'host' }));
    assert.equal(hr.hostNetwork, true);
    assert.equal(hr.netnsPath, undefined);
    assert.ok(hr.networks.host);
    assert.match(hr.resolvConf, /nameserver 127\.0\.0\.1/);
    const n = cid();
    const nr = await m.setup(request(n, { networkMode: 'none' }));
    assert.equal(nr.hostNetwork, false);
    assert.equal(nr.netnsPath, undefined);
    assert.match(nr.hosts, /^127\.0\.0\.1\tlocalhost/);
    assert.doesNotMatch(nr.hosts, new RegExp(n.slice(0, 12)));
    assert.ok((m.inspectNetwork('none') as { Containers: Record<string, unknown> }).Containers[n]);
    const owner = cid();
    const or = await m.setup(request(owner));
    const j = cid();
    const jr = await m.setup(request(j, { networkMode: `container:${owner}` }));
    assert.equal(jr.netnsPath, or.netnsPath);
    assert.equal(jr.hosts, or.hosts);
    await assert.rejects(m.setup(request(cid(), { networkMode: `container:${cid()}` })), expectCode('CONFLICT'));
    await assert.rejects(m.connect(h, 'bridge', {}), expectCode('PERMISSION_DENIED'));
    for (const id of [h, n, j, owner]) await m.teardown(id);
  });

  it('removes a namespace file no record owns when it opens again (crash between plumbing and saving)', async () => {
    const stray = `${env.config.execRoot}/netns/${cid()}`;
    await fs.writeFile(stray, '');
    await run('unshare', [`--net=${stray}`, 'true']);
    assert.ok(await isMounted(stray));
    await m.close();
    m = await open(env);
    assert.equal(await isMounted(stray), false);
    await assert.rejects(fs.access(stray));
  });

  it('rejects bad requests without leaving anything', async () => {
    const c = cid();
    await assert.rejects(m.setup(request(c, { networkMode: 'no-such-net' })), expectCode('NOT_FOUND'));
    await assert.rejects(m.setup(request(c, { extraHosts: ['bad'] })), expectCode('INVALID_ARGUMENT'));
    await assert.rejects(m.setup(request(c, { portBindings: { '80/tcp': [{ HostPort: '99999' }] } })), expectCode('INVALID_ARGUMENT'));
    await assert.rejects(m.setup(request(c, { portBindings: { '80/xyz': [{ HostPort: '80' }] } })), expectCode('INVALID_ARGUMENT'));
    assert.equal(await m.inspectEndpoints(c), undefined);
    await assert.rejects(fs.access(`${env.config.execRoot}/netns/${c}`));
  });

  it('measures setup and teardown (printed, not asserted)', async () => {
    const setupMs: number[] = [];
    const teardownMs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const id = cid();
      const t0 = process.hrtime.bigint();
      await m.setup(request(id));
      const t1 = process.hrtime.bigint();
      await m.teardown(id);
      const t2 = process.hrtime.bigint();
      setupMs.push(Number(t1 - t0) / 1e6);
      teardownMs.push(Number(t2 - t1) / 1e6);
      await m.settled();
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(1);
    console.log(`      setup() median ${med(setupMs)} ms, teardown() median ${med(teardownMs)} ms (default bridge, no ports, 15 runs)`);
    assert.ok(await eventually(async () => (await run('ip', ['-br', 'link', 'show', 'master', env.config.bridge.name])).stdout.trim() === ''));
  });
});
