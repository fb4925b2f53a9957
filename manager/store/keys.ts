// Key layout in etcd:
//   /shoal/v1/<kind>/<id>            the object (JSON, without Version: that is the key's mod revision)
//   /shoal/v1/_names/<kind>/<name>   -> id, for kinds whose names are unique (services, networks,
//                                    secrets, configs): the index lets one txn refuse a duplicate
//                                    name atomically, which a list-then-create cannot.
// No other index: consumers index in memory from a watch snapshot (as swarmkit's memdb does),
// which serves the scheduler's and orchestrators' lookups without extra writes per task.
import { invalid } from '../../shared/errors';
import { KINDS, type Kind, type StoredObject } from './types';

export const ROOT = '/shoal/v1/';
const NAMES = `${ROOT}_names/`;

const NOUNS: Record<Kind, string> = {
  cluster: 'cluster',
  nodes: 'node',
  services: 'service',
  tasks: 'task',
  networks: 'network',
  secrets: 'secret',
  configs: 'config',
  // Address management state, the allocator's own: the cluster's subnets and VNIs, one pool per network.
  ipam: 'address pool',
};

/** Kinds whose Spec.Name is unique in the cluster and never changes. */
export const NAMED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['services', 'networks', 'secrets', 'configs']);

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && (KINDS as readonly string[]).includes(k);
}

export function checkKind(k: unknown): Kind {
  if (!isKind(k)) throw invalid(`unknown object kind "${String(k)}" (want one of ${KINDS.join(', ')})`);
  return k;
}

/** "service", "task", ... for messages. */
export function noun(kind: Kind): string {
  return NOUNS[kind];
}

export function checkId(kind: Kind, id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) throw invalid(`${noun(kind)} ID "${String(id)}" must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return id;
}

export function objectKey(kind: Kind, id: string): string {
  return `${ROOT}${kind}/${id}`;
}

export function kindPrefix(kind: Kind): string {
  return `${ROOT}${kind}/`;
}

/** The kind and ID an object key names, or undefined for any other key (indexes). */
export function parseKey(key: string): { kind: Kind; id: string } | undefined {
  if (!key.startsWith(ROOT)) return undefined;
  const rest = key.slice(ROOT.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const kind = rest.slice(0, slash);
  const id = rest.slice(slash + 1);
  if (!isKind(kind) || !ID.test(id)) return undefined;
  return { kind, id };
}

export function nameKey(kind: Kind, name: string): string {
  return `${NAMES}${kind}/${name}`;
}

/** Spec.Name of an object of a named kind (required there), else undefined. */
export function nameOf(kind: Kind, obj: StoredObject): string | undefined {
  if (!NAMED_KINDS.has(kind)) return undefined;
  const name = (obj.Spec as { Name?: unknown } | undefined)?.Name;
  if (typeof name !== 'string' || name === '' || name.length > 255 || name.includes('\0')) {
    throw invalid(`${noun(kind)} ${obj.ID}: Spec.Name must be a non-empty string of at most 255 characters`);
  }
  return name;
}

/** The end of etcd's range for every key starting with `prefix` (its last byte plus one). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The narrowest key range covering the kinds: one kind's prefix, or the whole object root. */
export function watchRange(kinds: readonly Kind[]): { start: string; end: string } {
  if (kinds.length === 1) return { start: kindPrefix(kinds[0]), end: prefixEnd(kindPrefix(kinds[0])) };
  return { start: ROOT, end: prefixEnd(ROOT) };
}
