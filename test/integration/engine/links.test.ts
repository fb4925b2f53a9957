import assert from 'node:assert/strict';
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { run } from '../../../shared/exec';
import { SyscallError } from '../../../shared/sys/syscalls';
import { addLinks, createNetns, removeNetns, type VethSpec } from '../../../worker/network/links';
import { eventually } from '../../helpers/swarm';

interface LinkJson {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  master?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
  linkinfo?: { info_slave_data?: { hairpin?: boolean } };
}

const inNs = async (ns: string, args: string[]) => (await run('nsenter', [`--net=${ns}`, 'ip', ...args])).stdout;
const links = async (ns: string) => JSON.parse(await inNs(ns, ['-j', 'addr', 'show'])) as LinkJson[];
const hostLink = async (name: string) => (JSON.parse((await run('ip', ['-j', '-d', 'link', 'show', name])).stdout) as LinkJson[])[0];
const hostLinkGone = async (name: string) => (await run('ip', ['link', 'show', name], { okCodes: [0, 1] })).code === 1;

describe('worker/network links over rtnetlink: a container namespace plumbed without a process', () => {
  const tag = randomBytes(3).toString('hex');
  const br = `shtl${tag}`;
  const veth = (n: number) => `shvl${tag}${n}`;
  let dir: string;
  let ns: string;

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-links-'));
    ns = join(dir, 'netns', 'c1');
    await run('ip', ['link', 'add', br, 'address', '02:00:00:aa:bb:01', 'type', 'bridge']);
    await run('ip', ['addr', 'add', '10.251.7.1/24', 'dev', br]);
    await run('ip', ['link', 'set', br, 'up']);
  });

  after(async () => {
    await removeNetns(ns).catch(() => undefined);
    for (let i = 0; i < 4; i++) await run('ip', ['link', 'del', veth(i)], { okCodes: [0, 1] });
    await run('ip', ['link', 'del', br], { okCodes: [0, 1] });
    await fs.rm(dir, { recursive: true, force: true });
  });

  const spec = (i: number, extra: Partial<VethSpec> = {}): VethSpec => ({ ifname: `eth${i}`, hostVeth: veth(i), mac: `02:42:0a:fb:07:0${i + 2}`, ip: `10.251.7.${i + 2}`, prefix: 24, bridge: br, ...extra });

  it('creates the namespace with lo up, addressed veths, the default route, and the host ends on the bridge', async () => {
    const home = statSync('/proc/thread-self/ns/net').ino;
    await createNetns(ns, [spec(0, { gateway: '10.251.7.1' }), spec(1, { mtu: 1450, hairpin: true })]);
    assert.equal(statSync('/proc/thread-self/ns/net').ino, home, 'the daemon thread is back in its own namespace');
    const inside = new Map((await links(ns)).map((l) => [l.ifname, l]));
    assert.deepEqual([...inside.keys()].sort(), ['eth0', 'eth1', 'lo']);
    assert.ok(inside.get('lo')!.flags.includes('UP'));
    for (const [i, name] of ['eth0', 'eth1'].entries()) {
      const l = inside.get(name)!;
      assert.equal(l.address, `02:42:0a:fb:07:0${i + 2}`);
      assert.ok(l.flags.includes('UP'), `${name} up`);
      assert.deepEqual(l.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [`10.251.7.${i + 2}/24`]);
    }
    assert.equal(inside.get('eth0')!.mtu, 1500);
    assert.equal(inside.get('eth1')!.mtu, 1450);
    assert.match(await inNs(ns, ['route', 'show', 'default']), /^default via 10\.251\.7\.1 dev eth0/);
    for (const i of [0, 1]) {
      const h = await hostLink(veth(i));
      assert.equal(h.master, br);
      assert.ok(h.flags.includes('UP'), `${veth(i)} up`);
      assert.equal(h.mtu, i === 1 ? 1450 : 1500);
      assert.equal(h.linkinfo?.info_slave_data?.hairpin, i === 1, `hairpin only where asked (${veth(i)})`);
    }
    // The plumbing carries traffic: from inside, a TCP connection to the gateway's address on the bridge.
    const server = createServer((sock) => sock.end('hello'));
    await new Promise<void>((r) => server.listen(0, '10.251.7.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const script = `require('net').connect(${port}, '10.251.7.1').on('data', (d) => { process.stdout.write(d); process.exit(0); }).on('error', () => process.exit(1))`;
      assert.equal((await run('nsenter', [`--net=${ns}`, process.execPath, '-e', script])).stdout, 'hello');
    } finally {
      server.close();
    }
  });

  it('hot-adds an interface to the existing namespace (network connect)', async () => {
    await addLinks(ns, [spec(2)]);
    const eth2 = (await links(ns)).find((l) => l.ifname === 'eth2');
    assert.ok(eth2 && eth2.flags.includes('UP'));
    assert.deepEqual(eth2.addr_info?.filter((a) => a.family === 'inet').map((a) => a.local), ['10.251.7.4']);
    assert.equal((await hostLink(veth(2))).master, br);
    assert.doesNotMatch(await inNs(ns, ['route', 'show', 'default']), /eth2/, 'no second default route');
  });

  it('a request the kernel refuses is a typed error, and the thread is back home', async () => {
    const home = statSync('/proc/thread-self/ns/net').ino;
    // eth0 exists in the namespace already.
    await assert.rejects(addLinks(ns, [spec(0, { hostVeth: veth(3) })]), (e: unknown) => e instanceof SyscallError && e.errno === 'EEXIST' && /RTM_NEWLINK veth eth0/.test(e.message));
    assert.equal(statSync('/proc/thread-self/ns/net').ino, home);
  });

  it('removing the namespace takes its pairs with it', async () => {
    await removeNetns(ns);
    await assert.rejects(fs.access(ns));
    for (const i of [0, 1, 2]) await eventually(`${veth(i)} gone with the namespace`, () => hostLinkGone(veth(i)), 10_000);
  });
});
