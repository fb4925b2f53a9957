// create, update and delete are each a batch of one; both stores share these by extending it.
import type { BatchOp, BatchOptions, BatchResult, ClusterStore, Kind, ListResult, NewObject, StoreWatch, StoredObject } from './types';

export abstract class BatchStore implements ClusterStore {
  abstract get<T extends StoredObject>(kind: Kind, id: string): Promise<T | undefined>;
  abstract list<T extends StoredObject>(kind: Kind): Promise<ListResult<T>>;
  abstract batch(ops: BatchOp[], opts?: BatchOptions): Promise<BatchResult[]>;
  abstract watch(kinds: Kind[], signal: AbortSignal): Promise<StoreWatch>;
  abstract close(): Promise<void>;

  async create<T extends StoredObject>(kind: Kind, obj: NewObject<T>): Promise<T> {
    return objectOf<T>(await this.batch([{ op: 'create', kind, object: obj as NewObject<StoredObject> }]));
  }

  async update<T extends StoredObject>(kind: Kind, obj: T, opts: { force?: boolean } = {}): Promise<T> {
    return objectOf<T>(await this.batch([{ op: 'update', kind, object: obj, force: opts.force }]));
  }

  async delete(kind: Kind, id: string, version?: number): Promise<void> {
    await this.batch([{ op: 'delete', kind, id, version }]);
  }
}

// An atomic batch throws on failure, so its one result is a success.
function objectOf<T extends StoredObject>(results: BatchResult[]): T {
  const r = results[0];
  if (!r.ok) throw r.error;
  return r.object as T;
}
