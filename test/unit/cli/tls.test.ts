import assert from 'node:assert/strict';
import { loadClientTls, resolveHost, resolveTls, HostError } from '../../../cli/host';
import { describeError } from '../../../cli/errors';
import { ShoalError } from '../../../shared/errors';

describe('cli TLS options (the docker CLI rules)', () => {
  const home = '/home/u';
  it('no flag and no environment: plain HTTP', () => {
    assert.equal(resolveTls({}, {}, home), undefined);
    assert.equal(resolveTls({}, { DOCKER_TLS_VERIFY: '' }, home), undefined);
  });

  it('--tlsverify: the server checked against ~/.docker/ca.pem, the default client pair if present', () => {
    assert.deepEqual(resolveTls({ tlsverify: true }, {}, home), { verify: true, ca: '/home/u/.docker/ca.pem', cert: '/home/u/.docker/cert.pem', key: '/home/u/.docker/key.pem', defaultPair: true });
  });

  it('DOCKER_TLS_VERIFY (any non-empty value) and DOCKER_CERT_PATH, as docker reads them', () => {
    assert.deepEqual(resolveTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }, home), { verify: true, ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', defaultPair: true });
  });

  it('flags name the files; given cert and key are no longer defaults', () => {
    const t = resolveTls({ tlsverify: true, tlscacert: '/p/ca.pem', tlscert: '/p/c.pem', tlskey: '/p/k.pem' }, { DOCKER_CERT_PATH: '/certs' }, home);
    assert.deepEqual(t, { verify: true, ca: '/p/ca.pem', cert: '/p/c.pem', key: '/p/k.pem', defaultPair: false });
  });

  it('--tls alone (or DOCKER_TLS): TLS with the system CAs unless --tlscacert is given', () => {
    assert.equal(resolveTls({ tls: true }, {}, home)?.ca, undefined);
    assert.equal(resolveTls({}, { DOCKER_TLS: '1' }, home)?.verify, false);
    assert.equal(resolveTls({ tls: true, tlscacert: '/p/ca.pem' }, {}, home)?.ca, '/p/ca.pem');
  });

  it('refuses TLS files without --tls or --tlsverify, naming the flag', () => {
    assert.throws(() => resolveTls({ tlscert: '/p/c.pem', tlskey: '/p/k.pem' }, {}, home), (e: unknown) => e instanceof HostError && /^--tlscert takes effect only with --tlsverify/.test(e.message));
  });

  it('the default port of tcp:// is 2376 with TLS, 2375 without', () => {
    assert.equal(resolveHost('tcp://10.0.0.1', {}, true), 'tcp://10.0.0.1:2376');
    assert.equal(resolveHost('tcp://10.0.0.1', {}), 'tcp://10.0.0.1:2375');
    assert.equal(resolveHost(undefined, { DOCKER_HOST: 'tcp://h:9999' }, true), 'tcp://h:9999');
  });

  it('a default client pair that is absent is not sent; a named file that is absent is an error naming its flag', () => {
    const none = () => false;
    // Only the CA is read: it is missing, and the error says which flag names it.
    assert.throws(() => loadClientTls(resolveTls({ tlsverify: true }, {}, '/nonexistent')!, none), /^ShoalError: --tlscacert \/nonexistent\/\.docker\/ca\.pem: cannot read: no such file$/);
    assert.throws(() => loadClientTls({ verify: false, cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem', defaultPair: false }, none), /--tlscert \/nonexistent\/c\.pem: cannot read: no such file/);
    assert.deepEqual(loadClientTls({ verify: false, cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem', defaultPair: true }, none), {});
  });

  it('a TLS refusal reaches the user as its own line, not as "is shoald running?"', () => {
    const r = describeError(new ShoalError('PERMISSION_DENIED', 'TLS connection to tcp://h:2376 failed: the daemon requires a client certificate'), { host: 'tcp://h:2376', runLike: false, command: 'ps' });
    assert.deepEqual(r, { message: 'TLS connection to tcp://h:2376 failed: the daemon requires a client certificate', code: 1 });
  });
});
