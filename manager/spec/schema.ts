// A small checker for API JSON: each check takes a value and the dotted path that reached it,
// returns the value normalized, or throws INVALID_ARGUMENT naming the path:
//   invalid spec: Mode.Replicated.Replicas: must be a non-negative integer, got -1
// Field names match case-insensitively (Go's JSON decoder does) and come out canonical;
// unknown fields are refused, where Docker would silently drop them.

import { invalid } from '../../shared/errors';

export type Check<T = unknown> = (value: unknown, path: string) => T;

export class SpecChecker {
  /** e.g. "invalid spec" or "invalid node spec". */
  constructor(readonly prefix: string) {}

  fail(path: string, problem: string, value?: unknown): never {
    const got = arguments.length >= 3 ? `, got ${show(value)}` : '';
    throw invalid(`${this.prefix}: ${path ? `${path}: ` : ''}${problem}${got}`);
  }

  /** A plain object whose fields are checked by `fields`; absent and null fields are left out. */
  object<T>(value: unknown, path: string, fields: Record<string, Check>): T {
    if (!isPlainObject(value)) this.fail(path, 'must be a JSON object', value);
    const canonical = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]));
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const [rawKey, v] of Object.entries(value)) {
      const key = canonical.get(rawKey.toLowerCase());
      const at = join(path, key ?? rawKey);
      if (key === undefined) this.fail(at, `unknown field${suggest(rawKey, Object.keys(fields))}`);
      if (seen.has(key)) this.fail(at, `given twice (as ${Object.keys(value).filter((k) => k.toLowerCase() === rawKey.toLowerCase()).join(' and ')})`);
      seen.add(key);
      if (v === undefined || v === null) continue;
      const checked = fields[key](v, at);
      if (checked !== undefined) out[key] = checked;
    }
    return out as T;
  }

  string: Check<string> = (v, path) => (typeof v === 'string' ? v : this.fail(path, 'must be a string', v));

  nonEmptyString: Check<string> = (v, path) => {
    const s = this.string(v, path);
    return s.trim() ? s : this.fail(path, 'must not be empty');
  };

  bool: Check<boolean> = (v, path) => (typeof v === 'boolean' ? v : this.fail(path, 'must be true or false', v));

  /** An integer in [min, max]. */
  int(min: number, max = Infinity): Check<number> {
    const want =
      max !== Infinity ? `an integer from ${min} to ${max}` : min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
    return (v, path) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : this.fail(path, `must be ${want}`, v));
  }

  /** An API duration: integer nanoseconds, not negative. */
  duration: Check<number> = (v, path) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : this.fail(path, 'must be a duration in integer nanoseconds (0 or more)', v);

  /** A size in bytes: a non-negative integer. */
  bytes: Check<number> = (v, path) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : this.fail(path, 'must be a size in bytes (a non-negative integer)', v);

  /** A fraction from 0 to 1. */
  ratio: Check<number> = (v, path) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1 ? v : this.fail(path, 'must be a number from 0 to 1', v);

  oneOf<T extends string>(...allowed: T[]): Check<T> {
    return (v, path) => (typeof v === 'string' && (allowed as string[]).includes(v) ? (v as T) : this.fail(path, `must be one of ${allowed.join(', ')}`, v));
  }

  arrayOf<T>(item: Check<T>): Check<T[]> {
    return (v, path) => {
      if (!Array.isArray(v)) this.fail(path, 'must be an array', v);
      return v.map((x, i) => item(x, `${path}[${i}]`));
    };
  }

  strings: Check<string[]> = (v, path) => this.arrayOf(this.string)(v, path);

  /** An object of string values (labels, options). */
  stringMap: Check<Record<string, string>> = (v, path) => {
    if (!isPlainObject(v)) this.fail(path, 'must be an object of string values', v);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!k) this.fail(path, 'must not have an empty key');
      out[k] = this.string(x, `${path}.${k}`);
    }
    return out;
  };

  /** Any JSON object, kept as given (fields shoal passes through without interpreting). */
  anyObject: Check<Record<string, unknown>> = (v, path) => (isPlainObject(v) ? v : this.fail(path, 'must be a JSON object', v));

  /** An empty object, e.g. Mode.Global. */
  empty: Check<Record<string, never>> = (v, path) => this.object(v, path, {});
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** " (did you mean X?)" for a near miss among the known fields. */
function suggest(key: string, known: string[]): string {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(k, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
