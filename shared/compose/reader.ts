// Typed reads of tree nodes that record a positioned error instead of throwing, so that one
// pass over a file both validates it and builds the model, and reports every problem.
import { parseBytes, parseDurationMs } from '../units';
import type { Issues, Pos } from './errors';
import { isPMap, isPScalar, isPSeq, type PMap, type PNode } from './node';

export class Reader {
  constructor(readonly issues: Issues) {}

  error(at: PNode | Pos, message: string): undefined {
    this.issues.add('kind' in at ? at.pos : at, message);
    return undefined;
  }

  /** Check a mapping's keys; `x-` keys are allowed where compose allows extensions. */
  map(node: PNode | undefined, path: string, allowed: readonly string[], opts: { extensions?: boolean; nullable?: boolean } = {}): PMap | undefined {
    if (node === undefined) return undefined;
    if (opts.nullable && isPScalar(node) && node.value === null) return { kind: 'map', pos: node.pos, entries: new Map() };
    if (!isPMap(node)) return this.error(node, `${path} must be a mapping`);
    for (const [key, e] of node.entries) {
      if (allowed.includes(key) || (opts.extensions && key.startsWith('x-'))) continue;
      const hint = suggest(key, allowed);
      this.error(e.keyPos, `${path}: unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    return node;
  }

  str(node: PNode | undefined, path: string): string | undefined {
    if (node === undefined) return undefined;
    if (!isPScalar(node) || typeof node.value !== 'string') return this.error(node, `${path} must be a string${typeHint(node)}`);
    return node.value;
  }

  /** A string that may not be empty (names, targets). */
  name(node: PNode | undefined, path: string): string | undefined {
    const s = this.str(node, path);
    if (s === '') return this.error(node!, `${path} must not be empty`);
    return s;
  }

  oneOf<T extends string>(node: PNode | undefined, path: string, values: readonly T[]): T | undefined {
    const s = this.str(node, path);
    if (s === undefined) return undefined;
    if (!values.includes(s as T)) return this.error(node!, `${path}: '${s}' is not one of ${values.join(', ')}`);
    return s as T;
  }

  int(node: PNode | undefined, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (node === undefined) return undefined;
    if (!isPScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) return this.error(node, `${path} must be an integer${typeHint(node)}`);
    if (node.value < min || node.value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'must not be negative' : `must be at least ${min}`) : `must be between ${min} and ${max}`;
      return this.error(node, `${path}: ${node.value} ${range}`);
    }
    return node.value;
  }

  num(node: PNode | undefined, path: string): number | undefined {
    if (node === undefined) return undefined;
    if (!isPScalar(node) || typeof node.value !== 'number') return this.error(node, `${path} must be a number${typeHint(node)}`);
    return node.value;
  }

  /** A file mode: docker reads 0440 as octal, as YAML 1.1 did. */
  mode(node: PNode | undefined, path: string): number | undefined {
    const n = this.num(node, path);
    if (n === undefined) return undefined;
    const raw = isPScalar(node) ? node.raw : undefined;
    const v = raw && /^0[0-7]+$/.test(raw) ? parseInt(raw, 8) : n;
    if (!Number.isInteger(v) || v < 0 || v > 0o7777) return this.error(node!, `${path}: ${raw ?? n} is not a file mode (such as 0440)`);
    return v;
  }

  bool(node: PNode | undefined, path: string): boolean | undefined {
    if (node === undefined) return undefined;
    if (!isPScalar(node) || typeof node.value !== 'boolean') return this.error(node, `${path} must be true or false${typeHint(node)}`);
    return node.value;
  }

  /** A Go-style duration string ("1m30s"), in nanoseconds. */
  duration(node: PNode | undefined, path: string): number | undefined {
    const s = this.str(node, path);
    if (s === undefined) return undefined;
    try {
      return Math.round(parseDurationMs(s) * 1e6);
    } catch {
      return this.error(node!, `${path}: '${s}' is not a duration (such as 10s, 1m30s, 500ms)`);
    }
  }

  /** A size ("512M", "1.5g") in bytes; `ints` also takes a plain number of bytes. */
  bytes(node: PNode | undefined, path: string, ints = false): number | undefined {
    if (node === undefined) return undefined;
    if (ints && isPScalar(node) && typeof node.value === 'number') return this.int(node, path, 0);
    const s = this.str(node, path);
    if (s === undefined) return undefined;
    try {
      return parseBytes(s);
    } catch {
      return this.error(node!, `${path}: '${s}' is not a size (such as 512M, 1G, 100k)`);
    }
  }

  list(node: PNode | undefined, path: string): PNode[] | undefined {
    if (node === undefined) return undefined;
    if (!isPSeq(node)) return this.error(node, `${path} must be a list${typeHint(node)}`);
    return node.items;
  }

  /** A list of strings, without repeats. */
  strings(node: PNode | undefined, path: string): string[] | undefined {
    const items = this.list(node, path);
    if (!items) return undefined;
    const out: string[] = [];
    items.forEach((it, i) => {
      const s = this.str(it, `${path}[${i}]`);
      if (s === undefined) return;
      if (out.includes(s)) this.error(it, `${path}: '${s}' is listed twice`);
      else out.push(s);
    });
    return out;
  }

  /** A string or a list of strings. */
  stringOrList(node: PNode | undefined, path: string): string[] | undefined {
    if (node === undefined) return undefined;
    if (isPScalar(node) && typeof node.value === 'string') return [node.value];
    if (isPSeq(node)) return this.strings(node, path);
    return this.error(node, `${path} must be a string or a list of strings`);
  }

  /** A mapping or a list of "KEY=VALUE" strings; a value is null when only the key is given. */
  listOrDict(node: PNode | undefined, path: string, sep = '='): Record<string, string | null> | undefined {
    if (node === undefined) return undefined;
    const out: Record<string, string | null> = {};
    if (isPMap(node)) {
      for (const [k, e] of node.entries) {
        const v = e.value;
        if (!isPScalar(v) || typeof v.value === 'boolean') {
          this.error(v, `${path}.${k} must be a string, a number or null${isPScalar(v) ? ` (quote it: '${String(v.value)}')` : ''}`);
          continue;
        }
        out[k] = v.value === null ? null : String(v.value);
      }
      return out;
    }
    if (isPSeq(node)) {
      const seen = new Set<string>();
      node.items.forEach((it, i) => {
        const s = this.str(it, `${path}[${i}]`);
        if (s === undefined) return;
        if (seen.has(s)) return this.error(it, `${path}: '${s}' is listed twice`);
        seen.add(s);
        const at = s.indexOf(sep);
        if (at === 0) return this.error(it, `${path}[${i}]: '${s}' has no name`);
        if (at < 0) out[s] = null;
        else out[s.slice(0, at)] = s.slice(at + sep.length);
      });
      return out;
    }
    return this.error(node, `${path} must be a mapping or a list of strings`);
  }

  /** A map of option strings (driver_opts): numbers become strings. */
  options(node: PNode | undefined, path: string): Record<string, string> | undefined {
    if (node === undefined) return undefined;
    if (!isPMap(node)) return this.error(node, `${path} must be a mapping`);
    const out: Record<string, string> = {};
    for (const [k, e] of node.entries) {
      const v = e.value;
      if (!isPScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) this.error(v, `${path}.${k} must be a string or a number`);
      else out[k] = String(v.value);
    }
    return out;
  }
}

function typeHint(node: PNode): string {
  if (isPMap(node)) return ', not a mapping';
  if (isPSeq(node)) return ', not a list';
  if (node.value === null) return ', not empty';
  return `, not ${typeof node.value === 'string' ? `'${node.value}'` : String(node.value)}`;
}

/** The allowed key closest to a misspelt one, if close enough to be a likely typo. */
function suggest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const a of allowed) {
    const d = distance(key, a);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
