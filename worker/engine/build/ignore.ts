// .dockerignore and COPY wildcards, with Docker's semantics: Go filepath.Match syntax (`*` and
// `?` never cross "/", `[...]` classes, `\` escapes), plus `**` for any number of directories,
// `!` exceptions where the last matching pattern wins, and a match on a parent directory
// excluding everything below it.

import { posix } from 'node:path';
import { invalid } from '../../../shared/errors';

/** Go's filepath.Clean for slash paths: "" -> ".", no trailing slash, ".." resolved lexically. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const REGEX_SPECIAL = '.+()|{}$';
const escapeRe = (c: string) => (REGEX_SPECIAL.includes(c) ? `\\${c}` : c);

/** Go filepath.Match as a RegExp (anchored). Throws on a malformed pattern. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (inClass) {
      if (ch === ']') inClass = false;
      if (ch === '\\' && i + 1 < chars.length) re += `\\${chars[++i]}`;
      else re += ch === '[' ? '\\[' : ch;
      continue;
    }
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      inClass = true;
      re += '[';
      if (chars[i + 1] === '^') re += chars[++i];
    } else if (ch === '\\') re += i + 1 < chars.length ? `\\${chars[++i]}` : '\\\\';
    else re += escapeRe(ch === '^' ? '\\^' : ch);
  }
  if (inClass) throw invalid(`syntax error in pattern: ${pattern}`);
  try {
    return new RegExp(`${re}$`, 's');
  } catch {
    throw invalid(`syntax error in pattern: ${pattern}`);
  }
}

export function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === '*' || p[i] === '?' || p[i] === '[') return true;
  }
  return false;
}

interface Pattern {
  exclusion: boolean;
  re: RegExp;
  text: string;
}

/** A .dockerignore pattern (after `!`) as a RegExp: like globToRegExp, with `**` spanning directories. */
export function ignorePatternToRegExp(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // "**/" is "**"
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') re += i + 1 < chars.length ? `\\${chars[++i]}` : '\\\\';
    else if (ch === '[' || ch === ']') re += ch;
    else re += escapeRe(ch);
  }
  try {
    return new RegExp(`${re}$`, 's');
  } catch {
    throw invalid(`syntax error in pattern: ${pattern}`);
  }
}

/** The patterns of a .dockerignore file, cleaned as Docker reads them. */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

/** Decides which context paths a list of .dockerignore patterns excludes. */
export class IgnoreMatcher {
  private readonly patterns: Pattern[] = [];

  constructor(patterns: string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw invalid('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      p = cleanPath(p);
      this.patterns.push({ exclusion, re: ignorePatternToRegExp(p), text: p });
    }
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Is `file` (relative, slash-separated) excluded, by itself or through a parent directory? */
  ignores(file: string): boolean {
    const path = cleanPath(file);
    const parent = posix.dirname(path);
    const parentParts = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      // An inclusion cannot change an already-matched path, nor an exclusion an unmatched one.
      if (p.exclusion !== matched) continue;
      let m = p.re.test(path);
      for (let i = 0; !m && i < parentParts.length; i++) m = p.re.test(parentParts.slice(0, i + 1).join('/'));
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Could an exception re-include something below the excluded directory `dir`? When not,
   * a walker may drop the whole directory without looking inside.
   */
  mayReincludeUnder(dir: string): boolean {
    const d = cleanPath(dir);
    return this.patterns.some((p) => p.exclusion && (p.text.startsWith(`${d}/`) || p.text.includes('*') || p.text.includes('?') || p.text.includes('[')));
  }
}
