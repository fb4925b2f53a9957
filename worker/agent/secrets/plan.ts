// Which files a task's container gets for its secrets and configs, and where (pure). Secrets
// go under /run/secrets unless their target is absolute, configs under / (dockerd's rules);
// each file has the reference's uid, gid and mode (docker's defaults 0, 0 and 0444).
import { posix } from 'node:path';
import { invalid } from '../../../shared/errors';
import type { FileTarget } from '../../../shared/swarm';
import type { AgentTask } from '../tasks/types';

export const SECRETS_DIR = '/run/secrets';
export const CONFIGS_DIR = '/';
export const DEFAULT_FILE_MODE = 0o444;

/** A secret or config object as the dispatcher sent it (the API's JSON, Spec.Data base64). */
export interface PayloadObject {
  ID: string;
  Spec?: { Name?: string; Data?: string };
}

/** Where the objects the node was sent are found. */
export interface PayloadSource {
  secret(id: string): PayloadObject | undefined;
  config(id: string): PayloadObject | undefined;
}

export interface TaskFile {
  kind: 'secret' | 'config';
  /** The object's name (for messages). */
  name: string;
  /** The file's name in the task's directory on the host: unique per reference. */
  hostName: string;
  /** Absolute path inside the container. */
  target: string;
  data: Buffer;
  uid: number;
  gid: number;
  mode: number;
}

/** dockerd: an absolute target is used as given, a relative one goes under the kind's directory. */
export function targetPath(kind: 'secret' | 'config', name: string): string {
  const p = posix.isAbsolute(name) ? name : posix.join(kind === 'secret' ? SECRETS_DIR : CONFIGS_DIR, name);
  const clean = posix.normalize(p);
  if (clean === '/' || clean.endsWith('/')) throw invalid(`${kind} target ${JSON.stringify(name)} names a directory, not a file`);
  return clean;
}

function id(v: string | undefined, what: string): number {
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xfffffffe) throw invalid(`${what} ${JSON.stringify(v)} must be a numeric ID`);
  return Number(v);
}

function fileOf(kind: 'secret' | 'config', index: number, obj: PayloadObject, name: string, f: FileTarget): TaskFile {
  const what = `${kind} ${name}`;
  const mode = f.Mode ?? DEFAULT_FILE_MODE;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw invalid(`${what}: File.Mode ${mode} is not a file mode`);
  return {
    kind,
    name,
    hostName: `${kind}-${index}-${obj.ID}`,
    target: targetPath(kind, f.Name || name),
    data: Buffer.from(obj.Spec?.Data ?? '', 'base64'),
    uid: id(f.UID, `${what}: File.UID`),
    gid: id(f.GID, `${what}: File.GID`),
    mode,
  };
}

/**
 * The task's files. A reference to an object this node was not sent fails the task (it would
 * run without its secret); a config with no file target (a runtime config) is not a file.
 */
export function planTaskFiles(task: AgentTask, source: PayloadSource): TaskFile[] {
  const spec = task.Spec?.ContainerSpec;
  const out: TaskFile[] = [];
  (spec?.Secrets ?? []).forEach((r, i) => {
    const name = r.SecretName || r.SecretID || '';
    const obj = r.SecretID ? source.secret(r.SecretID) : undefined;
    if (!obj) throw invalid(`secret ${name} (${r.SecretID ?? 'no ID'}) was not sent to this node`);
    out.push(fileOf('secret', i, obj, name, r.File ?? {}));
  });
  (spec?.Configs ?? []).forEach((r, i) => {
    if (!r.File) return;
    const name = r.ConfigName || r.ConfigID || '';
    const obj = r.ConfigID ? source.config(r.ConfigID) : undefined;
    if (!obj) throw invalid(`config ${name} (${r.ConfigID ?? 'no ID'}) was not sent to this node`);
    out.push(fileOf('config', i, obj, name, r.File));
  });
  const seen = new Map<string, TaskFile>();
  for (const f of out) {
    const other = seen.get(f.target);
    if (other) throw invalid(`${other.kind} ${other.name} and ${f.kind} ${f.name} have the same target ${f.target}`);
    seen.set(f.target, f);
  }
  return out;
}
