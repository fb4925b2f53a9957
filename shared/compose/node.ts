// A stack file as a tree of positioned nodes. Every later stage (interpolation, merging,
// validation) works on this tree so that each error can still name file:line:column after
// anchors are expanded and several files are merged.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YNode } from 'yaml';
import type { Issues, Pos } from './errors';

export type Scalar = string | number | boolean | null;

export interface PScalar {
  kind: 'scalar';
  pos: Pos;
  value: Scalar;
  /** The value came out of ${...} substitution (so a numeric field may take a string). */
  interpolated?: boolean;
  /** The scalar as written, where YAML 1.2 and docker's parser disagree (0440 is octal to docker). */
  raw?: string;
}

export interface PSeq {
  kind: 'seq';
  pos: Pos;
  items: PNode[];
}

export interface PEntry {
  key: string;
  keyPos: Pos;
  value: PNode;
}

export interface PMap {
  kind: 'map';
  pos: Pos;
  entries: Map<string, PEntry>;
}

export type PNode = PScalar | PSeq | PMap;

export const isPMap = (n: PNode | undefined): n is PMap => n?.kind === 'map';
export const isPSeq = (n: PNode | undefined): n is PSeq => n?.kind === 'seq';
export const isPScalar = (n: PNode | undefined): n is PScalar => n?.kind === 'scalar';

/** The value of a map's key, if present. */
export function child(map: PMap, key: string): PNode | undefined {
  return map.entries.get(key)?.value;
}

/**
 * Parse one YAML document into a positioned tree. Syntax errors go to `issues`; the result
 * is undefined when the text is not a YAML mapping.
 */
export function parseYamlTree(text: string, file: string, issues: Issues): PMap | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, merge: true, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined): Pos => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
    issues.add({ file, line: pos.line, column: pos.col }, yamlMessage(e.message));
  }
  if (doc.errors.length > 0) return undefined;
  const root = convert(doc, doc.contents as YNode | null, at, at(0), issues, new Set());
  if (!isPMap(root)) {
    // An empty file is an empty stack; anything else at the top is a mistake.
    if (isPScalar(root) && root.value === null) return { kind: 'map', pos: root.pos, entries: new Map() };
    issues.add(root.pos, 'the top level of a stack file must be a mapping');
    return undefined;
  }
  return root;
}

/** yaml's messages repeat the position and quote the line; keep the first sentence. */
function yamlMessage(msg: string): string {
  return `YAML: ${msg.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
}

function convert(doc: Document, node: YNode | null, at: (o?: number) => Pos, fallback: Pos, issues: Issues, seen: Set<YNode>): PNode {
  if (node === null || node === undefined) return { kind: 'scalar', pos: fallback, value: null };
  const pos = at(node.range?.[0]);
  if (isAlias(node)) {
    const target = node.resolve(doc) as YNode | undefined;
    if (!target || seen.has(target)) {
      issues.add(pos, `YAML: alias *${node.source} cannot be resolved`);
      return { kind: 'scalar', pos, value: null };
    }
    seen.add(target);
    try {
      return convert(doc, target, at, pos, issues, seen);
    } finally {
      seen.delete(target);
    }
  }
  if (isScalar(node)) {
    const v = node.value;
    const value: Scalar = v === null || v === undefined ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    return typeof node.source === 'string' ? { kind: 'scalar', pos, value, raw: node.source } : { kind: 'scalar', pos, value };
  }
  if (isSeq(node)) {
    return { kind: 'seq', pos, items: node.items.map((it) => convert(doc, it as YNode, at, pos, issues, seen)) };
  }
  if (isMap(node)) {
    const entries = new Map<string, PEntry>();
    const merged: PMap[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key as YNode | null;
      const keyPos = at(k?.range?.[0]);
      if (isScalar(k) && (typeof k.value === 'symbol' || k.source === '<<')) {
        // Merge key: its mapping(s) fill in keys the map does not set itself.
        const v = convert(doc, pair.value as YNode, at, keyPos, issues, seen);
        const sources = isPSeq(v) ? v.items : [v];
        for (const s of sources) {
          if (isPMap(s)) merged.push(s);
          else issues.add(s.pos, 'YAML: a merge key (<<) takes a mapping or a list of mappings');
        }
        continue;
      }
      if (!isScalar(k) || (k.value !== null && typeof k.value === 'object')) {
        issues.add(keyPos, 'YAML: mapping keys must be scalars');
        continue;
      }
      const key = String(k.value);
      entries.set(key, { key, keyPos, value: convert(doc, pair.value as YNode, at, keyPos, issues, seen) });
    }
    // Earlier merge sources win over later ones, and the map's own keys over all of them.
    // Copies, so that interpolation never visits one node twice.
    for (const m of merged) for (const [key, e] of m.entries) if (!entries.has(key)) entries.set(key, { ...e, value: clone(e.value) });
    return { kind: 'map', pos, entries };
  }
  issues.add(pos, 'YAML: unsupported node');
  return { kind: 'scalar', pos, value: null };
}

export function clone<T extends PNode>(node: T): T {
  switch (node.kind) {
    case 'scalar':
      return { ...node };
    case 'seq':
      return { ...node, items: node.items.map(clone) };
    case 'map':
      return { ...node, entries: new Map([...node.entries].map(([k, e]) => [k, { ...e, value: clone(e.value) }])) };
  }
}

/** The plain JS value of a tree (for schema checks and tests). */
export function toPlain(node: PNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) out[k] = toPlain(e.value);
      return out;
    }
  }
}
