// The host's routing table, read from procfs (no process, no netlink).
import { promises as fs } from 'node:fs';

/** The host's IPv4 route destinations ("10.0.0.0/24"), without the default route. */
export async function hostRoutes(): Promise<string[]> {
  const text = await fs.readFile('/proc/net/route', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => Buffer.from(h, 'hex').reverse().join('.');
    const mask = Buffer.from(f[7], 'hex').reduce((n, b) => n + (b.toString(2).match(/1/g)?.length ?? 0), 0);
    if (mask === 0) continue;
    out.push(`${le(f[1])}/${mask}`);
  }
  return out;
}
