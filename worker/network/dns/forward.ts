// Forward a query to upstream resolvers, over UDP or TCP, first answer wins.
import dgram from 'node:dgram';
import net from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

const TIMEOUT_MS = 2000;

function udpOnce(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    // A fresh socket per query: a random source port, and replies cannot be confused.
    const sock = dgram.createSocket(up.host.includes(':') ? 'udp6' : 'udp4');
    const id = msg.readUInt16BE(0);
    const done = (r: Buffer | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (reply, rinfo) => {
      if (rinfo.address !== up.host || rinfo.port !== up.port || reply.length < 12 || reply.readUInt16BE(0) !== id) return;
      done(reply);
    });
    sock.send(msg, up.port, up.host, (err) => err && done(undefined));
  });
}

function tcpOnce(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    const done = (r: Buffer | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => done(undefined));
  });
}

/** Try each upstream in turn; undefined when none answered. */
export async function forward(msg: Buffer, upstreams: Upstream[], tcp: boolean, timeoutMs = TIMEOUT_MS): Promise<Buffer | undefined> {
  for (const up of upstreams) {
    const r = tcp ? await tcpOnce(msg, up, timeoutMs) : await udpOnce(msg, up, timeoutMs);
    if (r) return r;
  }
  return undefined;
}
