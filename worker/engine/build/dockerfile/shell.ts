// Variable substitution in Dockerfile words, with the rules Docker's builder applies:
// $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg}, ${VAR?msg};
// single quotes are literal, double quotes expand, the escape token (\ or `) escapes one char.
// Quotes and escapes are removed from the result, as for ENV/LABEL/COPY/WORKDIR values.

export class ExpansionError extends Error {}

/** An environment for expansion: the first `KEY=value` entry with a key wins. */
export type ExpansionEnv = ReadonlyArray<string> | ReadonlyMap<string, string>;

function lookup(env: ExpansionEnv, name: string): string | undefined {
  if (!Array.isArray(env)) return (env as ReadonlyMap<string, string>).get(name);
  for (const kv of env as ReadonlyArray<string>) {
    const i = kv.indexOf('=');
    const k = i < 0 ? kv : kv.slice(0, i);
    if (k === name) return i < 0 ? '' : kv.slice(i + 1);
  }
  return undefined;
}

class Scanner {
  private pos = 0;
  private readonly chars: string[];
  constructor(text: string) {
    this.chars = Array.from(text);
  }
  peek(): string | undefined {
    return this.chars[this.pos];
  }
  next(): string | undefined {
    return this.chars[this.pos++];
  }
}

const isNameChar = (c: string) => /[\p{L}\p{N}_]/u.test(c);
const isDigit = (c: string) => /\p{Nd}/u.test(c);

class WordProcessor {
  private readonly s: Scanner;
  constructor(
    text: string,
    private readonly env: ExpansionEnv,
    private readonly escape: string,
  ) {
    this.s = new Scanner(text);
  }

  /** Process up to `stop` (consumed) or the end; with a stop char, reaching the end is an error. */
  process(stop?: string): string {
    let out = '';
    for (let ch = this.s.peek(); ch !== undefined; ch = this.s.peek()) {
      if (stop !== undefined && ch === stop) {
        this.s.next();
        return out;
      }
      if (ch === "'") out += this.singleQuote();
      else if (ch === '"') out += this.doubleQuote();
      else if (ch === '$') out += this.dollar();
      else {
        this.s.next();
        if (ch === this.escape) {
          const n = this.s.next();
          if (n === undefined) break; // a lone escape at the end is dropped
          out += n;
        } else out += ch;
      }
    }
    if (stop !== undefined) throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    return out;
  }

  private singleQuote(): string {
    this.s.next();
    let out = '';
    for (;;) {
      const ch = this.s.next();
      if (ch === undefined) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuote(): string {
    this.s.next();
    let out = '';
    for (;;) {
      const ch = this.s.peek();
      if (ch === undefined) throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.s.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.s.next();
      if (ch === this.escape) {
        const n = this.s.peek();
        if (n === undefined) continue;
        // Inside double quotes only ", $ and the escape token itself can be escaped.
        if (n === '"' || n === '$' || n === this.escape) {
          out += this.s.next();
          continue;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    let name = '';
    for (let ch = this.s.peek(); ch !== undefined; ch = this.s.peek()) {
      if (name === '' && isDigit(ch)) {
        // Positional parameters ($1) are one run of digits; they are never set here.
        while (this.s.peek() !== undefined && isDigit(this.s.peek()!)) name += this.s.next();
        return name;
      }
      if (!isNameChar(ch)) break;
      name += this.s.next();
    }
    return name;
  }

  private dollar(): string {
    this.s.next();
    if (this.s.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return lookup(this.env, name) ?? '';
    }
    this.s.next();
    const first = this.s.peek();
    if (first === undefined) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.name();
    const ch = this.s.next();
    const value = lookup(this.env, name);
    const word = () => {
      try {
        return this.process('}');
      } catch (e) {
        if (this.s.peek() === undefined) throw new ExpansionError("syntax error: missing '}'");
        throw e;
      }
    };
    switch (ch) {
      case '}':
        return value ?? '';
      case '-': {
        const w = word();
        return value === undefined ? w : value;
      }
      case '+': {
        const w = word();
        return value === undefined ? '' : w;
      }
      case '?': {
        const w = word();
        if (value === undefined) throw new ExpansionError(`${name}: ${w || 'is not allowed to be unset'}`);
        return value;
      }
      case ':': {
        const mod = this.s.next();
        const w = word();
        switch (mod) {
          case '-':
            return value ? value : w;
          case '+':
            return value ? w : '';
          case '?':
            if (value === undefined) throw new ExpansionError(`${name}: ${w || 'is not allowed to be unset'}`);
            if (value === '') throw new ExpansionError(`${name}: ${w || 'is not allowed to be empty'}`);
            return value;
          default:
            throw new ExpansionError(`unsupported modifier (${mod ?? ''}) in substitution`);
        }
      }
      case undefined:
        throw new ExpansionError("syntax error: missing '}'");
      default:
        throw new ExpansionError(`unsupported modifier (${ch}) in substitution`);
    }
  }
}

/** Expand one word: substitute variables, remove quotes and escapes. */
export function expandWord(word: string, env: ExpansionEnv, escape = '\\'): string {
  return new WordProcessor(word, env, escape).process();
}

/**
 * Split on whitespace into words, keeping quotes and escapes in the words (they are removed
 * later by expandWord). Used for `ENV a=b c="d e"`, LABEL and ARG.
 */
export function splitWords(rest: string, escape = '\\'): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let blankOk = false;
  let quote = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  const isSpace = (c: string) => /\s/u.test(c);
  for (let i = 0; i <= chars.length; i++) {
    const ch = chars[i];
    if (phase === 'spaces') {
      if (ch === undefined) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (ch === undefined) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        word += ch;
        continue;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch + chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    // In quotes.
    if (ch === quote) phase = 'word';
    else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      i++;
      word += chars[i];
      continue;
    }
    word += ch;
  }
  return words;
}
