// Scalar flag values (sizes, durations, integers, key=value lists) with docker's error texts.
import { FlagError } from './errors';

const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const SIZE_UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A memory size in binary units ("64m", "1g", "512k", "100"). */
export function parseSize(value: string, flag: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw new FlagError(flag, value, `invalid size: '${value}'`);
  const n = parseFloat(m[1]) * SIZE_UNIT[(m[2] ?? '').toLowerCase()];
  if (!Number.isFinite(n)) throw new FlagError(flag, value, `invalid size: '${value}'`);
  return Math.floor(n);
}

/** --memory-swap: a size, or -1 for unlimited. */
export function parseSwap(value: string, flag: string): number {
  if (value.trim() === '-1') return -1;
  return parseSize(value, flag);
}

export function parseInteger(value: string, flag: string, opts: { min?: number; unsigned?: boolean } = {}): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new FlagError(flag, value, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new FlagError(flag, value, `strconv.ParseInt: parsing "${value}": value out of range`);
  if (opts.min !== undefined && n < opts.min) throw new FlagError(flag, value, `value must be at least ${opts.min}`);
  return n;
}

const DURATION_UNIT: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("1m30s", "500ms", "-5s") in nanoseconds. */
export function parseGoDuration(value: string, flag: string): number {
  const s = value.trim();
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new FlagError(flag, value, `time: invalid duration "${value}"`);
  let total = 0;
  while (rest.length) {
    const num = /^(\d*\.?\d*)/.exec(rest)![1];
    if (num === '' || num === '.') throw new FlagError(flag, value, `time: invalid duration "${value}"`);
    rest = rest.slice(num.length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (!unit) throw new FlagError(flag, value, `time: missing unit in duration "${value}"`);
    if (!(unit in DURATION_UNIT)) throw new FlagError(flag, value, `time: unknown unit "${unit}" in duration "${value}"`);
    total += parseFloat(num) * DURATION_UNIT[unit];
    rest = rest.slice(unit.length);
  }
  return sign * Math.round(total);
}

/** --cpus: a decimal number of CPUs, in NanoCPUs. */
export function parseCpus(value: string, flag: string): number {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value.trim())) throw new FlagError(flag, value, `failed to parse ${value} as a rational number`);
  const n = Number(value);
  return Math.round(n * 1e9);
}

/** key=value pairs into a map; a bare key maps to "" (labels) or is rejected. */
export function parseKeyValues(values: string[], flag: string, opts: { bareKey?: 'empty' | 'error' } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) {
      if (opts.bareKey === 'error') throw new FlagError(flag, v, `invalid key-value pair: '${v}'`);
      out[v] = '';
      continue;
    }
    const k = v.slice(0, i);
    if (!k) throw new FlagError(flag, v, `invalid key-value pair: '${v}'`);
    out[k] = v.slice(i + 1);
  }
  return out;
}
