// A Go text/template evaluator for the --format flags: actions with pipelines, field chains,
// variables, if/else/with/range, comments, trim markers, Go's builtins and docker's functions
// (json, join, split, title, lower, upper, pad, truncate, println). Values are plain JSON-like
// data; a property holding a function acts as a Go method ({{.Label "k"}}).
// No npm package implements Go templates with pipelines and docker's function set, hence this module.

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// ---------------------------------------------------------------- lexer

type TokKind = 'field' | 'dot' | 'var' | 'ident' | 'string' | 'number' | 'lparen' | 'rparen' | 'pipe' | 'declare' | 'assign' | 'comma' | 'space' | 'end';
interface Tok {
  kind: TokKind;
  text: string;
  value?: string | number;
}

function lexAction(src: string, line: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const err = (m: string) => new TemplateError(`template: :${line}: ${m}`);
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      while (i < src.length && /\s/.test(src[i])) i++;
      toks.push({ kind: 'space', text: ' ' });
      continue;
    }
    if (c === '.') {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (m) {
        toks.push({ kind: 'field', text: m[0], value: m[0].slice(1) });
        i += m[0].length;
      } else if (/[0-9]/.test(src[i + 1] ?? '')) {
        const n = /^\.[0-9]+/.exec(src.slice(i))![0];
        toks.push({ kind: 'number', text: n, value: parseFloat(n) });
        i += n.length;
      } else {
        toks.push({ kind: 'dot', text: '.' });
        i++;
      }
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ kind: 'var', text: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        j++;
      }
      if (j >= src.length) throw err('unterminated quoted string');
      const raw = src.slice(i, j + 1);
      let value: string;
      try {
        value = JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\'/g, "'").replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b')) as string;
      } catch {
        throw err(`invalid syntax in string ${raw}`);
      }
      toks.push({ kind: 'string', text: raw, value });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw err('unterminated raw quoted string');
      toks.push({ kind: 'string', text: src.slice(i, j + 1), value: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.|[^'\\])'/.exec(src.slice(i));
      if (!m) throw err('unterminated character constant');
      const ch = m[1].length === 2 ? (JSON.parse(`"${m[1]}"`) as string) : m[1];
      toks.push({ kind: 'number', text: m[0], value: ch.codePointAt(0)! });
      i += m[0].length;
      continue;
    }
    if (/[0-9+-]/.test(c)) {
      const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?)/.exec(src.slice(i));
      if (m && m[0] !== '' && m[0] !== '+' && m[0] !== '-') {
        const t = m[0].replace(/_/g, '');
        const sign = t.startsWith('-') ? -1 : 1;
        const body = t.replace(/^[+-]/, '');
        let v: number;
        if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
        else if (/^0[bB]/.test(body)) v = parseInt(body.slice(2), 2);
        else if (/^0[oO]/.test(body)) v = parseInt(body.slice(2), 8);
        else if (/^0[0-7]+$/.test(body)) v = parseInt(body, 8);
        else v = parseFloat(body);
        toks.push({ kind: 'number', text: m[0], value: sign * v });
        i += m[0].length;
        continue;
      }
      throw err(`bad number syntax: "${c}"`);
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '(') toks.push({ kind: 'lparen', text: c });
    else if (c === ')') toks.push({ kind: 'rparen', text: c });
    else if (c === '|') toks.push({ kind: 'pipe', text: c });
    else if (c === ',') toks.push({ kind: 'comma', text: c });
    else if (c === ':' && src[i + 1] === '=') {
      toks.push({ kind: 'declare', text: ':=' });
      i += 2;
      continue;
    } else if (c === '=') toks.push({ kind: 'assign', text: '=' });
    else throw err(`unexpected "${c}" in command`);
    i++;
  }
  toks.push({ kind: 'end', text: '' });
  return toks;
}

// ---------------------------------------------------------------- AST

type Arg =
  | { kind: 'dot'; names: string[] }
  | { kind: 'var'; name: string; names: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'lit'; value: unknown }
  | { kind: 'pipe'; pipe: Pipe; names: string[] };

interface Command {
  args: Arg[];
}
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
  text: string;
  line: number;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] };

// ---------------------------------------------------------------- parser

interface RawItem {
  kind: 'text' | 'action';
  text: string;
  line: number;
}

