// A DNS listener on one address, port 53 by default: UDP and TCP (length-prefixed), one handler.
import dgram from 'node:dgram';
import net from 'node:net';
import { logger } from '../../../shared/log';

export type QueryHandler = (msg: Buffer, from: string, tcp: boolean) => Promise<Buffer | undefined>;

const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNS = 64;

export class DnsServer {
  private readonly log = logger('dns');
  private readonly conns = new Set<net.Socket>();

  private constructor(
    readonly address: string,
    readonly port: number,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
  ) {}

  static async start(address: string, handler: QueryHandler, port = 53): Promise<DnsServer> {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const actualPort = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(actualPort, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    const srv = new DnsServer(address, actualPort, udp, tcp);
    srv.serve(handler);
    return srv;
  }

  private serve(handler: QueryHandler): void {
    this.udp.on('error', (e) => this.log.warn({ err: e.message, address: this.address }, 'dns udp socket error'));
    this.udp.on('message', (msg, rinfo) => {
      handler(msg, rinfo.address, false)
        .then((reply) => reply && this.udp.send(reply, rinfo.port, rinfo.address))
        .catch((e) => this.log.debug({ err: (e as Error).message }, 'dns query failed'));
    });
    this.tcp.on('connection', (sock) => {
      if (this.conns.size >= MAX_TCP_CONNS) return sock.destroy();
      this.conns.add(sock);
      sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
      sock.on('close', () => this.conns.delete(sock));
      sock.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          handler(Buffer.from(msg), sock.remoteAddress ?? '', true)
            .then((reply) => {
              if (!reply || sock.destroyed) return;
              const len = Buffer.alloc(2);
              len.writeUInt16BE(reply.length);
              sock.write(Buffer.concat([len, reply]));
            })
            .catch(() => undefined);
        }
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    await Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]);
  }
}
