// Which files make the project and what it is called, by docker compose's rules: -f flags,
// else COMPOSE_FILE, else compose.yaml (and its override file) in the working directory; the
// name from -p, else COMPOSE_PROJECT_NAME, else the first file's directory.
import { basename, dirname, resolve } from 'node:path';

/** The names docker compose looks for, in its order. */
export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
/** The override file read after each default name, when it exists. */
export const OVERRIDE_FILES: Record<string, string[]> = {
  'compose.yaml': ['compose.override.yaml', 'compose.override.yml'],
  'compose.yml': ['compose.override.yml', 'compose.override.yaml'],
  'docker-compose.yml': ['docker-compose.override.yml', 'docker-compose.override.yaml'],
  'docker-compose.yaml': ['docker-compose.override.yaml', 'docker-compose.override.yml'],
};

const VALID_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** docker compose's NormalizeProjectName: lower-case, keep [a-z0-9_-], no leading '_' or '-'. */
export function normalizeProjectName(s: string): string {
  return (s.toLowerCase().match(/[a-z0-9_-]/g) ?? []).join('').replace(/^[_-]+/, '');
}

export class ProjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectError';
  }
}

export interface FileChoice {
  /** Absolute paths, in merge order. */
  files: string[];
  /** Whether the files were found by their default names (not named by the user). */
  defaulted: boolean;
}

/**
 * The compose files: -f flags (relative to cwd), else COMPOSE_FILE (split on
 * COMPOSE_PATH_SEPARATOR, ':' by default), else the first default name present in cwd plus
 * its override file. `exists` is the file system check (injected for tests).
 */
export function chooseFiles(opts: { flags?: string[]; env: Record<string, string | undefined>; cwd: string; exists: (path: string) => boolean }): FileChoice {
  const { env, cwd } = opts;
  if (opts.flags?.length) return { files: opts.flags.map((f) => resolve(cwd, f)), defaulted: false };
  const fromEnv = env.COMPOSE_FILE;
  if (fromEnv) return { files: fromEnv.split(env.COMPOSE_PATH_SEPARATOR || ':').filter((f) => f).map((f) => resolve(cwd, f)), defaulted: false };
  for (const name of DEFAULT_FILES) {
    const p = resolve(cwd, name);
    if (!opts.exists(p)) continue;
    const override = OVERRIDE_FILES[name].map((o) => resolve(cwd, o)).find((o) => opts.exists(o));
    return { files: override ? [p, override] : [p], defaulted: true };
  }
  return { files: [], defaulted: true };
}

/**
 * The project name: -p (which must already be valid), else COMPOSE_PROJECT_NAME, else the
 * directory of the first file (or cwd), normalized. An empty result is an error, as in compose.
 */
export function projectName(opts: { flag?: string; env: Record<string, string | undefined>; files: string[]; cwd: string }): string {
  if (opts.flag !== undefined) {
    if (!VALID_NAME.test(opts.flag)) throw new ProjectError(`invalid project name "${opts.flag}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
    return opts.flag;
  }
  const fromEnv = opts.env.COMPOSE_PROJECT_NAME;
  if (fromEnv) {
    const n = normalizeProjectName(fromEnv);
    if (n) return n;
  }
  const dir = opts.files.length ? dirname(opts.files[0]) : opts.cwd;
  const n = normalizeProjectName(basename(resolve(dir)));
  if (!n) throw new ProjectError(`project name must not be empty: the directory name '${basename(resolve(dir))}' has no usable characters; use -p`);
  return n;
}
