// -e/--env, --env-file, -l/--label and --label-file as docker reads them.
import { FlagError, OptionError } from './errors';

export type ReadFile = (path: string) => Buffer;
export type LookupEnv = (name: string) => string | undefined;

/** -e KEY=VAL as given; a bare KEY takes the caller's value when it has one. */
export function resolveEnv(values: string[], lookup: LookupEnv, flag = '-e, --env'): string[] {
  return values.map((v) => {
    const i = v.indexOf('=');
    const key = i < 0 ? v : v.slice(0, i);
    if (key === '') throw new FlagError(flag, v, `invalid environment variable: ${v}`);
    if (i >= 0) return v;
    const val = lookup(key);
    return val === undefined ? v : `${key}=${val}`;
  });
}

const WS = ' \t';

/** Lines of an env or label file: comments and blank lines skipped, values passed through untouched. */
export function parseKeyValueFile(path: string, content: Buffer, lookup?: LookupEnv): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new OptionError(`env file ${path} contains invalid utf8 bytes`);
  }
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const out: string[] = [];
  for (let raw of text.split('\n')) {
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const line = raw.replace(/^\s+/u, '');
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    let variable = i < 0 ? line : line.slice(0, i);
    variable = variable.replace(/^[ \t]+/, '');
    if ([...WS].some((c) => variable.includes(c))) {
      throw new OptionError(`poorly formatted environment: variable '${variable}' contains whitespaces`);
    }
    if (!variable) throw new OptionError(`poorly formatted environment: no variable name on line '${line}'`);
    if (i >= 0) {
      out.push(`${variable}=${line.slice(i + 1)}`);
      continue;
    }
    const val = lookup?.(variable);
    out.push(val === undefined ? variable : `${variable}=${val}`);
  }
  return out;
}

function readOrFail(read: ReadFile, path: string): Buffer {
  try {
    return read(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new OptionError(`open ${path}: ${why}`);
  }
}

/** Env files first, then -e values, as docker merges them. */
export function buildEnv(envFiles: string[], env: string[], read: ReadFile, lookup: LookupEnv): string[] {
  const out: string[] = [];
  for (const f of envFiles) out.push(...parseKeyValueFile(f, readOrFail(read, f), lookup));
  out.push(...resolveEnv(env, lookup));
  return out;
}

/** Label files first, then -l values; a bare key is an empty label. */
export function buildLabels(labelFiles: string[], labels: string[], read: ReadFile): Record<string, string> {
  const all: string[] = [];
  for (const f of labelFiles) all.push(...parseKeyValueFile(f, readOrFail(read, f)));
  all.push(...labels);
  const out: Record<string, string> = {};
  for (const l of all) {
    const i = l.indexOf('=');
    if (i === 0) throw new FlagError('-l, --label', l, `invalid label '${l}': empty name`);
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}