function split(src: string): RawItem[] {
  const items: RawItem[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) items.push({ kind: 'text', text, line });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) items.push({ kind: 'text', text, line });
    line += (src.slice(i, open).match(/\n/g) ?? []).length;
    // find the closing delimiter, skipping quoted strings and comments
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (c === '"' || c === '`') {
        const q = c;
        j++;
        while (j < src.length && src[j] !== q) {
          if (q === '"' && src[j] === '\\') j++;
          j++;
        }
        j++;
        continue;
      }
      if (src.startsWith('/*', j)) {
        const e = src.indexOf('*/', j + 2);
        if (e < 0) throw new TemplateError(`template: :${line}: unclosed comment`);
        j = e + 2;
        continue;
      }
      if (src.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw new TemplateError(`template: :${line}: unclosed action`);
    let body = src.slice(start, close);
    if (/\s-$/.test(body)) {
      body = body.slice(0, -2);
      trimNext = true;
    }
    items.push({ kind: 'action', text: body, line });
    line += (src.slice(open, close).match(/\n/g) ?? []).length;
    i = close + 2;
  }
  return items;
}

class Parser {
  private pos = 0;
  private toks: Tok[] = [];
  private line = 1;

  constructor(private readonly items: RawItem[]) {}

  parse(): Node[] {
    let idx = 0;
    type Ended = { list: Node[]; end: '' | 'end' | 'else'; rest: string; line: number };
    const parseList = (terminators: string[]): Ended => {
      const list: Node[] = [];
      for (;;) {
        const item = this.items[idx++];
        if (!item) {
          if (terminators.length) throw new TemplateError(`template: :${this.line}: unexpected EOF`);
          return { list, end: '', rest: '', line: this.line };
        }
        this.line = item.line;
        if (item.kind === 'text') {
          list.push({ kind: 'text', text: item.text });
          continue;
        }
        const trimmed = item.text.trim();
        if (trimmed.startsWith('/*')) {
          if (!trimmed.endsWith('*/')) throw new TemplateError(`template: :${item.line}: comment ends before closing delimiter`);
          continue;
        }
        const kw = /^(if|else|end|range|with|define|template|block|break|continue)\b/.exec(trimmed)?.[1];
        if (kw === 'end' || kw === 'else') {
          if (!terminators.includes(kw)) throw new TemplateError(`template: :${item.line}: unexpected {{${kw}}}`);
          return { list, end: kw, rest: trimmed.slice(kw.length).trim(), line: item.line };
        }
        if (kw === 'if' || kw === 'with' || kw === 'range') {
          list.push(parseBlock(kw, trimmed.slice(kw.length), item.line));
          continue;
        }
        if (kw) throw new TemplateError(`template: :${item.line}: {{${kw}}} is not supported`);
        list.push({ kind: 'action', pipe: this.parsePipe(item.text, item.line, false) });
      }
    };
    // {{else if x}} / {{else with x}} is a nested block that shares the enclosing {{end}}.
    const parseBlock = (kind: 'if' | 'with' | 'range', src: string, line: number): Node => {
      const pipe = this.parsePipe(src, line, kind === 'range');
      const body = parseList(['else', 'end']);
      const node: Node = { kind, pipe, list: body.list };
      if (body.end === 'else') {
        if (body.rest) {
          const m = /^(if|with)\b/.exec(body.rest);
          if (!m || kind === 'range') throw new TemplateError(`template: :${body.line}: unexpected "${body.rest}" in else`);
          node.elseList = [parseBlock(m[1] as 'if' | 'with', body.rest.slice(m[1].length), body.line)];
        } else {
          const alt = parseList(['end']);
          if (alt.rest) throw new TemplateError(`template: :${alt.line}: unexpected "${alt.rest}" in end`);
          node.elseList = alt.list;
        }
      } else if (body.rest) {
        throw new TemplateError(`template: :${body.line}: unexpected "${body.rest}" in end`);
      }
      return node;
    };
    return parseList([]).list;
  }

  private peek(): Tok {
    return this.toks[this.pos];
  }
  private nextNonSpace(): Tok {
    while (this.toks[this.pos].kind === 'space') this.pos++;
    return this.toks[this.pos++];
  }
  private peekNonSpace(): Tok {
    let p = this.pos;
    while (this.toks[p].kind === 'space') p++;
    return this.toks[p];
  }
  private err(m: string): TemplateError {
    return new TemplateError(`template: :${this.line}: ${m}`);
  }

