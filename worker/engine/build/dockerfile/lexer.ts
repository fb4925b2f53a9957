// Splits a Dockerfile into logical lines (one per instruction), the way Docker's parser does:
// parser directives at the top, comments, line continuations with the escape token, and
// builder flags (--from=...) at the start of the arguments.

import { DockerfileError } from './errors';

export interface RawNode {
  /** Lower-case instruction name ("run"). */
  cmd: string;
  /** Builder flags with quotes removed, e.g. "--from=build". */
  flags: string[];
  /** The arguments after the flags, trimmed. */
  rest: string;
  /** The instruction as written, continuations joined (what "Step n/m :" shows). */
  original: string;
  startLine: number;
  endLine: number;
}

export interface LexedDockerfile {
  nodes: RawNode[];
  escape: string;
  warnings: string[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

const isSpace = (c: string) => /\s/u.test(c);
const trimLeft = (s: string) => s.replace(/^\s+/u, '');
const isComment = (line: string) => trimLeft(line).startsWith('#');

/** Split "CMD --flag=x args" into the command, its flags and the rest. */
export function splitCommand(line: string, lineNo: number, endLine: number): RawNode {
  const trimmed = line.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/u.exec(trimmed);
  const cmd = (m?.[1] ?? '').toLowerCase();
  const { flags, rest } = extractFlags(m?.[2] ?? '');
  return { cmd, flags, rest: rest.trim(), original: trimmed, startLine: lineNo, endLine };
}

/** Leading "--name[=value]" words (quotes and backslashes removed); "--" alone ends them. */
export function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let word = '';
  let blankOk = false;
  let quote = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = line[pos];
    if (phase === 'spaces') {
      if (ch === undefined) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, rest: line.slice(pos) };
      phase = 'word';
    }
    if (ch === undefined) {
      if (word !== '--' && (blankOk || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: line.slice(pos) };
        if (blankOk || word.length > 0) flags.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        word += line[++pos];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      word += line[++pos];
      continue;
    }
    word += ch;
  }
  return { flags, rest: '' };
}

/** Lex a Dockerfile into instruction lines. Errors name the line ("Dockerfile parse error line N: ..."). */
export function lexDockerfile(text: string): LexedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let escape = '\\';
  let escapeSeen = false;
  let directivesDone = false;
  let continuation = /\\[ \t]*$/;
  const nodes: RawNode[] = [];
  const warnings: string[] = [];

  const directive = (line: string, lineNo: number) => {
    if (directivesDone) return;
    const m = DIRECTIVE.exec(line);
    if (!m) {
      directivesDone = true;
      return;
    }
    const name = m[1].toLowerCase();
    if (name === 'escape') {
      if (escapeSeen) throw new DockerfileError(lineNo, 'only one escape parser directive can be used');
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(lineNo, `invalid escape token '${m[2]}' does not match \` or \\`);
      escapeSeen = true;
      escape = m[2];
      continuation = escape === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
    }
    // "syntax" and "check" (BuildKit front-end selection and lint) mean nothing to this builder.
  };
  const trimContinuation = (line: string): [string, boolean] => (continuation.test(line) ? [line.replace(continuation, ''), false] : [line, true]);

  let i = 0;
  while (i < lines.length) {
    const raw = lines[i];
    const lineNo = ++i;
    directive(trimLeft(raw), lineNo);
    const first = isComment(raw) ? '' : trimLeft(raw);
    let [line, ended] = trimContinuation(first);
    if (ended && line === '') continue;
    const startLine = lineNo;
    let emptyContinuation = false;
    while (!ended && i < lines.length) {
      const next = lines[i];
      i++;
      if (isComment(next)) continue;
      if (trimLeft(next) === '') {
        emptyContinuation = true;
        continue;
      }
      const [part, end] = trimContinuation(next);
      line += part;
      ended = end;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    if (line.trim() === '') continue; // only a continuation char on the line
    nodes.push(splitCommand(line, startLine, i));
  }
  return { nodes, escape, warnings };
}
