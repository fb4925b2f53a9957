// Placement constraints (`node.labels.zone==east`) and spread descriptors (`node.labels.zone`):
// parsing with errors that name the offending expression, and matching against a node.
import { BlockList, isIP } from 'node:net';
import { invalid } from '../../shared/errors';
import type { Labels, NodeView, PlacementView } from './types';

export type ConstraintOp = '==' | '!=';

const NODE_LABELS = 'node.labels.';
const ENGINE_LABELS = 'engine.labels.';
const KEYS = 'node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.ip, node.labels.<name> or engine.labels.<name>';
// Characters of present and future operators; a value holding one is almost surely a typo.
const OPERATOR_CHARS = /[=!<>~]/;

type Getter = (node: NodeView) => string | undefined;

const FIXED: Record<string, Getter> = {
  'node.id': (n) => n.ID,
  'node.hostname': (n) => n.Description?.Hostname,
  'node.role': (n) => n.Spec?.Role ?? 'worker',
  'node.platform.os': (n) => n.Description?.Platform?.OS,
  'node.platform.arch': (n) => n.Description?.Platform?.Architecture,
};

/** `prefix<name>` with a case-insensitive prefix gives `<name>` (case kept: label names are case-sensitive). */
function labelName(key: string, prefix: string): string | undefined {
  return key.length > prefix.length && key.slice(0, prefix.length).toLowerCase() === prefix ? key.slice(prefix.length) : undefined;
}

/** The label a spread descriptor or constraint key reads, or undefined when it is not a label key. */
export function labelGetter(key: string): Getter | undefined {
  const nodeLabel = labelName(key, NODE_LABELS);
  if (nodeLabel !== undefined) return (n) => own(n.Spec?.Labels, nodeLabel);
  const engineLabel = labelName(key, ENGINE_LABELS);
  if (engineLabel !== undefined) return (n) => own(n.Description?.Engine?.Labels, engineLabel);
  return undefined;
}

function own(labels: Labels | undefined, name: string): string | undefined {
  return labels && Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined;
}

/** One parsed constraint. Values compare case-insensitively; a missing attribute equals nothing. */
export class Constraint {
  private constructor(
    readonly expr: string,
    readonly key: string,
    readonly op: ConstraintOp,
    readonly value: string,
    private readonly matchValue: (node: NodeView) => boolean,
  ) {}

  matches(node: NodeView): boolean {
    return this.matchValue(node) === (this.op === '==');
  }

  /** Parses `key==value` or `key!=value`; throws INVALID_ARGUMENT naming the expression. */
  static parse(expr: string): Constraint {
    const bad = (why: string) => invalid(`invalid constraint ${JSON.stringify(expr)}: ${why}`);
    const eq = expr.indexOf('==');
    const ne = expr.indexOf('!=');
    if (eq < 0 && ne < 0) throw bad('expected a key, an operator (== or !=) and a value');
    const at = eq < 0 ? ne : ne < 0 ? eq : Math.min(eq, ne);
    const op: ConstraintOp = at === ne ? '!=' : '==';
    const key = expr.slice(0, at).trim();
    const value = expr.slice(at + 2).trim();
    if (!key) throw bad('missing key');
    if (!value) throw bad('missing value');
    if (/\s/.test(key) || OPERATOR_CHARS.test(key)) throw bad(`invalid key ${JSON.stringify(key)}`);
    if (OPERATOR_CHARS.test(value)) throw bad(`value ${JSON.stringify(value)} has an operator character in it`);

    const lower = key.toLowerCase();
    let matchValue: (node: NodeView) => boolean;
    if (lower === 'node.ip') {
      matchValue = ipMatcher(value, bad);
    } else {
      const get = FIXED[lower] ?? labelGetter(key);
      if (!get) throw bad(`unknown key ${JSON.stringify(key)}, expected ${KEYS}`);
      const want = value.toLowerCase();
      matchValue = (n) => get(n)?.toLowerCase() === want;
    }
    return new Constraint(expr, key, op, value, matchValue);
  }
}

/** node.ip takes an address or a CIDR; a node without a parseable address matches neither. */
function ipMatcher(value: string, bad: (why: string) => Error): (node: NodeView) => boolean {
  const list = new BlockList();
  const [addr, prefix, extra] = value.split('/');
  const family = isIP(addr);
  const bits = Number(prefix);
  const maxBits = family === 6 ? 128 : 32;
  if (!family || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && bits <= maxBits))) {
    throw bad(`${JSON.stringify(value)} is not an IP address or CIDR`);
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(addr, type);
  else list.addSubnet(addr, bits, type);
  return (n) => {
    const a = n.Status?.Addr;
    const f = a ? isIP(a) : 0;
    return f !== 0 && list.check(a!, f === 6 ? 'ipv6' : 'ipv4');
  };
}

/** Parses every constraint of a placement; the first malformed one throws. */
export function parseConstraints(exprs: readonly string[] | undefined): Constraint[] {
  return (exprs ?? []).map((e) => Constraint.parse(e));
}

// Tasks of one service share their Constraints array, so parsing once per array is enough.
const parsed = new WeakMap<readonly string[], Constraint[]>();

/** parseConstraints, remembered per array object (the scheduler checks one array against many nodes). */
export function cachedConstraints(exprs: readonly string[]): Constraint[] {
  let cs = parsed.get(exprs);
  if (!cs) parsed.set(exprs, (cs = parseConstraints(exprs)));
  return cs;
}

/** Every constraint holds on the node (AND). */
export function nodeMatches(constraints: readonly Constraint[], node: NodeView): boolean {
  for (const c of constraints) if (!c.matches(node)) return false;
  return true;
}

/**
 * Checks a service's placement the way the API should before storing it: constraints parse and
 * every spread preference names a node or engine label. The scheduler itself skips a spread it
 * cannot read rather than failing the task.
 */
export function validatePlacement(placement: PlacementView | undefined): void {
  parseConstraints(placement?.Constraints);
  for (const p of placement?.Preferences ?? []) {
    const d = p.Spread?.SpreadDescriptor;
    if (d === undefined || !labelGetter(d)) {
      throw invalid(`invalid placement preference ${JSON.stringify(d ?? '')}: spread takes node.labels.<name> or engine.labels.<name>`);
    }
  }
  const max = placement?.MaxReplicas;
  if (max !== undefined && !(Number.isInteger(max) && max >= 0)) throw invalid(`invalid MaxReplicas ${max}: expected a whole number, 0 for no limit`);
}
