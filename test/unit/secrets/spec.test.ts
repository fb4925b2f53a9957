import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { validateServiceSpec } from '../../../manager/spec';
import { MAX_CONFIG_BYTES, MAX_SECRET_BYTES, validatePayloadSpec, decodeBase64 } from '../../../manager/secrets';

const bad = (message: string | RegExp) => (e: unknown) => {
  assert.ok(isShoalError(e, 'INVALID_ARGUMENT'), String(e));
  if (typeof message === 'string') assert.equal((e as Error).message, message);
  else assert.match((e as Error).message, message);
  return true;
};
const b64 = (n: number) => Buffer.alloc(n, 'x').toString('base64');

describe('secrets: spec validation (swarmkit\'s rules)', () => {
  it('accepts a name, labels and data, and decodes the data', () => {
    const s = validatePayloadSpec('secret', { Name: 'db_pass.v1-2', Labels: { env: 'prod' }, Data: 'c2VjcmV0' });
    assert.equal(s.Name, 'db_pass.v1-2');
    assert.deepEqual(s.Labels, { env: 'prod' });
    assert.equal(s.Data?.toString(), 'secret');
    assert.deepEqual(validatePayloadSpec('config', { name: 'c', data: 'eA==', labels: null }).Labels, {});
  });

  it('names: required, at most 64 of [a-zA-Z0-9-_.], starting and ending alphanumeric', () => {
    assert.throws(() => validatePayloadSpec('secret', { Data: 'eA==' }), bad('name must be provided'));
    for (const name of ['-x', 'x-', 'a b', 'a/b', 'x'.repeat(65), '.hidden', 'é']) {
      assert.throws(() => validatePayloadSpec('secret', { Name: name, Data: 'eA==' }), bad(/^invalid name, only 64 \[a-zA-Z0-9-_\.\] characters allowed/), name);
    }
    assert.equal(validatePayloadSpec('config', { Name: 'x'.repeat(64), Data: 'eA==' }).Name.length, 64);
  });

  it('data: present, below 500 KiB for secrets and 1000 KiB for configs', () => {
    assert.throws(() => validatePayloadSpec('secret', { Name: 's' }), bad(`secret data must be larger than 0 and less than ${MAX_SECRET_BYTES} bytes`));
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: '' }), bad(/secret data must be larger than 0/));
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: b64(MAX_SECRET_BYTES) }), bad(/less than 512000 bytes/));
    assert.equal(validatePayloadSpec('secret', { Name: 's', Data: b64(MAX_SECRET_BYTES - 1) }).Data?.length, MAX_SECRET_BYTES - 1);
    assert.equal(validatePayloadSpec('config', { Name: 'c', Data: b64(MAX_SECRET_BYTES) }).Data?.length, MAX_SECRET_BYTES);
    assert.throws(() => validatePayloadSpec('config', { Name: 'c', Data: b64(MAX_CONFIG_BYTES) }), bad(/config data must be larger than 0 and less than 1024000 bytes/));
    // An update may leave the data out.
    assert.equal(validatePayloadSpec('secret', { Name: 's', Labels: {} }, { update: true }).Data, undefined);
  });

  it('data must be standard padded base64 (line breaks ignored, as Go reads it)', () => {
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: 'not base64!' }), bad('invalid secret spec: Data: must be base64 (standard alphabet, padded)'));
    assert.throws(() => decodeBase64('eA', 'Data'), /must be base64/);
    assert.throws(() => decodeBase64('eA-_', 'Data'), /must be base64/);
    assert.equal(decodeBase64('aGVs\nbG8=', 'Data').toString(), 'hello');
  });

  it('unknown fields, wrong types, drivers and templating are refused naming the field', () => {
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: 'eA==', Dat: 'x' }), bad(/^invalid secret spec: Dat: unknown field/));
    assert.throws(() => validatePayloadSpec('config', { Name: 's', Data: 'eA==', Driver: { Name: 'x' } }), bad(/^invalid config spec: Driver: unknown field/));
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: 'eA==', Labels: { a: 1 } }), bad('invalid secret spec: Labels.a: must be a string, got 1'));
    assert.throws(() => validatePayloadSpec('secret', { Name: 's', Data: 'eA==', Driver: { Name: 'vault' } }), bad(/^secret drivers are not supported/));
    assert.throws(() => validatePayloadSpec('config', { Name: 's', Data: 'eA==', Templating: { Name: 'golang' } }), bad(/^template drivers are not supported: config data is used as given/));
    assert.throws(() => validatePayloadSpec('secret', []), bad('invalid secret spec: must be a JSON object, got []'));
  });
});

describe('service specs: secret and config targets (swarmkit\'s reference checks)', () => {
  const svc = (c: Record<string, unknown>) => ({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', ...c } } });

  it('a secret reference needs a file target; targets of one kind must differ', () => {
    assert.throws(() => validateServiceSpec(svc({ Secrets: [{ SecretID: 'a', SecretName: 'a' }] })), bad('invalid spec: TaskTemplate.ContainerSpec.Secrets[0]: malformed secret reference, no target provided'));
    assert.throws(
      () => validateServiceSpec(svc({ Secrets: [{ SecretID: 'a', SecretName: 'a', File: { Name: 'x' } }, { SecretID: 'b', SecretName: 'b', File: { Name: 'x' } }] })),
      bad("invalid spec: TaskTemplate.ContainerSpec.Secrets[1]: secret references 'a' and 'b' have a conflicting target: 'x'"),
    );
    assert.throws(
      () => validateServiceSpec(svc({ Configs: [{ ConfigID: 'a', ConfigName: 'a', File: { Name: '/x' } }, { ConfigID: 'b', ConfigName: 'b', File: { Name: '/x' } }] })),
      bad(/config references 'a' and 'b' have a conflicting target: '\/x'/),
    );
    const ok = validateServiceSpec(svc({ Secrets: [{ SecretID: 'a', SecretName: 'a', File: { Name: 'x' } }], Configs: [{ ConfigID: 'b', ConfigName: 'b', File: { Name: 'x' } }] }));
    assert.equal(ok.TaskTemplate?.ContainerSpec?.Secrets?.length, 1);
  });
});
