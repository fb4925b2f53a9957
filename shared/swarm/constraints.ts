// Placement constraints ("node.labels.zone==east"): one parser for the spec validator and
// one matcher for the global orchestrator and the scheduler, so they cannot disagree.
// Keys and values compare case-insensitively as Docker does; label names are case-sensitive.

import { BlockList, isIP } from 'node:net';
import { invalid } from '../errors';
import type { Node } from './types';

export type ConstraintOp = '==' | '!=';

export interface Constraint {
  /** As written, e.g. "node.labels.zone". */
  key: string;
  op: ConstraintOp;
  value: string;
  /** The expression as given. */
  expr: string;
}

const NODE_LABELS = 'node.labels.';
const ENGINE_LABELS = 'engine.labels.';
const FIXED_KEYS = ['node.id', 'node.hostname', 'node.role', 'node.ip', 'node.platform.os', 'node.platform.arch'];
export const CONSTRAINT_KEYS = 'node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>';

// Docker's value alphabet: no '=', '!', quotes or commas, so a typo like "a==b==c" is caught.
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/@]+$/i;

/** Checks a constraint or spread key; returns an error text or undefined. */
export function checkAttributeKey(key: string): string | undefined {
  const k = key.toLowerCase();
  if (FIXED_KEYS.includes(k)) return undefined;
  for (const prefix of [NODE_LABELS, ENGINE_LABELS]) {
    if (k.startsWith(prefix)) return key.length > prefix.length ? undefined : `key '${key}' lacks a label name`;
  }
  return `key '${key}' is not supported (expected one of ${CONSTRAINT_KEYS})`;
}

/** Parses "<key>==<value>" or "<key>!=<value>"; throws INVALID_ARGUMENT explaining what is wrong. */
export function parseConstraint(expr: string): Constraint {
  if (typeof expr !== 'string') throw invalid(`constraint must be a string, got ${JSON.stringify(expr)}`);
  // Docker tries "==" before "!=", splitting at the first occurrence.
  const op: ConstraintOp | undefined = expr.includes('==') ? '==' : expr.includes('!=') ? '!=' : undefined;
  if (!op) throw invalid(`constraint '${expr}' has no operator (expected <key>==<value> or <key>!=<value>)`);
  const at = expr.indexOf(op);
  const key = expr.slice(0, at).trim();
  const value = expr.slice(at + op.length).trim();
  if (!key) throw invalid(`constraint '${expr}' has no key`);
  const bad = checkAttributeKey(key);
  if (bad) throw invalid(`constraint '${expr}': ${bad}`);
  if (!value) throw invalid(`constraint '${expr}' has no value`);
  if (!VALUE.test(value)) throw invalid(`constraint '${expr}': value '${value}' has characters a constraint value cannot have`);
  if (key.toLowerCase() === 'node.ip' && !ipRange(value)) throw invalid(`constraint '${expr}': node.ip needs an IP address or CIDR, got '${value}'`);
  return { key, op, value, expr };
}

export function parseConstraints(exprs: readonly string[] | undefined): Constraint[] {
  return (exprs ?? []).map(parseConstraint);
}

/**
 * The node's value for a constraint or spread key ("" when the node lacks it, which
 * '==' then fails and '!=' passes, as in Docker).
 */
export function nodeAttribute(node: Node, key: string): string {
  const k = key.toLowerCase();
  switch (k) {
    case 'node.id':
      return node.ID;
    case 'node.hostname':
      return node.Description?.Hostname ?? '';
    case 'node.role':
      return node.Spec.Role ?? (node.ManagerStatus ? 'manager' : 'worker');
    case 'node.ip':
      return node.Status?.Addr ?? '';
    case 'node.platform.os':
      return node.Description?.Platform?.OS ?? '';
    case 'node.platform.arch':
      return node.Description?.Platform?.Architecture ?? '';
  }
  if (k.startsWith(NODE_LABELS)) return node.Spec.Labels?.[key.slice(NODE_LABELS.length)] ?? '';
  if (k.startsWith(ENGINE_LABELS)) return node.Description?.Engine?.Labels?.[key.slice(ENGINE_LABELS.length)] ?? '';
  return '';
}

export function matchConstraint(c: Constraint, node: Node): boolean {
  const actual = nodeAttribute(node, c.key);
  const equal = c.key.toLowerCase() === 'node.ip' ? ipMatches(c.value, actual) : actual.toLowerCase() === c.value.toLowerCase();
  return c.op === '==' ? equal : !equal;
}

/** The first constraint the node fails, or undefined when it satisfies all of them. */
export function failedConstraint(constraints: readonly Constraint[], node: Node): Constraint | undefined {
  return constraints.find((c) => !matchConstraint(c, node));
}

export function nodeMatchesConstraints(constraints: readonly Constraint[], node: Node): boolean {
  return failedConstraint(constraints, node) === undefined;
}

// --- node.ip: an address or a CIDR, IPv4 or IPv6 ------------------------------------------

function ipRange(value: string): BlockList | undefined {
  const [addr, prefix, extra] = value.split('/');
  const family = isIP(addr);
  if (!family || extra !== undefined) return undefined;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  if (prefix === undefined) list.addAddress(addr, type);
  else if (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32)) list.addSubnet(addr, Number(prefix), type);
  else return undefined;
  return list;
}

function ipMatches(pattern: string, actual: string): boolean {
  const family = isIP(actual);
  return family !== 0 && (ipRange(pattern)?.check(actual, family === 6 ? 'ipv6' : 'ipv4') ?? false);
}
