// How dockerd finds the object a user names: the full ID, else an exact name, else a unique ID
// prefix. More than one match is refused rather than guessed.
import { invalid, isShoalError, notFound } from '../../shared/errors';
import type { ClusterStore, Kind, StoredObject } from '../store';

/** The names an object answers to (a service's name, a node's hostname, a task's "svc.1.id"). */
export type Namer<T> = (o: T) => Array<string | undefined>;

/** Pure part of the lookup, over a full list. `noun` words the errors ("service web not found"). */
export function pickByRef<T extends StoredObject>(items: readonly T[], input: string, noun: string, names: Namer<T>): T {
  const byId = items.find((o) => o.ID === input);
  if (byId) return byId;
  const byName = items.filter((o) => names(o).includes(input));
  const matches = byName.length ? byName : items.filter((o) => o.ID.startsWith(input));
  if (matches.length === 0) throw notFound(`${noun} ${input} not found`);
  if (matches.length > 1) throw invalid(`${noun} ${input} is ambiguous (${matches.length} matches found)`);
  return matches[0];
}

/** The object by ID straight from the store, or undefined (also for input no ID could be). */
export async function getById<T extends StoredObject>(store: ClusterStore, kind: Kind, id: string): Promise<T | undefined> {
  try {
    return await store.get<T>(kind, id);
  } catch (e) {
    if (isShoalError(e, 'INVALID_ARGUMENT')) return undefined;
    throw e;
  }
}

/**
 * Resolve a user's reference against the store: one read when it is a full ID, else a list.
 * `namer` is built from the list (a task's name needs its service's).
 */
export async function resolveRef<T extends StoredObject>(
  store: ClusterStore,
  kind: Kind,
  input: string,
  noun: string,
  namer: (items: T[]) => Namer<T> | Promise<Namer<T>>,
): Promise<T> {
  const direct = await getById<T>(store, kind, input);
  if (direct) return direct;
  const { items } = await store.list<T>(kind);
  return pickByRef(items, input, noun, await namer(items));
}
