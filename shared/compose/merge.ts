// Merging several stack files (-c a.yml -c b.yml) in order, with the docker CLI's rules:
// services are merged key by key (mappings recursively, scalars replaced, most lists
// appended); ports, volumes, secrets and configs are merged by their key; environment and
// labels merge as maps in either form; top-level networks, volumes, secrets and configs are
// replaced whole, name by name.
import { clone, isPMap, isPScalar, isPSeq, type PEntry, type PMap, type PNode, type PSeq } from './node';
import { parsePortSpec } from './ports';
import { parseVolumeSpec } from './mounts';

const REPLACED = new Set(['command', 'entrypoint']);
const MAPPING_LISTS = new Set(['environment', 'labels', 'sysctls']);
const KEYED: Record<string, (n: PNode) => string> = {
  ports: portKey,
  volumes: volumeKey,
  secrets: sourceKey,
  configs: sourceKey,
};

/** Merge the override file's tree into a copy of the base tree. */
export function mergeFiles(base: PMap, override: PMap): PMap {
  const out = clone(base);
  for (const [key, e] of override.entries) {
    const prev = out.entries.get(key);
    if (key === 'services' && prev && isPMap(prev.value) && isPMap(e.value)) {
      for (const [name, svc] of e.value.entries) {
        const old = prev.value.entries.get(name);
        prev.value.entries.set(name, old && isPMap(old.value) && isPMap(svc.value) ? { ...old, value: mergeService(old.value, svc.value) } : cloneEntry(svc));
      }
    } else if (['networks', 'volumes', 'secrets', 'configs'].includes(key) && prev && isPMap(prev.value) && isPMap(e.value)) {
      for (const [name, obj] of e.value.entries) prev.value.entries.set(name, cloneEntry(obj));
    } else {
      out.entries.set(key, cloneEntry(e));
    }
  }
  return out;
}

function cloneEntry(e: PEntry): PEntry {
  return { ...e, value: clone(e.value) };
}

