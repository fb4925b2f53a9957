import assert from 'node:assert/strict';
import { globToRegExp, referenceMatches, listFilter, pruneFilter, danglingFilter, checkFilterKeys, parseFilterTime, type FilterableImage } from '../../../worker/engine/images/filters';

const img = (refs: string[], created: number, labels: Record<string, string> = {}): FilterableImage => ({ id: 'sha256:x', refs, created, labels });
const f = (o: Record<string, string[]>) => new Map(Object.entries(o));
const none = () => {
  throw new Error('not used');
};

describe('images/filters', () => {
  it('matches references like docker (familiar name or name:tag, * not crossing /)', () => {
    assert.ok(referenceMatches('busybox', 'docker.io/library/busybox:latest'));
    assert.ok(referenceMatches('busybox:lat*', 'docker.io/library/busybox:latest'));
    assert.ok(!referenceMatches('busy', 'docker.io/library/busybox:latest'));
    assert.ok(referenceMatches('foo/*', 'docker.io/foo/bar:1'));
    assert.ok(!referenceMatches('*', 'docker.io/foo/bar:1'));
    assert.ok(referenceMatches('localhost:5000/*:v[0-9]', 'localhost:5000/app:v1'));
    assert.ok(globToRegExp('a?c').test('abc'));
  });

  it('filters the image list', () => {
    const tagged = img(['docker.io/library/busybox:latest', 'docker.io/foo/bar:1'], 2000, { a: 'b' });
    const dangling = img([], 1000);
    const created = (r: string) => (r === 'old' ? 1500 : 0);
    assert.deepEqual(listFilter(tagged, f({ reference: ['foo/*'] }), none), { keep: true, refs: ['docker.io/foo/bar:1'] });
    assert.equal(listFilter(tagged, f({ reference: ['nope'] }), none).keep, false);
    assert.equal(listFilter(tagged, f({ dangling: ['true'] }), none).keep, false);
    assert.equal(listFilter(dangling, f({ dangling: ['true'] }), none).keep, true);
    assert.equal(listFilter(dangling, f({ dangling: ['false'] }), none).keep, false);
    assert.equal(listFilter(tagged, f({ label: ['a'] }), none).keep, true);
    assert.equal(listFilter(tagged, f({ label: ['a=c'] }), none).keep, false);
    assert.equal(listFilter(tagged, f({ since: ['old'] }), created).keep, true);
    assert.equal(listFilter(dangling, f({ since: ['old'] }), created).keep, false);
    assert.equal(listFilter(dangling, f({ before: ['old'] }), created).keep, true);
  });

  it('validates filter keys and dangling values', () => {
    assert.throws(() => checkFilterKeys(f({ bogus: ['1'] }), 'list'), /invalid filter 'bogus'/);
    assert.throws(() => checkFilterKeys(f({ reference: ['x'] }), 'prune'), /invalid filter 'reference'/);
    assert.equal(danglingFilter(f({ dangling: ['1'] })), true);
    assert.equal(danglingFilter(f({})), undefined);
    assert.throws(() => danglingFilter(f({ dangling: ['maybe'] })), /invalid filter/);
  });

  it('applies prune filters until and label!', () => {
    const now = 10_000_000;
    const i = img([], now - 7200_000, { keep: 'yes' });
    assert.equal(pruneFilter(i, f({ until: ['1h'] }), now), true);
    assert.equal(pruneFilter(i, f({ until: ['3h'] }), now), false);
    assert.equal(pruneFilter(i, f({ 'label!': ['keep'] }), now), false);
    assert.equal(pruneFilter(i, f({ label: ['keep=yes'] }), now), true);
    assert.equal(parseFilterTime('1700000000'), 1700000000_000);
    assert.equal(parseFilterTime('2m30s', 1_000_000), 1_000_000 - 150_000);
    assert.throws(() => parseFilterTime('soon'), /invalid filter/);
  });
});
