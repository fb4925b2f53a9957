// rtnetlink(7) from the daemon's main thread: the few requests container networking makes on
// every start (a veth pair, an address, links up, a default route, hairpin on a bridge port),
// where one `ip -batch` process per container cost 4-7 ms of wall time. The kernel handles a
// route request inside the sendmsg call, so each request is a send and an immediate read of
// its acknowledgement; nothing here waits.
import { lazyFuncs } from './libc';
import { lastErrno, syscallError, SyscallError } from './syscalls';

const AF_NETLINK = 16;
const AF_INET = 2;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const NETLINK_ROUTE = 0;
const MSG_DONTWAIT = 0x40;

const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const RTA_GATEWAY = 5;
const RTA_OIF = 4;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const IFF_UP = 0x1;

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;

/**
 * One route attribute (struct rtattr + payload), padded to 4 bytes; a list payload nests the
 * attributes in it. Without NLA_F_NESTED, as iproute2 sends them: the link kinds' policies
 * predate strict checking.
 */
export function attr(type: number, payload: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(payload) ? Buffer.concat(payload) : payload;
  const len = 4 + body.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  body.copy(out, 4);
  return out;
}

const str = (s: string) => Buffer.from(`${s}\0`);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u8 = (n: number) => Buffer.of(n);

function ipv4(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

function mac(m: string): Buffer {
  const b = Buffer.from(m.split(':').map((h) => parseInt(h, 16)));
  if (b.length !== 6 || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(m)) throw new RangeError(`not a MAC address: ${m}`);
  return b;
}

/** struct ifinfomsg: family, type, index, flags, change. */
export function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** A whole request: struct nlmsghdr, then the body. */
export function message(type: number, flags: number, seq: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6);
  hdr.writeUInt32LE(seq, 8);
  return Buffer.concat([hdr, payload]);
}

export interface VethRequest {
  /** The end this socket's namespace keeps. */
  name: string;
  mac?: string;
  mtu?: number;
  /** The other end: its name and a descriptor of the namespace it goes into. */
  peer: string;
  peerNetnsFd: number;
}

/**
 * RTM_NEWLINK for a veth pair, the peer created straight into another namespace. The end kept
 * here comes up; the peer cannot (the kernel opens it before the pair is linked: ENOTCONN), so
 * the caller sets it up on the other side.
 */
export function vethBody(v: VethRequest): Buffer[] {
  const mtu = v.mtu ? [attr(IFLA_MTU, u32(v.mtu))] : [];
  const peer = Buffer.concat([ifinfomsg(), attr(IFLA_IFNAME, str(v.peer)), ...mtu, attr(IFLA_NET_NS_FD, u32(v.peerNetnsFd))]);
  return [
    ifinfomsg(0, IFF_UP, IFF_UP),
    attr(IFLA_IFNAME, str(v.name)),
    ...(v.mac ? [attr(IFLA_ADDRESS, mac(v.mac))] : []),
    ...mtu,
    attr(IFLA_LINKINFO, [attr(IFLA_INFO_KIND, str('veth')), attr(IFLA_INFO_DATA, [attr(VETH_INFO_PEER, peer)])]),
  ];
}

interface Bound {
  socket: (domain: number, type: number, protocol: number) => number;
  connect: (fd: number, addr: Buffer, len: number) => number;
  send: (fd: number, buf: Buffer, len: number, flags: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  close: (fd: number) => number;
}

const bind = lazyFuncs<Bound>({
  socket: 'int socket(int domain, int type, int protocol)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  send: 'long send(int fd, const void *buf, size_t len, int flags)',
  recv: 'long recv(int fd, _Out_ void *buf, size_t len, int flags)',
  close: 'int close(int fd)',
});

/**
 * A NETLINK_ROUTE socket. It acts on the network namespace the calling thread was in when it
 * was opened, wherever the thread is afterwards: open it inside a container's namespace (see
 * inNewNetns) and configure that namespace from home.
 */
export class RouteSocket {
  private seq = 0;
  private readonly buf = Buffer.alloc(8192);

  private constructor(private fd: number) {}

