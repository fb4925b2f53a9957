import assert from 'node:assert/strict';
import { checkId, kindPrefix, nameKey, nameOf, objectKey, parseKey, prefixEnd, watchRange } from '../../../manager/store/keys';
import { KINDS } from '../../../manager/store';
import { isShoalError } from '../../../shared/errors';

describe('store key layout', () => {
  it('puts objects at /shoal/v1/<kind>/<id> and parses them back', () => {
    assert.equal(objectKey('services', 'abc123'), '/shoal/v1/services/abc123');
    assert.equal(kindPrefix('tasks'), '/shoal/v1/tasks/');
    for (const kind of KINDS) assert.deepEqual(parseKey(objectKey(kind, 'x.y_z-1')), { kind, id: 'x.y_z-1' });
  });

  it('keeps the name index apart from objects', () => {
    const k = nameKey('services', 'web');
    assert.equal(k, '/shoal/v1/_names/services/web');
    assert.equal(parseKey(k), undefined);
    assert.equal(parseKey('/shoal/v1/widgets/x'), undefined);
    assert.equal(parseKey('/other/v1/tasks/x'), undefined);
    assert.equal(parseKey('/shoal/v1/tasks/'), undefined);
  });

  it('rejects IDs that would escape their key or be ambiguous', () => {
    for (const bad of ['', 'a/b', '../x', '.hidden', 'a b', 'x'.repeat(129), 'é']) {
      assert.throws(
        () => checkId('tasks', bad),
        (e) => isShoalError(e, 'INVALID_ARGUMENT') && /task ID/.test((e as Error).message),
        bad,
      );
    }
    assert.equal(checkId('nodes', 'n0de-1.a_b'), 'n0de-1.a_b');
  });

  it('computes range ends: one kind watches its prefix, several the whole root', () => {
    assert.equal(prefixEnd('/shoal/v1/tasks/'), '/shoal/v1/tasks0');
    assert.deepEqual(watchRange(['tasks']), { start: '/shoal/v1/tasks/', end: '/shoal/v1/tasks0' });
    assert.deepEqual(watchRange(['tasks', 'nodes']), { start: '/shoal/v1/', end: '/shoal/v10' });
  });

  it('requires Spec.Name on named kinds only', () => {
    assert.equal(nameOf('services', { ID: 's', Spec: { Name: 'web' } }), 'web');
    assert.equal(nameOf('tasks', { ID: 't', Spec: {} }), undefined);
    assert.throws(
      () => nameOf('secrets', { ID: 's1', Spec: {} }),
      (e) => isShoalError(e, 'INVALID_ARGUMENT') && /secret s1: Spec.Name/.test((e as Error).message),
    );
  });
});
