import assert from 'node:assert/strict';
import { basicHeader, decodeRegistryAuth, encodeRegistryAuth, parseWwwAuthenticate, repositoryScope } from '../../../worker/engine/registry';

describe('registry auth: WWW-Authenticate', () => {
  it('parses a Bearer challenge with realm, service and scope', () => {
    const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
  });

  it('parses a Basic challenge and is case-insensitive on scheme and keys', () => {
    assert.deepEqual(parseWwwAuthenticate('BASIC Realm="basic-realm"'), [{ scheme: 'basic', params: { realm: 'basic-realm' } }]);
  });

  it('keeps commas and escaped quotes inside quoted values, and accepts unquoted values', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://h/t",scope="repository:a:pull,push",error=insufficient_scope,x="say \\"hi\\""');
    assert.equal(c.params.scope, 'repository:a:pull,push');
    assert.equal(c.params.error, 'insufficient_scope');
    assert.equal(c.params.x, 'say "hi"');
  });

  it('splits several challenges in one header and across headers', () => {
    const c = parseWwwAuthenticate(['Basic realm="a", Bearer realm="b",service="s"', 'Negotiate']);
    assert.deepEqual(
      c.map((x) => [x.scheme, x.params]),
      [
        ['basic', { realm: 'a' }],
        ['bearer', { realm: 'b', service: 's' }],
        ['negotiate', {}],
      ],
    );
  });

  it('gives nothing for an absent or empty header and survives garbage', () => {
    assert.deepEqual(parseWwwAuthenticate(null), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.ok(Array.isArray(parseWwwAuthenticate('=,="x" ;; Bearer realm="r')));
    assert.equal(parseWwwAuthenticate('=,="x" ;; Bearer realm="r').find((c) => c.scheme === 'bearer')?.params.realm, 'r');
  });
});

describe('registry auth: X-Registry-Auth', () => {
  it('decodes base64url JSON with username/password/serveraddress', () => {
    const h = Buffer.from(JSON.stringify({ username: 'u', password: 'p?>>', serveraddress: '127.0.0.1:5000' })).toString('base64url');
    assert.deepEqual(decodeRegistryAuth(h), { username: 'u', password: 'p?>>', serveraddress: '127.0.0.1:5000' });
  });

  it('accepts standard base64 with padding too', () => {
    const h = Buffer.from(JSON.stringify({ identitytoken: 'tok~~~' })).toString('base64');
    assert.deepEqual(decodeRegistryAuth(h), { identitytoken: 'tok~~~' });
  });

  it('round-trips what encodeRegistryAuth makes', () => {
    const a = { username: 'alice', password: 'pw', serveraddress: 'r.example:443' };
    assert.deepEqual(decodeRegistryAuth(encodeRegistryAuth(a)), a);
  });

  it('splits the "auth" field into username and password', () => {
    const h = encodeRegistryAuth({ auth: Buffer.from('bob:a:b').toString('base64') });
    const got = decodeRegistryAuth(h)!;
    assert.equal(got.username, 'bob');
    assert.equal(got.password, 'a:b');
  });

  it('treats absent, empty and {} as anonymous, and drops empty fields', () => {
    assert.equal(decodeRegistryAuth(undefined), undefined);
    assert.equal(decodeRegistryAuth(''), undefined);
    assert.equal(decodeRegistryAuth('{}'), undefined);
    assert.equal(decodeRegistryAuth(encodeRegistryAuth({})), undefined);
    assert.equal(decodeRegistryAuth(Buffer.from('{"username":"","password":""}').toString('base64url')), undefined);
  });

  it('rejects what is not base64 JSON with INVALID_ARGUMENT', () => {
    assert.throws(() => decodeRegistryAuth('not base64!'), { code: 'INVALID_ARGUMENT', message: /X-Registry-Auth/ });
    assert.throws(() => decodeRegistryAuth(Buffer.from('nope').toString('base64')), { code: 'INVALID_ARGUMENT', message: /not JSON/ });
    assert.throws(() => decodeRegistryAuth(Buffer.from('[1]').toString('base64')), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => decodeRegistryAuth(Buffer.from('{"username":5}').toString('base64')), { message: /username must be a string/ });
  });

  it('builds Basic headers and scopes', () => {
    assert.equal(basicHeader({ username: 'a', password: 'b' }), 'Basic ' + Buffer.from('a:b').toString('base64'));
    assert.equal(basicHeader({ identitytoken: 'x' }), undefined);
    assert.equal(basicHeader(undefined), undefined);
    assert.equal(repositoryScope('test/busybox', ['pull', 'push']), 'repository:test/busybox:pull,push');
  });
});