  parsePipe(src: string, line: number, allowTwoVars: boolean): Pipe {
    this.toks = lexAction(src, line);
    this.pos = 0;
    this.line = line;
    const pipe = this.pipeline(src.trim(), allowTwoVars, 'end');
    if (this.peekNonSpace().kind !== 'end') throw this.err(`unexpected "${this.peekNonSpace().text}" in command`);
    return pipe;
  }

  private pipeline(text: string, allowTwoVars: boolean, endKind: TokKind): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [], text, line: this.line };
    // variable declarations: $x := ..., $i, $v := ...
    const save = this.pos;
    const t = this.peekNonSpace();
    if (t.kind === 'var') {
      this.nextNonSpace();
      const n = this.peekNonSpace();
      if (n.kind === 'declare' || n.kind === 'assign') {
        this.nextNonSpace();
        pipe.decl.push(t.text);
        pipe.assign = n.kind === 'assign';
      } else if (n.kind === 'comma' && allowTwoVars) {
        this.nextNonSpace();
        const v2 = this.nextNonSpace();
        const d = this.nextNonSpace();
        if (v2.kind !== 'var' || (d.kind !== 'declare' && d.kind !== 'assign')) throw this.err('range can only initialize variables');
        pipe.decl.push(t.text, v2.text);
        pipe.assign = d.kind === 'assign';
      } else {
        this.pos = save;
      }
    }
    for (;;) {
      const cmd = this.command(endKind);
      pipe.cmds.push(cmd);
      const n = this.peekNonSpace();
      if (n.kind === 'pipe') {
        this.nextNonSpace();
        continue;
      }
      break;
    }
    if (pipe.cmds.length === 0 || pipe.cmds.some((c) => c.args.length === 0)) throw this.err('missing value for command');
    return pipe;
  }

  private command(endKind: TokKind): Command {
    const args: Arg[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === 'end' || t.kind === 'pipe' || t.kind === endKind || t.kind === 'rparen') break;
      this.nextNonSpace();
      args.push(this.operand(t));
    }
    if (!args.length) throw this.err('missing value for command');
    return { args };
  }

  private fieldChain(): string[] {
    const names: string[] = [];
    while (this.peek().kind === 'field') names.push(this.toks[this.pos++].value as string);
    return names;
  }

  private operand(t: Tok): Arg {
    switch (t.kind) {
      case 'field':
        return { kind: 'dot', names: [t.value as string, ...this.fieldChain()] };
      case 'dot':
        if (this.peek().kind === 'field') throw this.err('unexpected . after term');
        return { kind: 'dot', names: [] };
      case 'var':
        return { kind: 'var', name: t.text, names: this.fieldChain() };
      case 'string':
      case 'number':
        return { kind: 'lit', value: t.value };
      case 'ident':
        if (t.text === 'true' || t.text === 'false') return { kind: 'lit', value: t.text === 'true' };
        if (t.text === 'nil') return { kind: 'lit', value: null };
        if (!(t.text in FUNCS)) throw this.err(`function "${t.text}" not defined`);
        return { kind: 'ident', name: t.text };
      case 'lparen': {
        const pipe = this.pipeline('', false, 'rparen');
        const close = this.nextNonSpace();
        if (close.kind !== 'rparen') throw this.err('unclosed left paren');
        return { kind: 'pipe', pipe, names: this.fieldChain() };
      }
      default:
        throw this.err(`unexpected "${t.text}" in operand`);
    }
  }
}

// ---------------------------------------------------------------- values

/** Go's %v for a JSON-like value. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  return inner(v);
}

function inner(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return '<func>';
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o)
    .sort()
    .map((k) => `${k}:${inner(o[k])}`)
    .join(' ')}]`;
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/**
 * Marks an object Go would marshal with json.Marshal, which escapes <, > and & (docker's
 * formatter contexts for ps, images, ...); other values go through docker's json function
 * without HTML escaping.
 */
export const HTML_ESCAPED_JSON = Symbol.for('shoal.template.htmlEscapedJson');

/** JSON as docker's json template function writes it. */
export function toJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v) ?? 'null';
  if (v && typeof v === 'object' && (v as Record<symbol, unknown>)[HTML_ESCAPED_JSON]) return s.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return s;
}

