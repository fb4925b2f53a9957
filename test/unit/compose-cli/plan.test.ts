import assert from 'node:assert/strict';
import { configHash, orphans, planService, stableStringify, type ObservedContainer } from '../../../cli/compose';

const c = (service: string, number: number, more: Partial<ObservedContainer> = {}): ObservedContainer => ({ id: `${service}${number}`, name: `p-${service}-${number}`, service, number, hash: 'h1', imageId: 'img1', running: true, ...more });
const kinds = (actions: ReturnType<typeof planService>) => actions.map((a) => (a.kind === 'remove' ? `remove ${a.container.number}` : `${a.kind} ${a.number}`));

describe('compose-cli: config hash', () => {
  it('is independent of key order and changes with any value', () => {
    assert.equal(stableStringify({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }), '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    const a = { Image: 'busybox', Env: ['A=1'], HostConfig: { RestartPolicy: { Name: 'no' } } };
    const b = { HostConfig: { RestartPolicy: { Name: 'no' } }, Env: ['A=1'], Image: 'busybox' };
    assert.equal(configHash(a), configHash(b));
    assert.match(configHash(a), /^[0-9a-f]{64}$/);
    assert.notEqual(configHash(a), configHash({ ...a, Env: ['A=2'] }));
  });
});

describe('compose-cli: planService', () => {
  const want = { name: 'web', replicas: 2, hash: 'h1', imageId: 'img1' };

  const cases: Array<[string, ObservedContainer[], typeof want, object, string[]]> = [
    ['nothing yet: create every number', [], want, {}, ['create 1', 'create 2']],
    ['unchanged and running: keep', [c('web', 1), c('web', 2)], want, {}, ['keep 1', 'keep 2']],
    ['unchanged but stopped: start', [c('web', 1, { running: false }), c('web', 2)], want, {}, ['start 1', 'keep 2']],
    ['changed config: recreate', [c('web', 1, { hash: 'old' }), c('web', 2, { hash: 'old' })], want, {}, ['recreate 1', 'recreate 2']],
    ['changed image: recreate', [c('web', 1, { imageId: 'img0' }), c('web', 2)], want, {}, ['recreate 1', 'keep 2']],
    ['--force-recreate', [c('web', 1), c('web', 2)], want, { forceRecreate: true }, ['recreate 1', 'recreate 2']],
    ['--no-recreate keeps a changed one', [c('web', 1, { hash: 'old' }), c('web', 2, { hash: 'old', running: false })], want, { noRecreate: true }, ['keep 1', 'start 2']],
    ['scale down removes the highest numbers', [c('web', 1), c('web', 2), c('web', 3), c('web', 4)], want, {}, ['keep 1', 'keep 2', 'remove 4', 'remove 3']],
    ['a gap is filled', [c('web', 2)], want, {}, ['create 1', 'keep 2']],
    ['other services are not touched', [c('db', 1), c('web', 1)], { ...want, replicas: 1 }, {}, ['keep 1']],
    ['replicas 0 removes all', [c('web', 1)], { ...want, replicas: 0 }, {}, ['remove 1']],
  ];
  for (const [title, have, w, opts, expected] of cases) it(title, () => assert.deepEqual(kinds(planService(w, have, opts)), expected));

  it('finds orphans: containers of services the file no longer has', () => {
    assert.deepEqual(orphans([c('web', 1), c('old', 1), c('db', 1)], ['web', 'db']).map((x) => x.name), ['p-old-1']);
  });
});
