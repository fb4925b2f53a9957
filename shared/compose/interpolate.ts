// ${VAR} substitution in every string value of a stack file, as the docker CLI does it:
// $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, and $$ for a
// literal dollar. Keys are never substituted. A substituted value in a field that holds a
// number or a boolean is cast back, since YAML typed it as a string.
import type { Issues } from './errors';
import type { PNode, PScalar } from './node';

export type Lookup = (name: string) => string | undefined;

export interface SubstituteResult {
  value: string;
  /** Variables that were used but not set (substituted by ""). */
  unset: string[];
}

const NAME_RE = /[_A-Za-z][_A-Za-z0-9]*/y;

/** Substitute one string; throws an Error with a one-line message on a bad template. */
export function substitute(template: string, lookup: Lookup): SubstituteResult {
  let out = '';
  const unset: string[] = [];
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = template.indexOf('}', dollar + 2);
      if (close < 0) throw new Error(`invalid interpolation format in "${template}": missing closing brace`);
      out += braced(template.slice(dollar + 2, close), template, lookup, unset);
      i = close + 1;
      continue;
    }
    NAME_RE.lastIndex = dollar + 1;
    const m = NAME_RE.exec(template);
    if (!m) throw new Error(`invalid interpolation format in "${template}": a lone '$' (write '$$' for a literal dollar)`);
    out += value(m[0], lookup, unset);
    i = dollar + 1 + m[0].length;
  }
  return { value: out, unset };
}

function value(name: string, lookup: Lookup, unset: string[]): string {
  const v = lookup(name);
  if (v === undefined) {
    if (!unset.includes(name)) unset.push(name);
    return '';
  }
  return v;
}

function braced(body: string, template: string, lookup: Lookup, unset: string[]): string {
  const m = /^([_A-Za-z][_A-Za-z0-9]*)(?:(:?)([-?])(.*))?$/s.exec(body);
  if (!m) throw new Error(`invalid interpolation format in "${template}": '\${${body}}' is not a variable name`);
  const [, name, colon, op, arg] = m;
  if (!op) return value(name, lookup, unset);
  const v = lookup(name);
  const missing = v === undefined || (colon === ':' && v === '');
  if (op === '-') return missing ? arg : v!;
  if (missing) {
    const what = colon === ':' ? 'is missing a value' : 'is not set';
    throw new Error(`required variable ${name} ${what}${arg ? `: ${arg}` : ''}`);
  }
  return v!;
}

type Cast = 'int' | 'float' | 'bool';

// Fields whose substituted value is cast, by path; '*' is any key, '[]' any list index.
const CASTS: Array<[string, Cast]> = [
  ['services.*.deploy.replicas', 'int'],
  ['services.*.deploy.update_config.parallelism', 'int'],
  ['services.*.deploy.update_config.max_failure_ratio', 'float'],
  ['services.*.deploy.rollback_config.parallelism', 'int'],
  ['services.*.deploy.rollback_config.max_failure_ratio', 'float'],
  ['services.*.deploy.restart_policy.max_attempts', 'int'],
  ['services.*.deploy.placement.max_replicas_per_node', 'int'],
  ['services.*.deploy.resources.limits.pids', 'int'],
  ['services.*.healthcheck.retries', 'int'],
  ['services.*.healthcheck.disable', 'bool'],
  ['services.*.ports.[].target', 'int'],
  ['services.*.ports.[].published', 'int'],
  ['services.*.secrets.[].mode', 'int'],
  ['services.*.configs.[].mode', 'int'],
  ['services.*.volumes.[].read_only', 'bool'],
  ['services.*.volumes.[].volume.nocopy', 'bool'],
  ['services.*.volumes.[].tmpfs.size', 'int'],
  ['services.*.ulimits.*', 'int'],
  ['services.*.ulimits.*.soft', 'int'],
  ['services.*.ulimits.*.hard', 'int'],
  ['services.*.oom_score_adj', 'int'],
  ['services.*.init', 'bool'],
  ['services.*.privileged', 'bool'],
  ['services.*.read_only', 'bool'],
  ['services.*.stdin_open', 'bool'],
  ['services.*.tty', 'bool'],
  ['networks.*.external', 'bool'],
  ['networks.*.internal', 'bool'],
  ['networks.*.attachable', 'bool'],
  ['volumes.*.external', 'bool'],
  ['secrets.*.external', 'bool'],
  ['configs.*.external', 'bool'],
];
const CAST_PATTERNS = CASTS.map(([p, c]) => [p.split('.'), c] as const);

function castFor(path: string[]): Cast | undefined {
  for (const [pat, cast] of CAST_PATTERNS) {
    if (pat.length === path.length && pat.every((seg, i) => seg === '*' ? path[i] !== '[]' : seg === path[i])) return cast;
  }
  return undefined;
}

function cast(s: PScalar, kind: Cast, issues: Issues, path: string[]): void {
  const raw = String(s.value).trim();
  const field = path.join('.').replace(/\.\[\]/g, '[]');
  if (kind === 'bool') {
    const b = { y: true, yes: true, true: true, on: true, n: false, no: false, false: false, off: false }[raw.toLowerCase()];
    if (b === undefined) issues.add(s.pos, `${field}: '${raw}' is not a boolean`);
    else s.value = b;
    return;
  }
  const re = kind === 'int' ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  if (!re.test(raw)) issues.add(s.pos, `${field}: '${raw}' is not ${kind === 'int' ? 'an integer' : 'a number'}`);
  else s.value = Number(raw);
}

/**
 * Substitute variables in every string scalar of the tree, in place. Errors name the
 * variable; `warn` hears about variables that are not set.
 */
export function interpolateTree(root: PNode, lookup: Lookup, issues: Issues, warn: (msg: string, pos: PNode['pos']) => void): void {
  const walk = (node: PNode, path: string[]): void => {
    if (node.kind === 'map') {
      for (const [k, e] of node.entries) walk(e.value, [...path, k]);
      return;
    }
    if (node.kind === 'seq') {
      for (const it of node.items) walk(it, [...path, '[]']);
      return;
    }
    if (typeof node.value !== 'string' || !node.value.includes('$')) return;
    try {
      const r = substitute(node.value, lookup);
      node.value = r.value;
      node.interpolated = true;
      for (const name of r.unset) warn(`variable ${name} is not set; substituting an empty string`, node.pos);
    } catch (err) {
      issues.add(node.pos, (err as Error).message);
      return;
    }
    const c = castFor(path);
    if (c) cast(node, c, issues, path);
  };
  walk(root, []);
}