function mergeService(base: PMap, over: PMap): PMap {
  const merged = mergeMap(base, over, []);
  // Docker sorts a merged service's mounts by target.
  const vols = merged.entries.get('volumes');
  if (vols && isPSeq(vols.value)) vols.value.items.sort((a, b) => cmp(volumeKey(a), volumeKey(b)));
  return merged;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mergeMap(base: PMap, over: PMap, path: string[]): PMap {
  const out = clone(base);
  for (const [key, e] of over.entries) {
    const prev = out.entries.get(key);
    out.entries.set(key, prev ? { ...e, value: mergeValue(prev.value, e.value, [...path, key]) } : cloneEntry(e));
  }
  return out;
}

function mergeValue(base: PNode, over: PNode, path: string[]): PNode {
  const key = path[path.length - 1];
  const top = path.length === 1;
  if (top && REPLACED.has(key)) return clone(over);
  // A network's aliases are replaced, not appended.
  if (path.length === 3 && path[0] === 'networks' && key === 'aliases') return clone(over);
  if ((top && MAPPING_LISTS.has(key)) || path.join('.') === 'deploy.labels') {
    const a = asMapping(base);
    const b = asMapping(over);
    if (a && b) return mergeMap(a, b, path);
    return clone(over);
  }
  if (top && key === 'networks') {
    const a = asNetworkMap(base);
    const b = asNetworkMap(over);
    if (a && b) {
      const out = clone(a);
      for (const [name, e] of b.entries) {
        const prev = out.entries.get(name);
        out.entries.set(name, prev && isPMap(prev.value) && isPMap(e.value) ? { ...e, value: mergeMap(prev.value, e.value, ['networks', name]) } : cloneEntry(e));
      }
      return out;
    }
    return clone(over);
  }
  if (top && KEYED[key] && isPSeq(base) && isPSeq(over)) return mergeKeyed(base, over, KEYED[key]);
  if (isPMap(base) && isPMap(over)) return mergeMap(base, over, path);
  if (isPSeq(base) && isPSeq(over)) {
    // Other lists (constraints, cap_add, dns, ...) are appended, without repeats.
    const seen = new Set(base.items.map((n) => JSON.stringify(plainKey(n))));
    const out = clone(base);
    for (const it of over.items) if (!seen.has(JSON.stringify(plainKey(it)))) out.items.push(clone(it));
    return out;
  }
  // A string and a list (dns: a.b vs dns: [c.d]) merge as lists too.
  if ((isPScalar(base) && isPSeq(over)) || (isPSeq(base) && isPScalar(over) && typeof over.value === 'string')) {
    const wrap = (n: PNode): PSeq => (isPSeq(n) ? n : { kind: 'seq', pos: n.pos, items: [n] });
    if (isPScalar(base) && typeof base.value !== 'string') return clone(over);
    return mergeValue(wrap(base), wrap(over), path);
  }
  return clone(over);
}

function plainKey(n: PNode): unknown {
  if (isPScalar(n)) return n.value;
  if (isPSeq(n)) return n.items.map(plainKey);
  return Object.fromEntries([...n.entries].map(([k, e]) => [k, plainKey(e.value)]));
}

function mergeKeyed(base: PSeq, over: PSeq, keyOf: (n: PNode) => string): PSeq {
  const out = clone(base);
  for (const it of over.items) {
    const k = keyOf(it);
    const at = out.items.findIndex((b) => keyOf(b) === k);
    if (at >= 0) out.items[at] = clone(it);
    else out.items.push(clone(it));
  }
  return out;
}

/** environment/labels in list form ("K=V") as a mapping; undefined if neither form. */
export function asMapping(n: PNode): PMap | undefined {
  if (isPMap(n)) return n;
  if (!isPSeq(n)) return undefined;
  const m: PMap = { kind: 'map', pos: n.pos, entries: new Map() };
  for (const it of n.items) {
    if (!isPScalar(it) || it.value === null) return undefined;
    const s = String(it.value);
    const eq = s.indexOf('=');
    const key = eq < 0 ? s : s.slice(0, eq);
    // "K" alone (no '=') is a variable without a value: null, taken from the environment.
    m.entries.set(key, { key, keyPos: it.pos, value: { kind: 'scalar', pos: it.pos, value: eq < 0 ? null : s.slice(eq + 1), interpolated: it.interpolated } });
  }
  return m;
}

function asNetworkMap(n: PNode): PMap | undefined {
  if (isPMap(n)) return n;
  if (!isPSeq(n)) return undefined;
  const m: PMap = { kind: 'map', pos: n.pos, entries: new Map() };
  for (const it of n.items) {
    if (!isPScalar(it) || typeof it.value !== 'string') return undefined;
    m.entries.set(it.value, { key: it.value, keyPos: it.pos, value: { kind: 'scalar', pos: it.pos, value: null } });
  }
  return m;
}

function field(n: PNode, key: string): string {
  if (!isPMap(n)) return '';
  const v = n.entries.get(key)?.value;
  return isPScalar(v) && v.value !== null ? String(v.value) : '';
}

function portKey(n: PNode): string {
  if (isPMap(n)) {
    const published = field(n, 'published');
    return published ? `${published}/${field(n, 'protocol') || 'tcp'}` : `target ${field(n, 'target')}/${field(n, 'protocol') || 'tcp'}`;
  }
  if (!isPScalar(n)) return JSON.stringify(plainKey(n));
  try {
    const { ports } = parsePortSpec(n.value as string);
    const p = ports[0];
    return ports.length === 1 && p.PublishedPort ? `${p.PublishedPort}/${p.Protocol}` : ports.length === 1 ? `target ${p.TargetPort}/${p.Protocol}` : String(n.value);
  } catch {
    return String(n.value);
  }
}

function volumeKey(n: PNode): string {
  if (isPMap(n)) return field(n, 'target');
  if (!isPScalar(n) || typeof n.value !== 'string') return JSON.stringify(plainKey(n));
  try {
    return parseVolumeSpec(n.value).target;
  } catch {
    return n.value;
  }
}

function sourceKey(n: PNode): string {
  if (isPMap(n)) return field(n, 'source');
  return isPScalar(n) ? String(n.value) : JSON.stringify(plainKey(n));
}
