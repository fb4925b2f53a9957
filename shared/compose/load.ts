// loadStack: stack files on disk -> a StackPlan, or a StackError listing every problem.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { convertStack, objectFilePath } from './convert';
import { checkVersion, decodeStack } from './decode';
import { parseDotEnv, parseEnvFile } from './dotenv';
import { Issues, type Pos } from './errors';
import { interpolateTree, type Lookup } from './interpolate';
import { mergeFiles } from './merge';
import { parseYamlTree, toPlain, type PMap } from './node';
import { Reader } from './reader';
import type { StackPlan } from './types';
import type { StackWarning } from './warnings';

export interface LoadStackOptions {
  /** Stack files in -c order; later files override earlier ones. */
  files: string[];
  /** The stack name (namespace): objects are named `<name>_<key>`. */
  name: string;
  /** Variables for ${...}; defaults to process.env. They win over the .env file. */
  env?: Record<string, string | undefined>;
  /** Directory relative file paths are taken from; defaults to process.cwd(). */
  cwd?: string;
}

export interface ParsedStackFile {
  path: string;
  tree: PMap;
}

interface Parsed {
  files: ParsedStackFile[];
  workingDir: string;
  lookup: Lookup;
  issues: Issues;
  warnings: StackWarning[];
}

const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

async function readText(path: string, pos: Pos | undefined, issues: Issues, what: string, written = path): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    issues.add(pos ?? { file: path, line: 1, column: 1 }, `cannot read ${what} '${written}': ${why}`);
    return undefined;
  }
}

/** Read, parse and interpolate each file (no merging): what the reference schema checks. */
export async function parseStackFiles(opts: Omit<LoadStackOptions, 'name'>): Promise<Parsed> {
  const issues = new Issues();
  const warnings: StackWarning[] = [];
  const cwd = opts.cwd ?? process.cwd();
  if (opts.files.length === 0) issues.add({ file: '<command line>', line: 1, column: 1 }, 'no stack file given (use -c FILE)');
  const paths = opts.files.map((f) => resolve(cwd, f));
  const workingDir = paths.length ? dirname(paths[0]) : cwd;
  const env = opts.env ?? process.env;
  // docker compose reads .env beside the (first) file; the environment wins over it.
  const dotEnvPath = join(workingDir, '.env');
  let dotEnv: Record<string, string> = {};
  const dotEnvText = await readFile(dotEnvPath, 'utf8').catch(() => undefined);
  if (dotEnvText !== undefined) dotEnv = parseDotEnv(dotEnvText, dotEnvPath, issues);
  const lookup: Lookup = (n) => env[n] ?? dotEnv[n];
  const files: ParsedStackFile[] = [];
  for (const path of paths) {
    const buf = await readText(path, undefined, issues, 'stack file');
    if (!buf) continue;
    const tree = parseYamlTree(buf.toString('utf8'), path, issues);
    if (!tree) continue;
    interpolateTree(tree, lookup, issues, (message, pos) => warnings.push({ kind: 'variable', message, pos }));
    checkVersion(new Reader(issues), tree);
    files.push({ path, tree });
  }
  return { files, workingDir, lookup, issues, warnings };
}

/** The interpolated file as plain data (the reference JSON schema validates this). */
export function stackFileData(f: ParsedStackFile): unknown {
  return toPlain(f.tree);
}

/**
 * Load a stack: read the files, substitute variables, merge, validate and convert. Throws a
 * StackError (code INVALID_ARGUMENT) carrying every error with file:line:column; an invalid
 * stack yields no objects at all.
 */
export async function loadStack(opts: LoadStackOptions): Promise<StackPlan> {
  const parsed = await parseStackFiles(opts);
  const { issues, warnings } = parsed;
  if (!STACK_NAME.test(opts.name)) issues.add({ file: '<stack name>', line: 1, column: 1 }, `invalid stack name '${opts.name}': letters, digits, '_', '.' and '-', starting with a letter or digit`);
  // A file that is not YAML cannot be merged; other errors so far (substitution, version)
  // do not stop validation, so that one run reports everything.
  if (parsed.files.length < opts.files.length || parsed.files.length === 0) issues.throwIfAny();
  const merged = parsed.files.slice(1).reduce((acc, f) => mergeFiles(acc, f.tree), parsed.files[0].tree);
  const model = decodeStack(merged, issues, (w) => warnings.push(w));
  issues.throwIfAny();

  // Only a valid file gets its env files and secret/config files read.
  const envFiles = new Map<string, Record<string, string | null>>();
  for (const s of model.services.values()) {
    for (const f of s.envFiles) {
      if (envFiles.has(f.path)) continue;
      const path = isAbsolute(f.path) ? f.path : join(parsed.workingDir, f.path);
      const buf = await readText(path, f.pos, issues, 'env_file', f.path);
      envFiles.set(f.path, buf ? parseEnvFile(buf.toString('utf8'), path, issues) : {});
    }
  }
  const fileData = new Map<string, Buffer>();
  for (const o of [...model.secrets.values(), ...model.configs.values()]) {
    const path = objectFilePath(o, parsed.workingDir);
    if (!path || o.external || fileData.has(o.file!.path)) continue;
    const buf = await readText(path, o.file!.pos, issues, `${o.kind} file`, o.file!.path);
    if (buf) fileData.set(o.file!.path, buf);
  }
  issues.throwIfAny();
  return convertStack(model, { namespace: opts.name, workingDir: parsed.workingDir, lookup: parsed.lookup, envFiles, fileData, warnings });
}