  static open(): RouteSocket {
    const b = bind();
    const fd = b.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw syscallError('socket', lastErrno(), 'AF_NETLINK');
    // struct sockaddr_nl of the kernel (port 0), so plain send() reaches it.
    const kernel = Buffer.alloc(12);
    kernel.writeUInt16LE(AF_NETLINK, 0);
    if (b.connect(fd, kernel, kernel.length) !== 0) {
      const errno = lastErrno();
      b.close(fd);
      throw syscallError('connect', errno, 'AF_NETLINK');
    }
    return new RouteSocket(fd);
  }

  close(): void {
    if (this.fd >= 0) bind().close(this.fd);
    this.fd = -1;
  }

  /** Send one request and read what answers it; a NLMSG_ERROR with an error throws. */
  private request(type: number, flags: number, body: Buffer[], detail: string): Buffer {
    const b = bind();
    const seq = ++this.seq;
    const msg = message(type, flags, seq, body);
    if (b.send(this.fd, msg, msg.length, 0) !== msg.length) throw syscallError('netlink', lastErrno(), detail);
    for (;;) {
      // The kernel answered inside send(): the reply is already queued, so never block.
      const n = b.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT);
      if (n < 0) throw syscallError('netlink', lastErrno(), detail);
      for (let off = 0; off + NLMSG_HDRLEN <= n; ) {
        const len = this.buf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN) break;
        if (this.buf.readUInt32LE(off + 8) === seq) {
          if (this.buf.readUInt16LE(off + 4) !== NLMSG_ERROR) return Buffer.from(this.buf.subarray(off, off + len));
          const err = this.buf.readInt32LE(off + NLMSG_HDRLEN);
          if (err === 0) return Buffer.alloc(0);
          throw syscallError('netlink', -err, detail);
        }
        off += (len + 3) & ~3;
      }
    }
  }

  /** The interface index of `name` in this socket's namespace. */
  linkIndex(name: string): number {
    const reply = this.request(RTM_GETLINK, 0, [ifinfomsg(), attr(IFLA_IFNAME, str(name))], `RTM_GETLINK ${name}`);
    const index = reply.length >= NLMSG_HDRLEN + IFINFOMSG_LEN ? reply.readInt32LE(NLMSG_HDRLEN + 4) : 0;
    if (index <= 0) throw new SyscallError('netlink', 'ENODEV', `RTM_GETLINK ${name}`, 'no such device');
    return index;
  }

  /** A veth pair, this end up; returns its index. */
  addVeth(v: VethRequest): number {
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, vethBody(v), `RTM_NEWLINK veth ${v.name} peer ${v.peer}`);
    return this.linkIndex(v.name);
  }

  setUp(name: string): void {
    this.request(RTM_NEWLINK, 0, [ifinfomsg(0, IFF_UP, IFF_UP), attr(IFLA_IFNAME, str(name))], `RTM_NEWLINK ${name} up`);
  }

  addAddress(index: number, ip: string, prefix: number): void {
    const head = Buffer.alloc(8);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(prefix, 1);
    head.writeUInt32LE(index, 4);
    const a = ipv4(ip);
    this.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, [head, attr(IFA_LOCAL, a), attr(IFA_ADDRESS, a)], `RTM_NEWADDR ${ip}/${prefix}`);
  }

  addDefaultRoute(index: number, gateway: string): void {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(RT_TABLE_MAIN, 4);
    head.writeUInt8(RTPROT_BOOT, 5);
    head.writeUInt8(RTN_UNICAST, 7);
    this.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, [head, attr(RTA_GATEWAY, ipv4(gateway)), attr(RTA_OIF, u32(index))], `RTM_NEWROUTE default via ${gateway}`);
  }

  /** Let a bridge port send frames back out the port they came in on. */
  setHairpin(name: string): void {
    const info = attr(IFLA_LINKINFO, [attr(IFLA_INFO_SLAVE_KIND, str('bridge')), attr(IFLA_INFO_SLAVE_DATA, [attr(IFLA_BRPORT_MODE, u8(1))])]);
    this.request(RTM_NEWLINK, 0, [ifinfomsg(), attr(IFLA_IFNAME, str(name)), info], `RTM_NEWLINK ${name} hairpin on`);
  }
}

/** Open a route socket, run `fn` with it, close it. */
export function withRouteSocket<T>(fn: (s: RouteSocket) => T, open: () => RouteSocket = RouteSocket.open): T {
  const s = open();
  try {
    return fn(s);
  } finally {
    s.close();
  }
}
