// The `.env` file next to the first stack file: KEY=VALUE lines, as `docker compose` reads it.
import type { Issues } from './errors';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parse .env text; bad lines go to `issues` and are skipped. */
export function parseDotEnv(text: string, file: string, issues: Issues): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!NAME.test(key)) {
      issues.add({ file, line: i + 1, column: raw.indexOf(key[0] ?? '') + 1 || 1 }, `invalid variable name '${key}' in .env file`);
      return;
    }
    // A bare name without '=' sets nothing (docker takes it from the environment instead).
    if (eq < 0) return;
    out[key] = unquote(body.slice(eq + 1).trim());
  });
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v[0] === '"' && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
  }
  if (v.length >= 2 && v[0] === "'" && v.endsWith("'")) return v.slice(1, -1);
  // An unquoted value ends at an inline comment (" #").
  const hash = v.search(/\s#/);
  return hash < 0 ? v : v.slice(0, hash).trimEnd();
}

/**
 * A service's env_file, read as docker reads it: KEY=VALUE taken literally (no quotes), a
 * bare KEY takes its value from the environment (null here), # starts a comment line.
 */
export function parseEnvFile(text: string, file: string, issues: Issues): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (key === '' || /\s/.test(key)) {
      issues.add({ file, line: i + 1, column: raw.length - line.length + 1 }, `variable '${key}' in env file has white space or no name`);
      return;
    }
    out[key] = eq < 0 ? null : line.slice(eq + 1);
  });
  return out;
}
