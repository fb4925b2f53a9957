// IPv4 address and prefix arithmetic on unsigned 32-bit numbers. Pure.
import { invalid } from '../errors';

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(s: string): boolean {
  const m = OCTETS.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

export function parseIPv4(s: string): number {
  if (!isIPv4(s)) throw invalid(`invalid IPv4 address '${s}'`);
  return s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parse "10.1.2.0/24"; with `loose`, host bits are cleared (for "10.1.2.3/24" style gateway CIDRs). */
export function parseCidr(s: string, loose = false): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || !isIPv4(m[1]) || Number(m[2]) > 32) throw invalid(`invalid IPv4 CIDR '${s}': expected an address with a prefix such as 10.1.0.0/24`);
  const prefix = Number(m[2]);
  const addr = parseIPv4(m[1]);
  const base = (addr & maskOf(prefix)) >>> 0;
  if (!loose && base !== addr) throw invalid(`invalid subnet '${s}': host bits are set, did you mean ${formatIPv4(base)}/${prefix}?`);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function last(c: Cidr): number {
  return c.base + size(c) - 1;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip <= last(c);
}

/** Whether `inner` lies wholly inside `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.base);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= last(b) && b.base <= last(a);
}
