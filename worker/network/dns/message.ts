// The embedded DNS server's answers, as a pure function of a query and the network's names.
import * as dnsPacket from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Docker's embedded DNS answers with a TTL of 600 s. */
export const TTL = 600;
const UDP_LIMIT = 512;

/** The names a network knows: lookup gives undefined for a name the network does not own. */
export interface NameIndex {
  lookup(name: string): string[] | undefined;
  reverse(ip: string): string | undefined;
}

export type Decision = { reply: Buffer } | { forward: true } | { drop: true };

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4" */
export function arpaToIp(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  return m ? [m[4], m[3], m[2], m[1]].join('.') : undefined;
}

function respond(q: dnsPacket.DecodedPacket, rcode: number, answers: dnsPacket.Answer[], authoritative: boolean, udp: boolean): Buffer {
  const rd = q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  let flags = rd | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode;
  let ans = answers;
  let buf = dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers: ans });
  // Over UDP, drop answers until the reply fits, and say so (TC): the client retries over TCP.
  while (udp && buf.length > UDP_LIMIT && ans.length > 0) {
    ans = ans.slice(0, -1);
    flags |= dnsPacket.TRUNCATED_RESPONSE;
    buf = dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers: ans });
  }
  return buf;
}

/** A bare header-only error reply for a message we could not decode but whose ID we can read. */
function headerError(msg: Buffer, rcode: number): Buffer | undefined {
  if (msg.length < 12 || msg[2] & 0x80) return undefined; // too short, or not a query
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x7900) | dnsPacket.RECURSION_AVAILABLE | rcode, 2);
  return out;
}

/**
 * Answer a query from the network's names, or say it should be forwarded upstream.
 * Names the network owns answer A with their addresses and any other type with no data (never
 * forwarded: the outside world must not shadow a container). `canForward` is false on internal networks.
 */
export function handleQuery(msg: Buffer, index: NameIndex, opts: { canForward: boolean; udp: boolean; shuffle?: (ips: string[]) => string[] }): Decision {
  let q: dnsPacket.DecodedPacket;
  try {
    q = dnsPacket.decode(msg);
  } catch {
    const r = headerError(msg, RCODE.FORMERR);
    return r ? { reply: r } : { drop: true };
  }
  if (q.flag_qr) return { drop: true };
  const opcode = (msg.readUInt16BE(2) >> 11) & 0xf;
  if (opcode !== 0) return { reply: respond(q, RCODE.NOTIMP, [], false, opts.udp) };
  if (!q.questions || q.questions.length !== 1) return { reply: respond(q, RCODE.FORMERR, [], false, opts.udp) };
  const question = q.questions[0];
  const name = normalize(question.name);
  if (question.type === 'PTR') {
    const ip = arpaToIp(name);
    const target = ip ? index.reverse(ip) : undefined;
    if (target) return { reply: respond(q, RCODE.NOERROR, [{ type: 'PTR', name: question.name, ttl: TTL, data: target }], true, opts.udp) };
  } else {
    const ips = index.lookup(name);
    if (ips) {
      const ordered = opts.shuffle ? opts.shuffle(ips) : ips;
      const answers: dnsPacket.Answer[] = question.type === 'A' || (question.type as string) === 'ANY' ? ordered.map((ip) => ({ type: 'A', name: question.name, ttl: TTL, data: ip })) : [];
      return { reply: respond(q, RCODE.NOERROR, answers, true, opts.udp) };
    }
  }
  if (opts.canForward) return { forward: true };
  return { reply: respond(q, RCODE.NXDOMAIN, [], false, opts.udp) };
}

/** SERVFAIL for a query no upstream answered. */
export function servfail(msg: Buffer, udp: boolean): Buffer | undefined {
  try {
    return respond(dnsPacket.decode(msg), RCODE.SERVFAIL, [], false, udp);
  } catch {
    return headerError(msg, RCODE.SERVFAIL);
  }
}
