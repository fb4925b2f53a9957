import assert from 'node:assert/strict';
import { inUseMessage, payloadFilter, SECRETS, CONFIGS } from '../../../manager/api';
import type { StoredPayload } from '../../../manager/secrets';
import type { Service } from '../../../shared/swarm';

const obj = (ID: string, Name: string, Labels: Record<string, string> = {}): StoredPayload => ({ ID, CreatedAt: '', UpdatedAt: '', Spec: { Name, Labels } });
const svc = (name: string, c: Record<string, unknown>): Service => ({ ID: `id-${name}`, Spec: { Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox', ...c } } } }) as Service;

describe('secrets API: list filters and the in-use refusal', () => {
  const items = [obj('abc1', 'db-pass', { env: 'prod' }), obj('abd2', 'db-user'), obj('xyz3', 'api-key', { env: 'dev' })];
  const names = (f: Record<string, string[]>) => items.filter(payloadFilter(new Map(Object.entries(f)))).map((o) => o.Spec.Name);

  it('name is a prefix, names exact, id a prefix; these are alternatives; labels must all hold', () => {
    assert.deepEqual(names({}), ['db-pass', 'db-user', 'api-key']);
    assert.deepEqual(names({ name: ['db'] }), ['db-pass', 'db-user']);
    assert.deepEqual(names({ names: ['db'] }), []);
    assert.deepEqual(names({ names: ['db-user', 'api-key'] }), ['db-user', 'api-key']);
    assert.deepEqual(names({ id: ['ab'] }), ['db-pass', 'db-user']);
    assert.deepEqual(names({ id: ['xyz'], name: ['db-p'] }), ['db-pass', 'api-key']);
    assert.deepEqual(names({ label: ['env'] }), ['db-pass', 'api-key']);
    assert.deepEqual(names({ label: ['env=dev'], name: ['a'] }), ['api-key']);
    assert.throws(() => names({ driver: ['x'] }), /invalid filter 'driver'/);
  });

  it('names the services that use a secret or config', () => {
    const services = [
      svc('web', { Secrets: [{ SecretID: 'abc1', SecretName: 'db-pass', File: { Name: 'p' } }], Configs: [{ ConfigID: 'abc1', ConfigName: 'x', File: { Name: 'x' } }] }),
      svc('api', { Secrets: [{ SecretID: 'abc1', SecretName: 'db-pass', File: { Name: 'p' } }] }),
      svc('idle', {}),
    ];
    assert.equal(inUseMessage(SECRETS, items[0], services), "secret 'db-pass' is in use by the following services: web, api");
    assert.equal(inUseMessage(CONFIGS, obj('abc1', 'x'), services), "config 'x' is in use by the following service: web");
    assert.equal(inUseMessage(SECRETS, items[1], services), undefined);
  });
});
