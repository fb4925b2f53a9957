// What both stores share: checking a batch before it runs, encoding objects, and deciding
// whether one operation can apply to what is stored (the memory store applies by it; the etcd
// store explains a failed transaction by it).
import { ShoalError, invalid } from '../../shared/errors';
import { checkId, checkKind, nameOf, nameKey, noun, objectKey } from './keys';
import type { BatchOp, Kind, StoredObject } from './types';

export interface PreparedOp {
  /** Position in the caller's batch. */
  index: number;
  op: BatchOp['op'];
  kind: Kind;
  id: string;
  key: string;
  /** create/update: the object to store (timestamps set, no Version) and its JSON. */
  object?: StoredObject;
  value?: string;
  /** create/update of a named kind. */
  name?: string;
  /** The version the stored object must have (update without force; delete with a version). */
  expect?: number;
}

/** What is stored under an op's key (mod 0 when nothing is). */
export interface Current {
  object?: StoredObject;
  mod: number;
}

export const alreadyExists = (kind: Kind, id: string) => new ShoalError('ALREADY_EXISTS', `${noun(kind)} ${id} already exists`);
export const nameTaken = (kind: Kind, name: string, owner: string) => new ShoalError('ALREADY_EXISTS', `${noun(kind)} name "${name}" is already in use by ${noun(kind)} ${owner}`);
export const missing = (kind: Kind, id: string) => new ShoalError('NOT_FOUND', `${noun(kind)} ${id} not found`);
export const outOfSequence = (kind: Kind, id: string, stored: number, given: number) =>
  new ShoalError('CONFLICT', `update out of sequence: ${noun(kind)} ${id} is at version ${stored}, not ${given}; re-read it and apply the change again`);
export const renamed = (kind: Kind, id: string, from: string, to: string) => invalid(`${noun(kind)} ${id}: the name cannot change (it is "${from}", not "${to}")`);

/** JSON as stored: everything but Version (that is the key's mod revision). */
export function encode(obj: StoredObject): string {
  const { Version: _v, ...rest } = obj;
  return JSON.stringify(rest);
}

export function decode<T extends StoredObject>(value: Buffer | string, modRevision: number): T {
  const obj = JSON.parse(value.toString()) as T;
  obj.Version = { Index: modRevision };
  return obj;
}

function version(kind: Kind, id: string, v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalid(`${noun(kind)} ${id}: ${field} ${JSON.stringify(v)} must be a positive whole number`);
  return v;
}

function prepareOne(o: BatchOp, index: number, now: string): PreparedOp {
  if (!o || typeof o !== 'object') throw invalid(`batch operation ${index} is not an object`);
  const kind = checkKind(o.kind);
  switch (o.op) {
    case 'create':
    case 'update': {
      if (!o.object || typeof o.object !== 'object') throw invalid(`batch operation ${index}: ${o.op} needs an object`);
      const id = checkId(kind, o.object.ID);
      const expect = o.op === 'update' && !o.force ? version(kind, id, o.object.Version?.Index, 'Version.Index') : undefined;
      const object = { ...o.object, ...(o.op === 'create' ? { CreatedAt: o.object.CreatedAt ?? now } : {}), UpdatedAt: now } as StoredObject;
      delete (object as Partial<StoredObject>).Version;
      return { index, op: o.op, kind, id, key: objectKey(kind, id), object, value: encode(object), name: nameOf(kind, object), expect };
    }
    case 'delete': {
      const id = checkId(kind, o.id);
      const expect = o.version === undefined ? undefined : version(kind, id, o.version, 'version');
      return { index, op: 'delete', kind, id, key: objectKey(kind, id), expect };
    }
    default:
      throw invalid(`batch operation ${index}: unknown op "${String((o as { op?: unknown }).op)}" (want create, update or delete)`);
  }
}

/**
 * Check every operation on its own; an entry is the prepared op or why it cannot run. Two
 * operations on one object, or two creates of one name, cannot share a batch.
 */
export function prepareBatch(ops: BatchOp[], now = new Date().toISOString()): Array<PreparedOp | ShoalError> {
  if (!Array.isArray(ops)) throw invalid('a batch must be a list of operations');
  const keys = new Set<string>();
  const names = new Set<string>();
  return ops.map((o, i) => {
    try {
      const p = prepareOne(o, i, now);
      if (keys.has(p.key)) throw invalid(`batch changes ${noun(p.kind)} ${p.id} more than once`);
      keys.add(p.key);
      if (p.op === 'create' && p.name !== undefined) {
        const nk = nameKey(p.kind, p.name);
        if (names.has(nk)) throw nameTaken(p.kind, p.name, 'created earlier in the same batch');
        names.add(nk);
      }
      return p;
    } catch (e) {
      if (e instanceof ShoalError) return e;
      throw e;
    }
  });
}

/**
 * Why `op` cannot apply to what is stored, or undefined when it can. `nameOwner` is the ID the
 * name index gives for a create's name.
 */
export function checkOp(op: PreparedOp, cur: Current, nameOwner?: string): ShoalError | undefined {
  switch (op.op) {
    case 'create':
      if (cur.object) return alreadyExists(op.kind, op.id);
      if (op.name !== undefined && nameOwner !== undefined) return nameTaken(op.kind, op.name, nameOwner);
      return undefined;
    case 'update': {
      if (!cur.object) return missing(op.kind, op.id);
      if (op.expect !== undefined && cur.mod !== op.expect) return outOfSequence(op.kind, op.id, cur.mod, op.expect);
      const was = op.name === undefined ? undefined : nameOf(op.kind, cur.object);
      if (was !== undefined && op.name !== undefined && was !== op.name) return renamed(op.kind, op.id, was, op.name);
      return undefined;
    }
    case 'delete':
      if (!cur.object) return missing(op.kind, op.id);
      if (op.expect !== undefined && cur.mod !== op.expect) return outOfSequence(op.kind, op.id, cur.mod, op.expect);
      return undefined;
  }
}
