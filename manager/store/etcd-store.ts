// The cluster store over etcd: objects as JSON under /shoal/v1/<kind>/<id>, versions are mod
// revisions, every write is one txn that compares what the caller read, and watches are a
// snapshot plus a resumable stream.
import type { Etcd3, ICompare, IKeyValue, IRequestOp, ITxnResponse } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, internal, invalid, precondition } from '../../shared/errors';
import { logger } from '../../shared/log';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS, createEtcdClient, deadline, isCompacted, translateEtcdError, type EtcdClientOptions } from '../etcd';
import { neverSent } from '../etcd/errors';
import { Compacted, watchResponses } from './etcd-watch';
import { NAMED_KINDS, checkId, checkKind, kindPrefix, nameKey, nameOf, noun, objectKey, parseKey, prefixEnd, watchRange } from './keys';
import { KnownObjects } from './known';
import { checkOp, decode, prepareBatch, type Current, type PreparedOp } from './ops';
import { BatchStore } from './single';
import type { BatchOp, BatchOptions, BatchResult, Kind, ListResult, StoreEvent, StoreWatch, StoredObject } from './types';

export interface EtcdStoreOptions {
  /** Deadline of each read and small write (default 3000 ms); big transactions get 1 ms more per op. */
  callTimeoutMs?: number;
  /** The member's --max-txn-ops (default 2048): no transaction sent holds more. */
  maxTxnOps?: number;
  /** Bytes one transaction may carry (default: the member's 8 MiB limit less 512 KiB of headroom). */
  maxTxnBytes?: number;
  /** Objects per page when listing (default 1000). */
  pageSize?: number;
  /** What the managers' Raft group allows now (absent: everything, linearizable reads). */
  gate?: StoreGate;
}

/** How a store learns whether its etcd member can commit, from a monitor of the Raft group. */
export interface StoreGate {
  /** Resolves when a write may be sent; throws UNAVAILABLE at once when quorum is lost. */
  beforeWrite(): Promise<void>;
  /** True while this member has no quorum: reads come from its own copy (which may be stale). */
  serializableReads(): boolean;
}

const log = logger('store');

// A delete of a named kind reads the object first (to free its name); if the object changes
// in between, the txn fails on that compare and runs again, this many times at most.
const TRANSIENT_RETRIES = 5;

const b = (s: string) => Buffer.from(s);
const cmp = (key: string, target: ICompare['target'], result: ICompare['result'], field: Partial<ICompare>): ICompare => ({ key: b(key), target, result, ...field });
const range = (key: string): IRequestOp => ({ request_range: { key: b(key) } });

interface Sized {
  compares: number;
  success: number;
  bytes: number;
}

export class EtcdStore extends BatchStore {
  private readonly timeoutMs: number;
  private readonly maxTxnOps: number;
  private readonly maxTxnBytes: number;
  private readonly pageSize: number;
  private closed = false;

  /**
   * @param client an etcd3 client made by createEtcdClient (deadlines, no blind retries)
   * @param ownsClient close the client with the store
   */
  constructor(
    private readonly client: Etcd3,
    opts: EtcdStoreOptions = {},
    private readonly ownsClient = false,
  ) {
    super();
    this.timeoutMs = opts.callTimeoutMs ?? 3000;
    this.maxTxnOps = opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.maxTxnBytes = opts.maxTxnBytes ?? DEFAULT_MAX_REQUEST_BYTES - 512 * 1024;
    this.pageSize = opts.pageSize ?? 1000;
    this.gate = opts.gate;
  }

  private readonly gate?: StoreGate;

  /** A store with its own client to `endpoints`. */
  static connect(endpoints: string[], opts: EtcdStoreOptions & EtcdClientOptions = {}): EtcdStore {
    return new EtcdStore(createEtcdClient(endpoints, opts), opts, true);
  }

  async get<T extends StoredObject>(kind: Kind, id: string): Promise<T | undefined> {
    const key = objectKey(checkKind(kind), checkId(kind, id));
    this.checkOpen();
    try {
      const res = await this.unsent(() => this.client.kv.range({ key: b(key), serializable: this.gate?.serializableReads() ?? false }, deadline(this.timeoutMs)));
      const kv = res.kvs[0];
      return kv ? decode<T>(kv.value, Number(kv.mod_revision)) : undefined;
    } catch (e) {
      throw translateEtcdError(e, `read ${noun(kind)} ${id}`);
    }
  }

  async list<T extends StoredObject>(kind: Kind): Promise<ListResult<T>> {
    checkKind(kind);
    const snap = await this.snapshot([kind]);
    return { items: (snap.objects[kind] ?? []) as T[], revision: snap.revision };
  }

