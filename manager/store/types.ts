// The cluster store's contract (DESIGN principle 7): the etcd store and the in-memory store both
// implement ClusterStore and pass the one conformance suite.

export const KINDS = ['cluster', 'nodes', 'services', 'tasks', 'networks', 'secrets', 'configs', 'ipam'] as const;
export type Kind = (typeof KINDS)[number];

export interface ObjectVersion {
  /** The store revision that last changed the object (etcd's mod revision of its key). */
  Index?: number;
}

/**
 * What every swarm object has (Docker's swarm object model, shared/swarm types); kinds add
 * their own fields. Version is optional there, as in the API; every object the store returns
 * has Version.Index set.
 */
export interface StoredObject {
  ID: string;
  Version?: ObjectVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: unknown;
}

/** An object to create: its Version is assigned by the store. */
export type NewObject<T extends StoredObject> = Omit<T, 'Version'> & { Version?: ObjectVersion };

/** The version of an object the store returned. */
export function versionOf(o: StoredObject): number {
  return o.Version?.Index ?? 0;
}

export type StoreEvent<T extends StoredObject = StoredObject> =
  | {
      kind: Kind;
      type: 'put';
      id: string;
      object: T;
      /** True when this put created the object. */
      created: boolean;
      revision: number;
    }
  | {
      kind: Kind;
      type: 'delete';
      id: string;
      /** The object as it was before deletion; absent for a deletion found by a re-list. */
      object?: T;
      revision: number;
    };

export interface StoreWatch {
  /** The revision the snapshot was read at; events follow from revision + 1. */
  revision: number;
  /** Every object of the watched kinds at `revision`. */
  snapshot: Partial<Record<Kind, StoredObject[]>>;
  /**
   * Changes after the snapshot, in revision order, until the signal aborts. When the store can no
   * longer replay what was missed (history compacted), the watch re-lists and yields the
   * difference as puts and deletes, so a consumer never has to start over.
   */
  events: AsyncIterable<StoreEvent>;
}

export type BatchOp =
  | { op: 'create'; kind: Kind; object: NewObject<StoredObject> }
  /** Compares object.Version.Index with the stored version unless force is set. */
  | { op: 'update'; kind: Kind; object: StoredObject; force?: boolean }
  /** Compares the stored version with `version` when given. */
  | { op: 'delete'; kind: Kind; id: string; version?: number };

export interface BatchOptions {
  /**
   * true (default): all operations commit together or none does, and the first failure is thrown.
   * false: operations may commit in several transactions; each result says whether its operation
   * committed, and a failing operation does not keep the others from committing.
   */
  atomic?: boolean;
}

export type BatchResult =
  | { ok: true; revision: number; /** created or updated object (not for deletes) */ object?: StoredObject }
  | { ok: false; error: Error };

export interface ListResult<T extends StoredObject> {
  items: T[];
  /** The revision the list was read at. */
  revision: number;
}

export interface ClusterStore {
  /** The object, or undefined when there is none. */
  get<T extends StoredObject>(kind: Kind, id: string): Promise<T | undefined>;
  list<T extends StoredObject>(kind: Kind): Promise<ListResult<T>>;
  /** ALREADY_EXISTS when the ID (or, for named kinds, the name) is taken. */
  create<T extends StoredObject>(kind: Kind, obj: NewObject<T>): Promise<T>;
  /**
   * CONFLICT ("update out of sequence") when obj.Version.Index is not the stored version, unless
   * force; NOT_FOUND when the object is gone. The name of a named kind cannot change.
   */
  update<T extends StoredObject>(kind: Kind, obj: T, opts?: { force?: boolean }): Promise<T>;
  /** NOT_FOUND when absent; CONFLICT when `version` is given and not the stored version. */
  delete(kind: Kind, id: string, version?: number): Promise<void>;
  batch(ops: BatchOp[], opts?: BatchOptions): Promise<BatchResult[]>;
  /** A snapshot of the kinds plus the changes after it (DESIGN principle 3). */
  watch(kinds: Kind[], signal: AbortSignal): Promise<StoreWatch>;
  close(): Promise<void>;
}
