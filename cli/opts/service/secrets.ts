// --secret and --config (service create), --secret-add/-rm and --config-add/-rm (service
// update), as docker parses them: "name" or "source=,target=,uid=,gid=,mode=" (CSV, mode in
// octal with a 0 prefix, or decimal). The names are resolved to IDs with one list call, as
// docker's ParseSecrets does; a missing one is "secret not found: NAME".
import { FlagError, OptionError } from '../errors';
import type { ConfigReference, ContainerSpec, SecretReference } from '../../../shared/swarm/types';

export type FileRefKind = 'secret' | 'config';

/** A reference by name with its file target; the ID comes from resolveFileRefs. */
export interface FileRef {
  name: string;
  id?: string;
  file: { Name: string; UID: string; GID: string; Mode: number };
}

/** One CSV record, with docker's (Go encoding/csv) quoting. */
function csvFields(value: string, flag: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let i = 0;
  while (i < value.length) {
    const ch = value[i];
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        cur += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
    i++;
  }
  if (quoted) throw new FlagError(flag, value, 'extraneous or missing " in quoted-field');
  out.push(cur);
  return out;
}

/** Go's strconv.ParseUint(v, 0, 32): 0x.., 0o.., 0b.., a leading 0 for octal, or decimal. */
function parseMode(v: string): number | undefined {
  const s = v.replace(/_/g, '');
  let m: RegExpExecArray | null;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(s))) return parseInt(m[1], 16);
  if ((m = /^0[oO]?([0-7]+)$/.exec(s))) return parseInt(m[1], 8);
  if ((m = /^0[bB]([01]+)$/.exec(s))) return parseInt(m[1], 2);
  if (/^(0|[1-9][0-9]*)$/.test(s)) return parseInt(s, 10);
  return undefined;
}

/** Parse one --secret/--config value. */
export function parseFileRef(value: string, kind: FileRefKind, flag: string): FileRef {
  const fields = csvFields(value, flag);
  const ref: FileRef = { name: '', file: { Name: '', UID: '0', GID: '0', Mode: 0o444 } };
  if (fields.length === 1 && !fields[0].includes('=')) {
    ref.name = ref.file.Name = fields[0];
    return ref;
  }
  for (const field of fields) {
    const i = field.indexOf('=');
    if (i <= 0) throw new FlagError(flag, value, `invalid field '${field}' must be a key=value pair`);
    const key = field.slice(0, i);
    const val = field.slice(i + 1);
    switch (key.toLowerCase()) {
      case 'source':
      case 'src':
        ref.name = val;
        break;
      case 'target':
        ref.file.Name = val;
        break;
      case 'uid':
        ref.file.UID = val;
        break;
      case 'gid':
        ref.file.GID = val;
        break;
      case 'mode': {
        const m = parseMode(val);
        if (m === undefined || m > 0xffffffff) throw new FlagError(flag, value, `invalid mode specified: strconv.ParseUint: parsing ${JSON.stringify(val)}: invalid syntax`);
        ref.file.Mode = m;
        break;
      }
      default:
        throw new FlagError(flag, value, `invalid field in ${kind} request: ${key}`);
    }
  }
  if (!ref.name) throw new FlagError(flag, value, 'source is required');
  if (!ref.file.Name) ref.file.Name = ref.name;
  return ref;
}

/** The API's reference objects for resolved refs. */
export function secretReferences(refs: readonly FileRef[]): SecretReference[] {
  return refs.map((r) => ({ File: { ...r.file }, SecretID: r.id, SecretName: r.name }));
}

export function configReferences(refs: readonly FileRef[]): ConfigReference[] {
  return refs.map((r) => ({ File: { ...r.file }, ConfigID: r.id, ConfigName: r.name }));
}

/** What exists, as GET /secrets or /configs lists it. */
export interface NamedObject {
  ID: string;
  Spec?: { Name?: string };
}

/**
 * Fill each ref's ID from the objects listed under their names; two refs with one target are
 * refused (docker: "duplicate secret target for NAME not allowed").
 */
export async function resolveFileRefs(kind: FileRefKind, refs: readonly FileRef[], list: (names: string[]) => Promise<NamedObject[]>): Promise<FileRef[]> {
  if (!refs.length) return [];
  const targets = new Set<string>();
  for (const r of refs) {
    if (targets.has(r.file.Name)) throw new OptionError(`duplicate ${kind} target for ${r.name} not allowed`);
    targets.add(r.file.Name);
  }
  const found = new Map<string, string>();
  for (const o of await list([...new Set(refs.map((r) => r.name))])) found.set(o.Spec?.Name ?? '', o.ID);
  return refs.map((r) => {
    const id = found.get(r.name);
    if (!id) throw new OptionError(`${kind} not found: ${r.name}`);
    return { ...r, id };
  });
}

/** service update: drop the references named by -rm, then append the -add ones (docker's order). */
export function updateFileRefs<R extends SecretReference | ConfigReference>(current: readonly R[] | undefined, add: readonly R[], rm: readonly string[] | undefined, name: (r: R) => string | undefined): R[] {
  const removed = new Set(rm ?? []);
  return [...(current ?? []).filter((r) => !removed.has(name(r) ?? '')), ...add];
}

/** service create: fill SecretID/ConfigID of the references buildServiceSpec made by name. */
export async function fillReferenceIds(cs: ContainerSpec, resolve: (kind: FileRefKind, refs: FileRef[]) => Promise<FileRef[]>): Promise<void> {
  const asRef = (name: string | undefined, file: FileRef['file'] | undefined): FileRef => ({ name: name ?? '', file: file! });
  if (cs.Secrets?.length) cs.Secrets = secretReferences(await resolve('secret', cs.Secrets.map((r) => asRef(r.SecretName, r.File as FileRef['file']))));
  if (cs.Configs?.length) cs.Configs = configReferences(await resolve('config', cs.Configs.map((r) => asRef(r.ConfigName, r.File as FileRef['file']))));
}
