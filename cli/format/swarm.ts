// Display helpers the swarm commands share (node, service and task lists, pretty inspect):
// docker's PrettyPrint capitalisation, natural sort order, Go's duration and time strings.
import { goFormatG } from './human';
import { familiarString, parseRef } from '../reference';

/** docker's formatter.PrettyPrint for strings: first letter upper case, the rest lower case. */
export function prettyPrint(s: string | undefined | null): string {
  if (s === undefined || s === null) return 'None';
  if (s.length <= 1) return s.toLowerCase();
  return s[0].toUpperCase() + s.slice(1).toLowerCase();
}

/** Natural order ("node-2" before "node-10"), as docker sorts hostnames and service names. */
export function naturalLess(a: string, b: string): boolean {
  return naturalCompare(a, b) < 0;
}

export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length < y.length ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const UNITS: Array<[string, number]> = [
  ['h', 3600e9],
  ['m', 60e9],
  ['s', 1e9],
];

/** Go's time.Duration.String() for nanoseconds: "0s", "500ms", "1m30s", "2h0m0s", "4ns". */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(Math.round(ns));
  if (n < 1e9) {
    if (n < 1e3) return `${sign}${n}ns`;
    if (n < 1e6) return `${sign}${trimFraction(n / 1e3)}µs`;
    return `${sign}${trimFraction(n / 1e6)}ms`;
  }
  let out = '';
  const h = Math.floor(n / UNITS[0][1]);
  n -= h * UNITS[0][1];
  const m = Math.floor(n / UNITS[1][1]);
  n -= m * UNITS[1][1];
  const s = trimFraction(n / 1e9);
  if (h > 0) out = `${h}h${m}m`;
  else if (m > 0) out = `${m}m`;
  return `${sign}${out}${s}s`;
}

function trimFraction(v: number): string {
  return v.toFixed(9).replace(/\.?0+$/, '');
}

/** Go's %v of a float64 (the shortest form that reads back the same). */
export function goFloat(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: binary units with four significant digits ("10MiB", "1.5GiB"). */
export function bytesSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) {
    size /= 1024;
    i++;
  }
  return `${goFormatG(size, 4)}${BINARY_UNITS[i]}`;
}

/** Go's time.Time.String() of an API timestamp as it was sent (UTC): "2016-08-18 10:44:24.496525531 +0000 UTC". */
export function goTimeUTC(iso: string | undefined): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso ?? '');
  if (!m) return '0001-01-01 00:00:00 +0000 UTC';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${zone}`;
}

/** The IMAGE column: "name:tag" without the pinned digest when the reference has a tag, else as it is. */
export function displayImage(image: string | undefined): string {
  const img = image ?? '';
  try {
    const ref = parseRef(img);
    return ref.tag ? familiarString({ ...ref, digest: undefined }) : img;
  } catch {
    return img;
  }
}