  async batch(ops: BatchOp[], opts: BatchOptions = {}): Promise<BatchResult[]> {
    this.checkOpen();
    const atomic = opts.atomic ?? true;
    const prepared = prepareBatch(ops);
    const results: BatchResult[] = prepared.map((p) => (p instanceof ShoalError ? { ok: false, error: p } : { ok: true, revision: 0 }));
    const valid = prepared.filter((p): p is PreparedOp => !(p instanceof ShoalError));
    if (atomic) {
      const bad = prepared.find((p): p is ShoalError => p instanceof ShoalError);
      if (bad) throw bad;
      const size = valid.reduce((s, op) => add(s, this.size(op)), { compares: 0, success: 0, bytes: 0 });
      if (!this.fits(size)) {
        throw invalid(`a batch of ${valid.length} operations (${size.success} etcd operations, ${size.bytes} bytes) does not fit one transaction (at most ${this.maxTxnOps} operations and ${this.maxTxnBytes} bytes); send it in parts or allow non-atomic chunks`);
      }
      if (valid.length > 0) await this.commit(valid, results, true);
      return results;
    }
    for (const chunk of this.chunks(valid, results)) await this.commit(chunk, results, false);
    return results;
  }

  async watch(kinds: Kind[], signal: AbortSignal): Promise<StoreWatch> {
    const set = [...new Set(kinds.map(checkKind))];
    if (set.length === 0) throw invalid('watch needs at least one kind');
    const snap = await this.snapshot(set);
    const known = new KnownObjects(snap.objects);
    return { revision: snap.revision, snapshot: snap.objects, events: this.follow(set, snap.revision + 1, known, signal) };
  }