function asString(v: unknown): string {
  return typeof v === 'string' ? v : goString(v);
}

function toInt(v: unknown, fn: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TemplateError(`error calling ${fn}: expected an integer, got ${goString(v)}`);
  return n;
}

function compareable(a: unknown, b: unknown, fn: string): void {
  const ok = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') || (typeof a === 'boolean' && typeof b === 'boolean' && (fn === 'eq' || fn === 'ne'));
  if (!ok && !((a === null || a === undefined) && (fn === 'eq' || fn === 'ne'))) throw new TemplateError(`error calling ${fn}: incompatible types for comparison`);
}

function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += inner(a);
  });
  return out;
}

/** A small printf: %v %s %d %q %t %x %X %f %e %g %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+))?([vsdqtxXfeEgGcob%])/g, (_m, flags: string, w: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++];
    let s: string;
    const p = prec === undefined ? undefined : Number(prec);
    switch (verb) {
      case 'v':
        s = flags.includes('#') ? toJson(a) : inner(a);
        break;
      case 's':
        s = asString(a);
        if (p !== undefined) s = [...s].slice(0, p).join('');
        break;
      case 'q':
        s = typeof a === 'number' ? `'${String.fromCodePoint(a)}'` : JSON.stringify(asString(a));
        break;
      case 'd':
        s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeof a}=${inner(a)})`;
        if (flags.includes('+') && typeof a === 'number' && a >= 0) s = `+${s}`;
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${inner(a)})`;
        break;
      case 'x':
      case 'X':
        s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(asString(a)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 'o':
        s = typeof a === 'number' ? Math.trunc(a).toString(8) : inner(a);
        break;
      case 'b':
        s = typeof a === 'number' ? Math.trunc(a).toString(2) : inner(a);
        break;
      case 'c':
        s = typeof a === 'number' ? String.fromCodePoint(a) : inner(a);
        break;
      case 'f':
        s = typeof a === 'number' ? a.toFixed(p ?? 6) : `%!f(${inner(a)})`;
        break;
      case 'e':
      case 'E':
        s = typeof a === 'number' ? a.toExponential(p ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${inner(a)})`;
        if (verb === 'E') s = s.toUpperCase();
        break;
      default:
        s = typeof a === 'number' ? (p === undefined ? goNumber(a) : String(Number(a.toPrecision(p)))) : `%!g(${inner(a)})`;
    }
    const width = w === '*' ? 0 : w ? Number(w) : 0;
    const len = [...s].length;
    if (len < width) {
      if (flags.includes('-')) s += ' '.repeat(width - len);
      else if (flags.includes('0') && /[dfxXeEgob]/.test(verb)) s = s.startsWith('-') ? `-${s.slice(1).padStart(width - 1, '0')}` : s.padStart(width, '0');
      else s = s.padStart(width, ' ');
    }
    return s;
  }) + (ai < args.length ? `%!(EXTRA ${args.slice(ai).map(inner).join(', ')})` : '');
}

function indexValue(item: unknown, keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === undefined || v === null) throw new TemplateError('error calling index: index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      const i = toInt(k, 'index');
      const len = Array.isArray(v) ? v.length : Buffer.byteLength(v);
      if (i < 0 || i >= len) throw new TemplateError(`error calling index: index out of range: ${i}`);
      v = Array.isArray(v) ? v[i] : Buffer.from(v)[i];
    } else if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // A missing key gives the zero value: docker's maps are mostly map[string]string.
      v = Object.prototype.hasOwnProperty.call(o, String(k)) ? o[String(k)] : '';
    } else {
      throw new TemplateError(`error calling index: can't index item of type ${typeof v}`);
    }
  }
  return v;
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase());
}

type Fn = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Fn> = {
  // docker's functions
  json: (v) => toJson(v),
  join: (list, sep) => (Array.isArray(list) ? list.map(asString).join(asString(sep)) : asString(list)),
  split: (s, sep) => (asString(sep) === '' ? [...asString(s)] : asString(s).split(asString(sep))),
  title: (s) => title(asString(s)),
  lower: (s) => asString(s).toLowerCase(),
  upper: (s) => asString(s).toUpperCase(),
  pad: (s, before, after) => `${' '.repeat(toInt(before, 'pad'))}${asString(s)}${' '.repeat(toInt(after, 'pad'))}`,
  truncate: (s, n) => {
    const chars = [...asString(s)];
    const k = toInt(n, 'truncate');
    return chars.length > k ? chars.slice(0, k).join('') : chars.join('');
  },
  // Go's builtins
  println: (...a) => `${a.map(inner).join(' ')}\n`,
  print: (...a) => sprint(a),
  printf: (f, ...a) => sprintf(asString(f), a),
  len: (v) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError(`error calling len: len of type ${v === null ? 'nil' : typeof v}`);
  },
  index: (item, ...keys) => indexValue(item, keys),
  slice: (item, ...idx) => {
    if (typeof item !== 'string' && !Array.isArray(item)) throw new TemplateError('error calling slice: cannot slice item');
    const [a, b] = idx.map((x) => toInt(x, 'slice'));
    return item.slice(a ?? 0, b ?? item.length);
  },
  not: (v) => !truth(v),
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
  eq: (a, ...bs) => {
    if (!bs.length) throw new TemplateError('error calling eq: missing argument for comparison');
    return bs.some((b) => {
      compareable(a, b, 'eq');
      return a === b;
    });
  },
  ne: (a, b) => {
    compareable(a, b, 'ne');
    return a !== b;
  },
  lt: (a, b) => (compareable(a, b, 'lt'), (a as number) < (b as number)),
  le: (a, b) => (compareable(a, b, 'le'), (a as number) <= (b as number)),
  gt: (a, b) => (compareable(a, b, 'gt'), (a as number) > (b as number)),
  ge: (a, b) => (compareable(a, b, 'ge'), (a as number) >= (b as number)),
  urlquery: (...a) => encodeURIComponent(sprint(a)),
  html: (...a) => sprint(a).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`.replace('&#38;', '&amp;').replace('&#60;', '&lt;').replace('&#62;', '&gt;').replace('&#34;', '&#34;')),
};

/** Table headers render the template over header names, where docker's functions pass text through. */
const HEADER_FUNCS: Record<string, Fn> = {
  json: (v) => asString(v),
  join: (v) => asString(v),
  split: (v) => asString(v),
  title: (v) => asString(v),
  lower: (v) => asString(v),
  upper: (v) => asString(v),
  pad: (v) => asString(v),
  truncate: (v) => asString(v),
};

