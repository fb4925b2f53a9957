// The text the classic builder records in each image's history ("created_by"), which is also
// what the cache keys on. Docker formats some values with Go's %q and %v; so do we.

import type { HealthConfig } from '../contracts';

/** Go's %q for one string (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %q for a []string: ["a" "b"]. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

/** Go's %v for a []string: [a b]. */
export function goList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** Go's time.Duration.String() for nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    const [unit, scale] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFrac(u / scale)}${unit}`;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = `${trimFrac(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFrac(v: number): string {
  return v.toFixed(9).replace(/\.?0+$/, '');
}

/** Go's %q for an int: a quoted rune literal ('\x03'). */
function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f && n !== 0x27 && n !== 0x5c) return `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'\\u${n.toString(16).padStart(4, '0')}'`;
}

/** HEALTHCHECK as Docker records it (%q of the HealthConfig struct). */
export function healthcheckText(h: HealthConfig): string {
  const d = (v?: number) => goQuote(goDuration(v ?? 0));
  return `HEALTHCHECK &{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${goRune(h.Retries ?? 0)}}`;
}

/** A metadata step: "<shell> #(nop)  TEXT" (Docker's two spaces). */
export function nopCreatedBy(shell: readonly string[], text: string): string {
  return `${shell.join(' ')} #(nop)  ${text}`;
}

/** A COPY/ADD/WORKDIR step: "<shell> #(nop) TEXT" (one space). */
export function nopCreatedBy1(shell: readonly string[], text: string): string {
  return `${shell.join(' ')} #(nop) ${text}`;
}

/** A RUN step: the command, prefixed by the build args it saw ("|2 A=1 B=2 /bin/sh -c ..."). */
export function runCreatedBy(cmd: readonly string[], buildArgs: readonly string[]): string {
  const args = [...buildArgs].sort();
  return (args.length ? [`|${args.length}`, ...args, ...cmd] : [...cmd]).join(' ');
}
