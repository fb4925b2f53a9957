import assert from 'node:assert/strict';
import { MESH_MARK, renderReplace, renderTable, tableName, type NftState } from '../../../worker/network/nft';

const state: NftState = {
  table: 'shoal_t',
  networks: [
    { bridge: 'shoal0', subnet: '172.17.0.0/16', internal: false, masquerade: true },
    { bridge: 'br-aaaa', subnet: '10.1.0.0/24', internal: true, masquerade: true },
    { bridge: 'br-bbbb', subnet: '10.2.0.0/24', internal: false, masquerade: false },
  ],
  ports: [
    { proto: 'tcp', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 },
    { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerIp: '172.17.0.3', containerPort: 53 },
  ],
};

const lines = (s: string) => s.split('\n').map((l) => l.trim());

describe('network/nft rendering', () => {
  it('names one table per daemon from its bridge, safe for nft', () => {
    assert.equal(tableName('shoal0'), 'shoal_shoal0');
    assert.match(tableName('sh-t.1'), /^shoal_sh_t_1_[0-9a-f]{6}$/);
    assert.notEqual(tableName('a-b'), tableName('a.b'));
  });

  it('replaces the table atomically in one batch', () => {
    const text = renderReplace(state);
    assert.ok(text.startsWith('table ip shoal_t\ndelete table ip shoal_t\ntable ip shoal_t {'));
  });

  it('DNATs published ports from prerouting and from the output hook at -100', () => {
    const l = lines(renderTable(state));
    assert.ok(l.includes('type nat hook prerouting priority dstnat; policy accept;'));
    assert.ok(l.includes('type nat hook output priority -100; policy accept;'));
    assert.equal(l.filter((x) => x === 'fib daddr type local jump published').length, 2);
    assert.ok(l.includes('meta l4proto tcp th dport 8080 dnat to 172.17.0.2:80'));
    const specific = l.indexOf('ip daddr 127.0.0.1 meta l4proto udp th dport 5353 dnat to 172.17.0.3:53');
    assert.ok(specific >= 0 && specific < l.indexOf('meta l4proto tcp th dport 8080 dnat to 172.17.0.2:80'), 'address-specific rules come first');
  });

  it('masquerades egress except for internal or non-masquerading networks, plus hairpin and loopback', () => {
    const l = lines(renderTable(state));
    assert.ok(l.includes('ip saddr 172.17.0.0/16 oifname != "shoal0" masquerade'));
    assert.ok(!l.some((x) => x.startsWith('ip saddr 10.1.0.0/24 oifname !=')));
    assert.ok(!l.some((x) => x.startsWith('ip saddr 10.2.0.0/24 oifname !=')));
    assert.ok(l.includes('oifname "shoal0" ip saddr 172.17.0.0/16 ct status dnat masquerade'));
    assert.ok(l.includes('oifname "shoal0" ip saddr 127.0.0.0/8 masquerade'));
  });

  it('isolates internal networks and keeps bridges apart', () => {
    const l = lines(renderTable(state));
    assert.ok(l.includes('iifname "br-aaaa" oifname != "br-aaaa" drop'));
    assert.ok(l.includes('oifname "br-aaaa" iifname != "br-aaaa" drop'));
    assert.ok(l.includes('iifname "shoal0" oifname != "shoal0" oifname @bridges drop'));
    assert.ok(l.includes('elements = { "shoal0", "br-aaaa", "br-bbbb" }'));
    assert.ok(l.indexOf('ct status dnat accept') < l.indexOf('iifname "shoal0" oifname != "shoal0" oifname @bridges drop'));
  });

  it('load-balances each VIP over its running tasks, refuses one with none, keeps client addresses but masquerades a task reaching itself', () => {
    const t = renderTable({
      table: 'shoal_x',
      networks: [{ bridge: 'ov4097', subnet: '10.0.1.0/24', internal: false, masquerade: true }],
      ports: [],
      vips: [
        { vip: '10.0.1.2', backends: ['10.0.1.3', '10.0.1.4'], local: ['10.0.1.3'] },
        { vip: '10.0.1.9', backends: [] },
      ],
    });
    assert.match(t, /set vips \{\n\t\ttype ipv4_addr\n\t\telements = \{ 10\.0\.1\.2, 10\.0\.1\.9 \}/);
    assert.match(t, /ip daddr vmap \{ 10\.0\.1\.2 : jump vip_10_0_1_2 \}/);
    assert.match(t, /chain vip_10_0_1_2 \{\n\t\tdnat to numgen random mod 2 map \{ 0 : 10\.0\.1\.3, 1 : 10\.0\.1\.4 \}/);
    assert.match(t, /ip daddr \{ 10\.0\.1\.9 \} meta l4proto tcp reject with tcp reset/);
    const post = t.slice(t.indexOf('chain postrouting'));
    const self = post.indexOf('ct original ip daddr @vips ip saddr . ip daddr { 10.0.1.3 . 10.0.1.3 } masquerade');
    const keep = post.indexOf('ct original ip daddr @vips accept');
    const hairpin = post.indexOf('oifname "ov4097" ip saddr 10.0.1.0/24 ct status dnat masquerade');
    assert.ok(self >= 0 && keep > self && hairpin > keep, 'self first, then VIP traffic left alone, before the bridge hairpin masquerade');
    assert.doesNotMatch(renderTable({ table: 'shoal_x', networks: [], ports: [] }), /vmap|@vips accept|reject/, 'no VIP, no VIP rules');
  });

  it('publishes mesh ports on every local address, spread over the tasks; SNATs only what goes to another node; refuses a port with no task', () => {
    const t = renderTable({
      table: 'shoal_x',
      networks: [{ bridge: 'ov4097', subnet: '10.0.0.0/24', internal: false, masquerade: true }],
      ports: [],
      mesh: {
        bridge: 'ov4097',
        source: '10.0.0.3',
        ports: [
          { proto: 'tcp', published: 8080, target: 80, backends: ['10.0.0.5', '10.0.0.6'], local: ['10.0.0.5'] },
          { proto: 'udp', published: 5353, target: 53, backends: [], local: [] },
        ],
      },
    });
    const pre = t.slice(t.indexOf('chain prerouting'), t.indexOf('chain prerouting') + 300);
    assert.match(pre, /fib daddr type local meta l4proto \. th dport vmap \{ tcp \. 8080 : jump mesh_tcp_8080 \}\n\t\tfib daddr type local jump published/);
    assert.match(t, /chain output \{[^}]*jump mesh_tcp_8080/);
    assert.match(t, new RegExp(`ct mark set ${MESH_MARK} meta l4proto tcp dnat ip to numgen random mod 2 map \\{ 0 : 10\\.0\\.0\\.5 \\. 80, 1 : 10\\.0\\.0\\.6 \\. 80 \\}`));
    assert.match(t, /fib daddr type local udp dport 5353 reject/);
    assert.match(t, new RegExp(`ct mark ${MESH_MARK} oifname "ov4097" ip daddr != \\{ 10\\.0\\.0\\.5 \\} snat to 10\\.0\\.0\\.3`));
  });

  it('renders the same text for the same state (stable order)', () => {
    const shuffled = { ...state, ports: [...state.ports].reverse() };
    assert.equal(renderTable(shuffled), renderTable(state));
  });

  it('renders an empty set without elements', () => {
    const t = renderTable({ table: 'x', networks: [], ports: [] });
    assert.ok(!t.includes('elements'));
    assert.ok(!t.includes('ct status dnat accept'));
  });
});