  /**
   * Run an etcd call again while it fails without having reached the member (connection
   * refused: the member is restarting, e.g. to load a new root), for up to the call timeout.
   * Such a call cannot have been applied, so trying it again is safe even for a txn.
   */
  private async unsent<T>(call: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof Error) || !neverSent(e) || Date.now() >= until || this.closed) throw e;
        await sleep(100);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ownsClient) this.client.close();
  }

  // ---- reads

  /** Every object of the kinds, all read at one revision (pages of pageSize). */
  private async snapshot(kinds: Kind[]): Promise<{ revision: number; objects: Partial<Record<Kind, StoredObject[]>> }> {
    this.checkOpen();
    for (let attempt = 0; ; attempt++) {
      try {
        let revision: number | undefined;
        const objects: Partial<Record<Kind, StoredObject[]>> = {};
        for (const kind of kinds) {
          const prefix = kindPrefix(kind);
          const items: StoredObject[] = [];
          let from = prefix;
          for (;;) {
            const res = await this.unsent(() => this.client.kv.range({ key: b(from), range_end: b(prefixEnd(prefix)), limit: this.pageSize, revision: revision ?? 0, serializable: this.gate?.serializableReads() ?? false }, deadline(this.timeoutMs)));
            revision ??= Number(res.header.revision);
            for (const kv of res.kvs) items.push(decode(kv.value, Number(kv.mod_revision)));
            if (!res.more || res.kvs.length === 0) break;
            from = res.kvs[res.kvs.length - 1].key.toString() + '\0';
          }
          objects[kind] = items;
        }
        return { revision: revision ?? 0, objects };
      } catch (e) {
        // the first page's revision was compacted before the last page: read again from now
        if (isCompacted(e) && attempt < 3) continue;
        throw translateEtcdError(e, `list ${kinds.join(', ')}`);
      }
    }
  }

  // ---- watch

  private async *follow(kinds: Kind[], from: number, known: KnownObjects, signal: AbortSignal): AsyncIterable<StoreEvent> {
    const wanted = new Set(kinds);
    const span = watchRange(kinds);
    let next = from;
    let failures = 0;
    while (!signal.aborted && !this.closed) {
      try {
        for await (const res of watchResponses(this.client, span, next, signal)) {
          failures = 0;
          if (res.created) continue; // its header is the current revision, not a promise of delivery
          if (res.events.length === 0) {
            next = Math.max(next, Number(res.header.revision) + 1); // progress notification
            continue;
          }
          for (const e of res.events) {
            const ev = toEvent(e.type, e.kv, e.prev_kv, wanted);
            if (!ev) continue;
            known.apply(ev);
            yield ev;
          }
          next = Number(res.events[res.events.length - 1].kv.mod_revision) + 1;
        }
      } catch (e) {
        if (signal.aborted || this.closed) break;
        if (e instanceof Compacted) {
          log.info({ from: next, compacted: e.compactRevision }, 'watch history compacted; re-listing');
          try {
            const snap = await this.snapshot(kinds);
            for (const ev of known.diff(snap.objects, snap.revision)) yield ev;
            next = snap.revision + 1;
            continue;
          } catch (le) {
            e = le;
          }
        }
        failures++;
        const delay = Math.min(1000, 50 * 2 ** Math.min(failures, 5));
        if (failures === 1) log.warn({ err: (e as Error).message, from: next }, 'watch interrupted; resuming');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  // ---- writes

  /** etcd operations and bytes one prepared op takes. */
  private size(op: PreparedOp): Sized {
    const named = op.name !== undefined || (op.op === 'delete' && this.namedDelete(op));
    const bytes = op.key.length * 3 + (op.value?.length ?? 0) + (op.name?.length ?? 0) * 2 + 128;
    if (op.op === 'update') return { compares: op.name ? 2 : 1, success: 1, bytes };
    return { compares: op.op === 'create' && named ? 2 : 1, success: named ? 2 : 1, bytes };
  }

  private namedDelete(op: PreparedOp): boolean {
    return op.op === 'delete' && NAMED_KINDS.has(op.kind);
  }

  private fits(s: Sized): boolean {
    return s.compares <= this.maxTxnOps && s.success <= this.maxTxnOps && s.bytes <= this.maxTxnBytes;
  }

  /** Split into transactions under etcd's limits; an op too large for any is failed in `results`. */
  private chunks(ops: PreparedOp[], results: BatchResult[]): PreparedOp[][] {
    const out: PreparedOp[][] = [];
    let cur: PreparedOp[] = [];
    let size: Sized = { compares: 0, success: 0, bytes: 0 };
    for (const op of ops) {
      const s = this.size(op);
      if (!this.fits(s)) {
        results[op.index] = { ok: false, error: invalid(`${noun(op.kind)} ${op.id} is ${s.bytes} bytes; the store takes at most ${this.maxTxnBytes}`) };
        continue;
      }
      if (!this.fits(add(size, s))) {
        out.push(cur);
        cur = [];
        size = { compares: 0, success: 0, bytes: 0 };
      }
      cur.push(op);
      size = add(size, s);
    }
    if (cur.length) out.push(cur);
    return out;
  }

  /**
   * Commit ops in one txn. Atomic: all or nothing, the first failing op's error thrown. Otherwise
   * a failing op is recorded in `results` and the txn runs again without it.
   */
  private async commit(ops: PreparedOp[], results: BatchResult[], atomic: boolean): Promise<void> {
    let pending = ops;
    await this.gate?.beforeWrite();
    for (let attempt = 0; pending.length > 0; attempt++) {
      const names = await this.namesToFree(pending);
      const early = new Map<number, ShoalError>();
      for (const op of pending) {
        const read = names.get(op.index);
        const err = read && checkOp(op, { object: read.mod ? ({} as StoredObject) : undefined, mod: read.mod });
        if (err) early.set(op.index, err);
      }
      let failed = early;
      let raced = new Set<number>();
      if (early.size === 0) {
        const { compare, success, failure } = this.txn(pending, names);
        let res: ITxnResponse;
        try {
          res = await this.unsent(() => this.client.kv.txn({ compare, success, failure }, deadline(this.timeoutMs + pending.length)));
        } catch (e) {
          throw translateEtcdError(e, pending.length === 1 ? `${pending[0].op} ${noun(pending[0].kind)} ${pending[0].id}` : `commit ${pending.length} changes`);
        }
        const revision = Number(res.header.revision);
        if (res.succeeded) {
          for (const op of pending) results[op.index] = { ok: true, revision, ...(op.value !== undefined ? { object: decode(op.value, revision) } : {}) };
          return;
        }
        ({ failed, raced } = this.explain(pending, res, names));
        if (failed.size === 0 && raced.size === 0) throw internal(`the store refused a transaction of ${pending.length} changes for no reason it could find`);
      }
      if (atomic && failed.size > 0) throw failed.get(Math.min(...failed.keys())) as ShoalError;
      if (failed.size === 0 && attempt >= TRANSIENT_RETRIES) {
        // only named deletes that kept racing other writers are left
        const op = pending.find((o) => raced.has(o.index)) as PreparedOp;
        const err = precondition(`${noun(op.kind)} ${op.id} kept changing while it was being deleted; try again`);
        if (atomic) throw err;
        for (const o of pending) if (raced.has(o.index)) failed.set(o.index, err);
      }
      for (const [index, error] of failed) results[index] = { ok: false, error };
      pending = pending.filter((op) => !failed.has(op.index));
    }
  }

  /** For deletes of named kinds: the stored version and name, read in one txn. */
  private async namesToFree(ops: PreparedOp[]): Promise<Map<number, { mod: number; name?: string }>> {
    const deletes = ops.filter((op) => this.namedDelete(op));
    const out = new Map<number, { mod: number; name?: string }>();
    if (deletes.length === 0) return out;
    try {
      const res = await this.unsent(() => this.client.kv.txn({ compare: [], success: deletes.map((op) => range(op.key)), failure: [] }, deadline(this.timeoutMs)));
      deletes.forEach((op, i) => {
        const kv = res.responses[i].response_range.kvs[0];
        if (!kv) out.set(op.index, { mod: 0 });
        else out.set(op.index, { mod: Number(kv.mod_revision), name: nameOf(op.kind, decode(kv.value, 0)) });
      });
      return out;
    } catch (e) {
      throw translateEtcdError(e, `read ${deletes.length} objects to delete`);
    }
  }

  private txn(ops: PreparedOp[], names: Map<number, { mod: number; name?: string }>): { compare: ICompare[]; success: IRequestOp[]; failure: IRequestOp[] } {
    const compare: ICompare[] = [];
    const success: IRequestOp[] = [];
    const failure: IRequestOp[] = [];
    const exists = (key: string) => cmp(key, 'Create', 'Greater', { create_revision: 0 });
    for (const op of ops) {
      failure.push(range(op.key));
      if (op.op === 'create') {
        compare.push(cmp(op.key, 'Create', 'Equal', { create_revision: 0 }));
        success.push({ request_put: { key: b(op.key), value: b(op.value as string) } });
        if (op.name !== undefined) {
          const nk = nameKey(op.kind, op.name);
          compare.push(cmp(nk, 'Create', 'Equal', { create_revision: 0 }));
          success.push({ request_put: { key: b(nk), value: b(op.id) } });
          failure.push(range(nk));
        }
      } else if (op.op === 'update') {
        compare.push(op.expect !== undefined ? cmp(op.key, 'Mod', 'Equal', { mod_revision: op.expect }) : exists(op.key));
        if (op.name !== undefined) compare.push(cmp(nameKey(op.kind, op.name), 'Value', 'Equal', { value: b(op.id) }));
        success.push({ request_put: { key: b(op.key), value: b(op.value as string) } });
      } else {
        const read = names.get(op.index);
        // a named delete compares with what it read, so the name it frees is the stored one
        compare.push(read ? cmp(op.key, 'Mod', 'Equal', { mod_revision: read.mod }) : op.expect !== undefined ? cmp(op.key, 'Mod', 'Equal', { mod_revision: op.expect }) : exists(op.key));
        success.push({ request_delete_range: { key: b(op.key) } });
        if (read?.name !== undefined) success.push({ request_delete_range: { key: b(nameKey(op.kind, read.name)) } });
      }
    }
    return { compare, success, failure };
  }

  /** Which ops made a txn fail (from its failure branch's reads), and which only raced a read. */
  private explain(ops: PreparedOp[], res: ITxnResponse, names: Map<number, { mod: number; name?: string }>): { failed: Map<number, ShoalError>; raced: Set<number> } {
    const failed = new Map<number, ShoalError>();
    const raced = new Set<number>();
    let i = 0;
    for (const op of ops) {
      const kv = res.responses[i++].response_range.kvs[0];
      const cur: Current = kv ? { object: decode(kv.value, Number(kv.mod_revision)), mod: Number(kv.mod_revision) } : { mod: 0 };
      let owner: string | undefined;
      if (op.op === 'create' && op.name !== undefined) owner = res.responses[i++].response_range.kvs[0]?.value.toString();
      const err = checkOp(op, cur, owner);
      if (err) failed.set(op.index, err);
      else if (op.op === 'delete' && names.has(op.index) && names.get(op.index)?.mod !== cur.mod) raced.add(op.index);
      else if (op.op === 'update' && op.name !== undefined) failed.set(op.index, internal(`the name index of ${noun(op.kind)} ${op.id} does not match its name "${op.name}"`));
    }
    return { failed, raced };
  }

  private checkOpen(): void {
    if (this.closed) throw precondition('the store is closed');
  }
}

function add(a: Sized, s: Sized): Sized {
  return { compares: a.compares + s.compares, success: a.success + s.success, bytes: a.bytes + s.bytes };
}

function toEvent(type: 'Put' | 'Delete', kv: IKeyValue, prev: IKeyValue | undefined, wanted: ReadonlySet<Kind>): StoreEvent | undefined {
  const at = parseKey(kv.key.toString());
  if (!at || !wanted.has(at.kind)) return undefined;
  const revision = Number(kv.mod_revision);
  if (type === 'Put') return { kind: at.kind, type: 'put', id: at.id, object: decode(kv.value, revision), created: kv.create_revision === kv.mod_revision, revision };
  return { kind: at.kind, type: 'delete', id: at.id, object: prev ? decode(prev.value, Number(prev.mod_revision)) : undefined, revision };
}
