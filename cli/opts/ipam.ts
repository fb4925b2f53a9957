// network create's --subnet/--ip-range/--gateway/--aux-address into IPAM pools, as docker pairs them.
import { isIP } from 'node:net';
import { OptionError } from './errors';

export interface IpamPool {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

function toBig(ip: string): { v: bigint; bits: number } | undefined {
  const fam = isIP(ip);
  if (fam === 4) return { v: ip.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n), bits: 32 };
  if (fam !== 6) return undefined;
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = toBig(v4[1])!.v;
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

interface Cidr {
  v: bigint;
  bits: number;
  prefix: number;
}

function parseCidr(s: string): Cidr {
  const [ip, p, ...rest] = s.split('/');
  const addr = toBig(ip);
  const prefix = Number(p);
  if (!addr || p === undefined || rest.length || !/^\d+$/.test(p) || prefix > addr.bits) throw new OptionError(`invalid CIDR address: ${s}`);
  return { ...addr, prefix };
}

function contains(net: Cidr, ip: { v: bigint; bits: number }): boolean {
  if (net.bits !== ip.bits) return false;
  const shift = BigInt(net.bits - net.prefix);
  return net.v >> shift === ip.v >> shift;
}

/** Pair each --ip-range, --gateway and --aux-address with the one --subnet that holds it. */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IpamPool[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new OptionError('every ip-range or gateway must have a corresponding subnet');
  const pools: IpamPool[] = [];
  const nets: Cidr[] = [];
  for (const s of subnets) {
    const c = parseCidr(s);
    for (const [i, other] of nets.entries()) {
      const overlap = c.bits === other.bits && (contains(other, c) || contains(c, other));
      if (overlap) throw new OptionError(`multiple overlapping subnet configuration is not supported: ${pools[i].Subnet}, ${s}`);
    }
    nets.push(c);
    pools.push({ Subnet: s });
  }
  for (const r of ranges) {
    const rc = parseCidr(r);
    const i = nets.findIndex((n) => contains(n, rc) && n.prefix <= rc.prefix);
    if (i < 0) throw new OptionError(`no matching subnet for range ${r}`);
    if (pools[i].IPRange) throw new OptionError(`cannot configure multiple ranges (${r}, ${pools[i].IPRange}) on the same subnet (${pools[i].Subnet})`);
    pools[i].IPRange = r;
  }
  for (const g of gateways) {
    const a = toBig(g);
    if (!a) throw new OptionError(`invalid gateway address: ${g}`);
    const i = nets.findIndex((n) => contains(n, a));
    if (i < 0) throw new OptionError(`no matching subnet for gateway ${g}`);
    if (pools[i].Gateway) throw new OptionError(`cannot configure multiple gateways (${g}, ${pools[i].Gateway}) for the same subnet (${pools[i].Subnet})`);
    pools[i].Gateway = g;
  }
  for (const [name, ip] of Object.entries(aux)) {
    const a = toBig(ip);
    if (!a) throw new OptionError(`invalid auxiliary address: ${ip}`);
    const i = nets.findIndex((n) => contains(n, a));
    if (i < 0) throw new OptionError(`no matching subnet for aux-address ${ip}`);
    (pools[i].AuxiliaryAddresses ??= {})[name] = ip;
  }
  return pools;
}
