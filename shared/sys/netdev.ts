// Enslaving a host veth end to a bridge and bringing it up, through the netdevice(7) ioctls
// that brctl and ifconfig use, instead of one `ip -batch` process per container start.
import { ioctl, withControlSocket } from './syscalls';

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFINDEX = 0x8933;
const SIOCBRADDIF = 0x89a2;
const IFF_UP = 0x1;
const IFNAMSIZ = 16;

/** struct ifreq: the interface name, then a 24-byte union (ifindex, flags...). */
function ifreq(name: string): Buffer {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new RangeError(`interface name ${name} is longer than ${IFNAMSIZ - 1} bytes`);
  const b = Buffer.alloc(40);
  b.write(name, 0, 'utf8');
  return b;
}

/** Put each interface on its bridge and set it up, in the calling thread's network namespace. */
export function attachToBridges(ports: Array<{ dev: string; bridge: string }>): void {
  withControlSocket((fd) => {
    for (const { dev, bridge } of ports) {
      const req = ifreq(dev);
      ioctl(fd, SIOCGIFINDEX, req, `SIOCGIFINDEX ${dev}`);
      const add = ifreq(bridge);
      add.writeInt32LE(req.readInt32LE(IFNAMSIZ), IFNAMSIZ);
      ioctl(fd, SIOCBRADDIF, add, `SIOCBRADDIF ${dev} to ${bridge}`);
      const flags = ifreq(dev);
      ioctl(fd, SIOCGIFFLAGS, flags, `SIOCGIFFLAGS ${dev}`);
      flags.writeUInt16LE(flags.readUInt16LE(IFNAMSIZ) | IFF_UP, IFNAMSIZ);
      ioctl(fd, SIOCSIFFLAGS, flags, `SIOCSIFFLAGS ${dev}`);
    }
  });
}
