import assert from 'node:assert/strict';
import { checkOp, decode, encode, prepareBatch, type PreparedOp } from '../../../manager/store/ops';
import { KnownObjects } from '../../../manager/store/known';
import type { BatchOp, StoredObject } from '../../../manager/store';
import { ShoalError } from '../../../shared/errors';

const NOW = '2026-01-02T03:04:05.000Z';
const codeOf = (p: PreparedOp | ShoalError) => (p instanceof ShoalError ? p.code : 'ok');

describe('store operations', () => {
  it('stores JSON without Version and sets Version from the mod revision on read', () => {
    const text = encode({ ID: 'a', Version: { Index: 9 }, Spec: { x: 1 } });
    assert.deepEqual(JSON.parse(text), { ID: 'a', Spec: { x: 1 } });
    assert.deepEqual(decode(text, 42), { ID: 'a', Spec: { x: 1 }, Version: { Index: 42 } });
  });

  it('stamps CreatedAt on create (unless given) and UpdatedAt on every write', () => {
    const [c, u] = prepareBatch(
      [
        { op: 'create', kind: 'tasks', object: { ID: 't1', Spec: {} } },
        { op: 'update', kind: 'tasks', object: { ID: 't2', Version: { Index: 3 }, CreatedAt: 'earlier', Spec: {} } },
      ],
      NOW,
    ) as PreparedOp[];
    assert.equal(c.object?.CreatedAt, NOW);
    assert.equal(c.object?.UpdatedAt, NOW);
    assert.equal(u.object?.CreatedAt, 'earlier');
    assert.equal(u.object?.UpdatedAt, NOW);
    assert.equal(u.expect, 3);
    assert.equal(u.object?.Version, undefined);
  });

  it('checks each operation on its own and names what is wrong', () => {
    const ops = [
      { op: 'create', kind: 'tasks', object: { ID: 'ok1' } },
      { op: 'update', kind: 'tasks', object: { ID: 'noversion' } },
      { op: 'update', kind: 'tasks', object: { ID: 'forced' }, force: true },
      { op: 'delete', kind: 'tasks', id: 'ok1' },
      { op: 'delete', kind: 'nodes', id: 'n1', version: 0 },
      { op: 'move', kind: 'tasks', id: 'x' },
      { op: 'create', kind: 'services', object: { ID: 's1', Spec: { Name: 'web' } } },
      { op: 'create', kind: 'services', object: { ID: 's2', Spec: { Name: 'web' } } },
    ] as unknown as BatchOp[];
    const out = prepareBatch(ops, NOW);
    assert.deepEqual(out.map(codeOf), ['ok', 'INVALID_ARGUMENT', 'ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'ok', 'ALREADY_EXISTS']);
    const msg = (i: number) => (out[i] as ShoalError).message;
    assert.match(msg(1), /task noversion: Version.Index undefined must be a positive whole number/);
    assert.match(msg(3), /changes task ok1 more than once/);
    assert.match(msg(4), /node n1: version 0/);
    assert.match(msg(5), /unknown op "move"/);
    assert.match(msg(7), /name "web"/);
  });

  it('decides whether an operation applies to what is stored', () => {
    const [create, update, del, named] = prepareBatch(
      [
        { op: 'create', kind: 'tasks', object: { ID: 't1' } },
        { op: 'update', kind: 'tasks', object: { ID: 't2', Version: { Index: 5 } } },
        { op: 'delete', kind: 'tasks', id: 't3', version: 7 },
        { op: 'update', kind: 'services', object: { ID: 's1', Version: { Index: 2 }, Spec: { Name: 'new' } } },
      ],
      NOW,
    ) as PreparedOp[];
    const stored = (mod: number, extra: Partial<StoredObject> = {}) => ({ object: { ID: 'x', Version: { Index: mod }, ...extra }, mod });
    assert.equal(checkOp(create, { mod: 0 }), undefined);
    assert.equal(checkOp(create, stored(4))?.code, 'ALREADY_EXISTS');
    assert.equal(checkOp(update, stored(5)), undefined);
    const stale = checkOp(update, stored(6));
    assert.equal(stale?.code, 'CONFLICT');
    assert.match(stale?.message ?? '', /^update out of sequence: task t2 is at version 6, not 5; re-read it/);
    assert.equal(checkOp(update, { mod: 0 })?.code, 'NOT_FOUND');
    assert.equal(checkOp(del, stored(7)), undefined);
    assert.equal(checkOp(del, stored(8))?.code, 'CONFLICT');
    assert.equal(checkOp(del, { mod: 0 })?.code, 'NOT_FOUND');
    assert.match(checkOp(named, stored(2, { Spec: { Name: 'old' } }))?.message ?? '', /name cannot change \(it is "old", not "new"\)/);
  });
});

describe('watch re-list difference', () => {
  const o = (ID: string, v: number) => ({ ID, Version: { Index: v } });
  it('yields puts for new and changed objects and deletes for vanished ones, nothing for the unchanged', () => {
    const known = new KnownObjects({ tasks: [o('a', 1), o('b', 2), o('c', 3)], nodes: [o('n', 1)] });
    known.apply({ kind: 'tasks', type: 'put', id: 'd', object: o('d', 4), created: true, revision: 4 });
    const evs = known.diff({ tasks: [o('a', 1), o('b', 9), o('d', 4), o('e', 9)], nodes: [] }, 9);
    assert.deepEqual(
      evs.map((e) => [e.kind, e.type, e.id, e.type === 'put' ? e.created : null, e.revision]),
      [
        ['tasks', 'put', 'b', false, 9],
        ['tasks', 'put', 'e', true, 9],
        ['tasks', 'delete', 'c', null, 9],
        ['nodes', 'delete', 'n', null, 9],
      ],
    );
    assert.deepEqual(known.diff({ tasks: [o('a', 1), o('b', 9), o('d', 4), o('e', 9)], nodes: [] }, 10), [], 'a second diff of the same list is empty');
  });
});