// ---------------------------------------------------------------- evaluation

interface Scope {
  vars: Array<[string, unknown]>;
  funcs: Record<string, Fn>;
}

function lookupVar(scope: Scope, name: string): unknown {
  for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i][0] === name) return scope.vars[i][1];
  throw new TemplateError(`template: undefined variable: ${name}`);
}

function fieldOf(receiver: unknown, name: string, args: unknown[], last: boolean): unknown {
  if (receiver === undefined || receiver === null) return undefined;
  if (typeof receiver !== 'object') throw new TemplateError(`can't evaluate field ${name} in type ${typeof receiver}`);
  const v = (receiver as Record<string, unknown>)[name];
  if (typeof v === 'function') return (v as Fn).apply(receiver, last ? args : []);
  if (last && args.length) throw new TemplateError(`${name} has arguments but cannot be invoked as function`);
  return Object.prototype.hasOwnProperty.call(receiver, name) || v !== undefined ? v : undefined;
}

function chain(base: unknown, names: string[], args: unknown[]): unknown {
  let v = base;
  names.forEach((n, i) => (v = fieldOf(v, n, args, i === names.length - 1)));
  return v;
}

function evalArg(scope: Scope, dot: unknown, arg: Arg): unknown {
  switch (arg.kind) {
    case 'dot':
      return chain(dot, arg.names, []);
    case 'var':
      return chain(lookupVar(scope, arg.name), arg.names, []);
    case 'lit':
      return arg.value;
    case 'pipe':
      return chain(evalPipe(scope, dot, arg.pipe), arg.names, []);
    case 'ident': {
      const f = scope.funcs[arg.name] ?? FUNCS[arg.name];
      return f();
    }
  }
}

