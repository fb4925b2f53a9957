// Files on disk -> the compose project, through the same loader `stack deploy` uses. A file
// with errors yields no project: every error comes back (file:line:col) and nothing is touched.
import { dirname } from 'node:path';
import { loadStack, parseStackFiles } from '../../shared/compose';
import { readExtras } from './extras';
import { composeProject, type ComposeProject } from './model';

export interface LoadOptions {
  name: string;
  files: string[];
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Throws StackError (the loader's) or OneNodeError, each listing every problem found. */
export async function loadProject(opts: LoadOptions): Promise<ComposeProject> {
  const plan = await loadStack({ files: opts.files, name: opts.name, env: opts.env, cwd: opts.cwd });
  // Valid files parse again without issues; the trees carry what the plan leaves out.
  const parsed = await parseStackFiles({ files: opts.files, env: opts.env, cwd: opts.cwd });
  const workingDir = opts.files.length ? dirname(opts.files[0]) : opts.cwd;
  return composeProject(opts.name, { plan, extras: readExtras(parsed.files), workingDir, configFiles: opts.files });
}
