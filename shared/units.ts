import { invalid } from './errors';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parse a docker-style size ("64m", "1.5g", "512", "2GB", "100KiB") into bytes. */
export function parseBytes(input: string | number, field = 'size'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw invalid(`invalid ${field}: ${input}`);
    return Math.floor(input);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(input) ?? /^\s*(\d+(?:\.\d+)?)\s*(b)\s*$/i.exec(input);
  if (!m) throw invalid(`invalid ${field}: '${input}' (expected a number with an optional unit b, k, m, g, t)`);
  const value = parseFloat(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
  if (!Number.isFinite(value)) throw invalid(`invalid ${field}: '${input}'`);
  return Math.floor(value);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a Go-style duration ("1m30s", "500ms", "2h") into milliseconds. */
export function parseDurationMs(input: string, field = 'duration'): number {
  const s = input.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += parseFloat(m[1]) * DURATION_UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) throw invalid(`invalid ${field}: '${input}' (expected a duration such as 10s, 1m30s or 500ms)`);
  return total;
}

/** Parse a CPU count ("1.5") into NanoCPUs as the Docker API carries it. */
export function parseNanoCpus(input: string | number, field = 'cpus'): number {
  const v = typeof input === 'number' ? input : Number(input);
  if (typeof input === 'string' && !/^\s*\d+(\.\d+)?\s*$/.test(input)) throw invalid(`invalid ${field}: '${input}' (expected a number such as 0.5)`);
  if (!Number.isFinite(v) || v < 0) throw invalid(`invalid ${field}: '${input}'`);
  return Math.round(v * 1e9);
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}