function evalCommand(scope: Scope, dot: unknown, cmd: Command, final: unknown[]): unknown {
  const [first, ...rest] = cmd.args;
  const argv = () => [...rest.map((a) => evalArg(scope, dot, a)), ...final];
  switch (first.kind) {
    case 'ident': {
      const f = scope.funcs[first.name] ?? FUNCS[first.name];
      if (first.name === 'and' || first.name === 'or') {
        // short-circuit like Go 1.18+
        const want = first.name === 'or';
        let last: unknown;
        for (const a of rest) {
          last = evalArg(scope, dot, a);
          if (truth(last) === want) return last;
        }
        if (final.length) last = final[0];
        return last;
      }
      return f(...argv());
    }
    case 'dot':
      if (first.names.length === 0) break;
      return chain(dot, first.names, argv());
    case 'var':
      if (first.names.length === 0) break;
      return chain(lookupVar(scope, first.name), first.names, argv());
    case 'pipe':
      if (first.names.length === 0) break;
      return chain(evalPipe(scope, dot, first.pipe), first.names, argv());
    default:
      break;
  }
  if (rest.length || final.length) throw new TemplateError(`can't give argument to non-function ${first.kind === 'lit' ? goString(first.value) : '.'}`);
  return evalArg(scope, dot, first);
}

function evalPipe(scope: Scope, dot: unknown, pipe: Pipe): unknown {
  let value: unknown;
  pipe.cmds.forEach((cmd, i) => {
    value = evalCommand(scope, dot, cmd, i === 0 ? [] : [value]);
  });
  if (pipe.decl.length && pipe.decl.length === 1) declare(scope, pipe.decl[0], value, pipe.assign);
  return value;
}

function declare(scope: Scope, name: string, value: unknown, assign: boolean): void {
  if (assign) {
    for (let i = scope.vars.length - 1; i >= 0; i--)
      if (scope.vars[i][0] === name) {
        scope.vars[i][1] = value;
        return;
      }
    throw new TemplateError(`undefined variable: ${name}`);
  }
  scope.vars.push([name, value]);
}

function execList(scope: Scope, dot: unknown, list: Node[], out: string[]): void {
  for (const node of list) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        const v = wrap(node.pipe, () => evalPipe(scope, dot, node.pipe));
        if (!node.pipe.decl.length) out.push(goString(v));
        break;
      }
      case 'if':
      case 'with': {
        const mark = scope.vars.length;
        const v = wrap(node.pipe, () => evalPipe(scope, dot, node.pipe));
        if (truth(v)) execList(scope, node.kind === 'with' ? v : dot, node.list, out);
        else if (node.elseList) execList(scope, dot, node.elseList, out);
        scope.vars.length = mark;
        break;
      }
      case 'range': {
        const mark = scope.vars.length;
        const decl = node.pipe.decl;
        const v = wrap(node.pipe, () => evalPipe(scope, dot, { ...node.pipe, decl: [] }));
        const entries: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? Object.keys(v)
                .sort()
                .map((k) => [k, (v as Record<string, unknown>)[k]])
            : typeof v === 'number' && Number.isInteger(v)
              ? Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i])
              : v === undefined || v === null
                ? []
                : (() => {
                    throw new TemplateError(`range can't iterate over ${goString(v)}`);
                  })();
        if (!entries.length) {
          if (node.elseList) execList(scope, dot, node.elseList, out);
        } else {
          for (const [k, x] of entries) {
            const inner = scope.vars.length;
            if (decl.length === 1) scope.vars.push([decl[0], x]);
            else if (decl.length === 2) scope.vars.push([decl[0], k], [decl[1], x]);
            execList(scope, x, node.list, out);
            scope.vars.length = inner;
          }
        }
        scope.vars.length = mark;
        break;
      }
    }
  }
}

function wrap<T>(pipe: Pipe, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith('template:')) throw e;
    throw new TemplateError(`template: :${pipe.line}: executing "" at <${pipe.text}>: ${msg}`);
  }
}

export interface Template {
  execute(data: unknown): string;
  /** Render with docker's header functions (the header row of a table). */
  executeHeader(data: unknown): string;
}

/** Parse a Go template; throws TemplateError with Go-like messages. */
export function parseTemplate(src: string): Template {
  const nodes = new Parser(split(src)).parse();
  const run = (data: unknown, funcs: Record<string, Fn>) => {
    const out: string[] = [];
    execList({ vars: [['$', data]], funcs }, data, nodes, out);
    return out.join('');
  };
  return {
    execute: (data) => run(data, {}),
    executeHeader: (data) => run(data, HEADER_FUNCS),
  };
}
