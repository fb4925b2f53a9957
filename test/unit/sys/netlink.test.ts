import assert from 'node:assert/strict';
import { attr, ifinfomsg, message, vethBody } from '../../../shared/sys/netlink';

/** Walk a run of route attributes into [type, payload] pairs. */
function attrs(buf: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    out.push([buf.readUInt16LE(off + 2), buf.subarray(off + 4, off + len)]);
    off += (len + 3) & ~3;
  }
  return out;
}

describe('shared/sys/netlink: request encoding', () => {
  it('pads an attribute to 4 bytes and records its unpadded length', () => {
    const a = attr(3, Buffer.from('eth0\0'));
    assert.equal(a.length, 12);
    assert.equal(a.readUInt16LE(0), 9);
    assert.equal(a.readUInt16LE(2), 3);
    assert.equal(a.subarray(4, 9).toString(), 'eth0\0');
  });

  it('nests a list of attributes inside one, without the NESTED flag (as iproute2)', () => {
    const a = attr(18, [attr(1, Buffer.from('veth\0'))]);
    assert.equal(a.readUInt16LE(2), 18);
    assert.deepEqual(attrs(a.subarray(4)).map(([t, p]) => [t, p.toString()]), [[1, 'veth\0']]);
  });

  it('frames a request: length, type, request and ack flags, sequence', () => {
    const m = message(16, 0x600, 7, [ifinfomsg(2, 1, 1)]);
    assert.equal(m.length, 32);
    assert.equal(m.readUInt32LE(0), 32);
    assert.equal(m.readUInt16LE(4), 16);
    assert.equal(m.readUInt16LE(6), 0x600 | 0x1 | 0x4);
    assert.equal(m.readUInt32LE(8), 7);
    assert.equal(m.readInt32LE(16 + 4), 2, 'ifi_index');
    assert.equal(m.readUInt32LE(16 + 8), 1, 'ifi_flags');
  });

  it('asks for a veth pair: this end named, addressed and up; the peer named, in the given namespace, not up', () => {
    const [head, ...rest] = vethBody({ name: 'eth0', mac: '02:42:0a:00:00:02', mtu: 1450, peer: 'shv0123456789ab', peerNetnsFd: 3 });
    assert.equal(head.readUInt32LE(8), 1, 'IFF_UP');
    const top = new Map(attrs(Buffer.concat(rest)));
    assert.equal(top.get(3)!.toString(), 'eth0\0');
    assert.deepEqual([...top.get(1)!], [0x02, 0x42, 0x0a, 0, 0, 2]);
    assert.equal(top.get(4)!.readUInt32LE(0), 1450);
    const info = new Map(attrs(top.get(18)!));
    assert.equal(info.get(1)!.toString(), 'veth\0');
    const peer = new Map(attrs(info.get(2)!)).get(1)!;
    assert.equal(peer.readUInt32LE(8), 0, 'the peer is not brought up by the request');
    const peerAttrs = new Map(attrs(peer.subarray(16)));
    assert.equal(peerAttrs.get(3)!.toString(), 'shv0123456789ab\0');
    assert.equal(peerAttrs.get(4)!.readUInt32LE(0), 1450);
    assert.equal(peerAttrs.get(28)!.readUInt32LE(0), 3, 'IFLA_NET_NS_FD');
  });

  it('rejects a malformed MAC before anything is sent', () => {
    assert.throws(() => vethBody({ name: 'eth0', mac: '02:42:zz:00:00:02', peer: 'p', peerNetnsFd: 3 }), RangeError);
  });
});
