import assert from 'node:assert/strict';
import { parseExtraHost, parseResolvConf, renderHosts, renderResolvConf } from '../../../worker/network/files';

const HOST = parseResolvConf('# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2 ; trailing\ndomain old.example\nsearch a.example b.example\noptions edns0 trust-ad\n');

describe('network/files', () => {
  it('parses resolv.conf (the last search/domain wins)', () => {
    assert.deepEqual(HOST, { nameservers: ['127.0.0.53', '10.0.0.2'], search: ['a.example', 'b.example'], options: ['edns0', 'trust-ad'] });
  });

  it('copies the host resolvers for the default bridge, dropping loopback ones', () => {
    const t = renderResolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: [] });
    assert.deepEqual(t.split('\n').filter((l) => !l.startsWith('#')), ['nameserver 10.0.0.2', 'search a.example b.example', 'options edns0 trust-ad', '']);
  });

  it('falls back to public resolvers when the host has only loopback ones, as Docker does', () => {
    const t = renderResolvConf({ host: parseResolvConf('nameserver 127.0.0.1\n'), dns: [], dnsSearch: [], dnsOptions: [] });
    assert.match(t, /nameserver 8\.8\.8\.8\nnameserver 8\.8\.4\.4\n/);
  });

  it('points user-defined networks at the embedded server with ndots:0', () => {
    const t = renderResolvConf({ host: HOST, embedded: '10.9.0.1', dns: ['1.1.1.1'], dnsSearch: ['c.example'], dnsOptions: [] });
    assert.deepEqual(t.split('\n').filter((l) => !l.startsWith('#')), ['nameserver 10.9.0.1', 'search c.example', 'options edns0 trust-ad ndots:0', '']);
    assert.doesNotMatch(renderResolvConf({ host: HOST, embedded: '10.9.0.1', dns: [], dnsSearch: [], dnsOptions: ['ndots:2'] }), /ndots:0/);
  });

  it('uses --dns, --dns-search and --dns-option on the default bridge', () => {
    const t = renderResolvConf({ host: HOST, dns: ['9.9.9.9'], dnsSearch: ['.'], dnsOptions: ['rotate'] });
    assert.deepEqual(t.split('\n').filter((l) => !l.startsWith('#')), ['nameserver 9.9.9.9', 'options rotate', '']);
    assert.throws(() => renderResolvConf({ host: HOST, dns: ['not an ip'], dnsSearch: [], dnsOptions: [] }), /invalid DNS server/);
  });

  it('keeps loopback resolvers with host networking', () => {
    assert.match(renderResolvConf({ host: HOST, hostNetwork: true, dns: [], dnsSearch: [], dnsOptions: [] }), /nameserver 127\.0\.0\.53/);
  });

  it('renders /etc/hosts with localhost lines, extra hosts and the container itself', () => {
    const t = renderHosts({ hostname: 'web', ips: ['10.9.0.2'], extraHosts: [parseExtraHost('db:10.0.0.5'), parseExtraHost('gw:host-gateway', '172.17.0.1')] });
    const l = t.split('\n');
    assert.equal(l[0], '127.0.0.1\tlocalhost');
    assert.ok(l.includes('::1\tlocalhost ip6-localhost ip6-loopback'));
    assert.ok(l.includes('10.0.0.5\tdb'));
    assert.ok(l.includes('172.17.0.1\tgw'));
    assert.equal(l[l.length - 2], '10.9.0.2\tweb');
    assert.match(renderHosts({ hostname: 'h', domainname: 'example.org', ips: ['10.0.0.9'], extraHosts: [] }), /10\.0\.0\.9\th\.example\.org h\n$/);
  });

  it('uses the host file for host networking and no own line without an address', () => {
    const t = renderHosts({ hostname: 'x', ips: [], extraHosts: [parseExtraHost('a=10.1.1.1')], hostFile: '127.0.0.1 localhost\n192.0.2.2 myhost\n\n' });
    assert.equal(t, '127.0.0.1 localhost\n192.0.2.2 myhost\n10.1.1.1\ta\n');
  });

  it('parses extra hosts and rejects bad ones', () => {
    assert.deepEqual(parseExtraHost('v6:[::1]'), { name: 'v6', ip: '::1' });
    assert.throws(() => parseExtraHost('nocolon'), /expected name:ip/);
    assert.throws(() => parseExtraHost('a:b.c'), /not an IP/);
    assert.throws(() => parseExtraHost('a:host-gateway'), /host gateway/);
  });
});
