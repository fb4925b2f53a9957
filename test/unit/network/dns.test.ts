import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { arpaToIp, handleQuery, servfail, RCODE, type NameIndex } from '../../../worker/network/dns/message';

const names = new Map<string, string[]>([
  ['web', ['10.9.0.2']],
  ['api', ['10.9.0.3', '10.9.0.4']],
]);
const index: NameIndex = { lookup: (n) => names.get(n), reverse: (ip) => (ip === '10.9.0.2' ? 'web.net1' : undefined) };

function query(name: string, type: dnsPacket.RecordType = 'A', id = 4242): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

function reply(d: ReturnType<typeof handleQuery>): dnsPacket.DecodedPacket & { rcode?: string } {
  assert.ok('reply' in d, `expected a reply, got ${JSON.stringify(d)}`);
  return dnsPacket.decode(d.reply) as dnsPacket.DecodedPacket & { rcode?: string };
}

describe('network/dns message handling', () => {
  it('answers A for a name on the network, case-insensitively, with the query ID', () => {
    const r = reply(handleQuery(query('WEB.'), index, { canForward: true, udp: true }));
    assert.equal(r.id, 4242);
    assert.equal(r.type, 'response');
    assert.equal(r.rcode, 'NOERROR');
    assert.ok(r.flag_aa && r.flag_rd && r.flag_ra);
    assert.deepEqual(r.answers?.map((a) => [a.type, (a as { data: string }).data, a.name]), [['A', '10.9.0.2', 'WEB']]);
  });

  it('answers every address of a shared alias', () => {
    const r = reply(handleQuery(query('api'), index, { canForward: true, udp: true, shuffle: (x) => [...x].reverse() }));
    assert.deepEqual(r.answers?.map((a) => (a as { data: string }).data), ['10.9.0.4', '10.9.0.3']);
  });

  it('answers other record types of its own names with no data instead of forwarding', () => {
    const r = reply(handleQuery(query('web', 'AAAA'), index, { canForward: true, udp: true }));
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answers, []);
  });

  it('answers PTR for its addresses', () => {
    assert.equal(arpaToIp('2.0.9.10.in-addr.arpa'), '10.9.0.2');
    const r = reply(handleQuery(query('2.0.9.10.in-addr.arpa', 'PTR'), index, { canForward: true, udp: true }));
    assert.deepEqual(r.answers?.map((a) => (a as { data: string }).data), ['web.net1']);
  });

  it('forwards names it does not own, or says NXDOMAIN when it may not forward', () => {
    assert.deepEqual(handleQuery(query('example.org'), index, { canForward: true, udp: true }), { forward: true });
    assert.deepEqual(handleQuery(query('9.9.9.9.in-addr.arpa', 'PTR'), index, { canForward: true, udp: true }), { forward: true });
    assert.equal(reply(handleQuery(query('example.org'), index, { canForward: false, udp: true })).rcode, 'NXDOMAIN');
  });

  it('answers garbage with FORMERR when it has a header, and drops it otherwise', () => {
    const bad = Buffer.concat([query('web').subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])]);
    bad.writeUInt16BE(1, 4); // one question, truncated
    const d = handleQuery(bad, index, { canForward: true, udp: true });
    assert.ok('reply' in d);
    assert.equal(d.reply.readUInt16BE(0), 4242);
    assert.equal(d.reply.readUInt16BE(2) & 0xf, RCODE.FORMERR);
    assert.ok(d.reply.readUInt16BE(2) & 0x8000);
    assert.deepEqual(handleQuery(Buffer.from([1, 2, 3]), index, { canForward: true, udp: true }), { drop: true });
  });

  it('ignores responses and refuses other opcodes', () => {
    const resp = dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'web' }] });
    assert.deepEqual(handleQuery(resp, index, { canForward: true, udp: true }), { drop: true });
    const notify = query('web');
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    assert.equal(reply(handleQuery(notify, index, { canForward: true, udp: true })).rcode, 'NOTIMP');
  });

  it('truncates over UDP when the answer does not fit 512 bytes', () => {
    const many = Array.from({ length: 60 }, (_v, i) => `10.9.1.${i + 1}`);
    const big: NameIndex = { lookup: (n) => (n === 'many' ? many : undefined), reverse: () => undefined };
    const udp = reply(handleQuery(query('many'), big, { canForward: true, udp: true }));
    assert.ok(udp.flag_tc);
    assert.ok((udp.answers?.length ?? 0) < 60);
    const d = handleQuery(query('many'), big, { canForward: true, udp: false });
    assert.ok('reply' in d && d.reply.length > 512);
    assert.equal(reply(d).answers?.length, 60);
  });

  it('builds SERVFAIL for a query no upstream answered', () => {
    const r = dnsPacket.decode(servfail(query('x.example'), true)!) as dnsPacket.DecodedPacket & { rcode?: string };
    assert.equal(r.rcode, 'SERVFAIL');
    assert.equal(r.id, 4242);
  });
});
