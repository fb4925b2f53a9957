// Filters of `GET /images/json` and `POST /images/prune`, as docker applies them. Pure.
import { invalid } from '../../../shared/errors';
import { familiarName, familiarString, parseNormalized } from './reference';

/** What a filter needs to know about one image. */
export interface FilterableImage {
  id: string;
  /** Full references ("docker.io/library/busybox:latest", "...@sha256:..."). */
  refs: string[];
  created: number; // ms since epoch
  labels: Record<string, string>;
}

const LIST_KEYS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);
const PRUNE_KEYS = new Set(['dangling', 'label', 'label!', 'until']);

export function checkFilterKeys(filters: Map<string, string[]>, kind: 'list' | 'prune'): void {
  const allowed = kind === 'list' ? LIST_KEYS : PRUNE_KEYS;
  for (const k of filters.keys()) if (!allowed.has(k)) throw invalid(`invalid filter '${k}'`);
}

/** dangling=true|false|1|0; undefined when absent. */
export function danglingFilter(filters: Map<string, string[]>): boolean | undefined {
  const v = filters.get('dangling');
  if (!v || !v.length) return undefined;
  const norm = new Set(v.map((x) => x.toLowerCase()));
  if (norm.size > 1) throw invalid('invalid filter: dangling may be given only once');
  const x = [...norm][0];
  if (x === 'true' || x === '1') return true;
  if (x === 'false' || x === '0') return false;
  throw invalid(`invalid filter 'dangling=${v[0]}'`);
}

/** Docker's path.Match-style glob: '*' and '?' do not cross '/'. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalid(`invalid reference filter pattern '${pattern}': syntax error in pattern`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += cls.startsWith('!') ? `[^${cls.slice(1).replace(/\\/g, '\\\\')}]` : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Does the full reference match the pattern, as docker's FamiliarMatch (name:tag or name)? */
export function referenceMatches(pattern: string, fullRef: string): boolean {
  const re = globToRegExp(pattern);
  const r = parseNormalized(fullRef);
  return re.test(familiarString(r)) || re.test(familiarName(r));
}

export function labelMatches(labels: Record<string, string>, expr: string): boolean {
  const i = expr.indexOf('=');
  if (i < 0) return expr in labels;
  return labels[expr.slice(0, i)] === expr.slice(i + 1);
}

/** Parse an `until`/`since`-style time: unix seconds, RFC 3339 date, or a Go duration before now. */
export function parseFilterTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return parseFloat(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (m && v) return now - ((parseFloat(m[1] ?? '0') * 60 + parseFloat(m[2] ?? '0')) * 60 + parseFloat(m[3] ?? '0')) * 1000;
  throw invalid(`invalid filter 'until=${v}': not a timestamp or duration`);
}

/**
 * For the list filters: the refs of `img` to show (only those matching `reference`
 * patterns when given), and whether the image passes the other filters.
 * `resolveCreated` maps before/since image references to their creation time.
 */
export function listFilter(
  img: FilterableImage,
  filters: Map<string, string[]>,
  resolveCreated: (ref: string) => number,
): { keep: boolean; refs: string[] } {
  let refs = img.refs;
  const patterns = filters.get('reference') ?? [];
  if (patterns.length) {
    refs = refs.filter((r) => patterns.some((p) => referenceMatches(p, r)));
    if (!refs.length) return { keep: false, refs };
  }
  const dangling = danglingFilter(filters);
  const tagged = img.refs.some((r) => !r.includes('@'));
  if (dangling === true && tagged) return { keep: false, refs };
  if (dangling === false && !img.refs.length) return { keep: false, refs };
  for (const l of filters.get('label') ?? []) if (!labelMatches(img.labels, l)) return { keep: false, refs };
  for (const b of filters.get('before') ?? []) if (!(img.created < resolveCreated(b))) return { keep: false, refs };
  for (const s of filters.get('since') ?? []) if (!(img.created > resolveCreated(s))) return { keep: false, refs };
  for (const u of filters.get('until') ?? []) if (!(img.created < parseFilterTime(u))) return { keep: false, refs };
  return { keep: true, refs };
}

/** Prune filters other than dangling: until, label, label!. */
export function pruneFilter(img: FilterableImage, filters: Map<string, string[]>, now = Date.now()): boolean {
  for (const u of filters.get('until') ?? []) if (!(img.created < parseFilterTime(u, now))) return false;
  for (const l of filters.get('label') ?? []) if (!labelMatches(img.labels, l)) return false;
  for (const l of filters.get('label!') ?? []) if (labelMatches(img.labels, l)) return false;
  return true;
}
