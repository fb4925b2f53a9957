import assert from 'node:assert/strict';
import { compileConfig, defaultCertDir } from '../../../worker/daemon/config';

const TCP = 'tcp://127.0.0.1:2376';
const files = { tlscacert: '/pki/ca.pem', tlscert: '/pki/server.pem', tlskey: '/pki/server-key.pem' };

describe('daemon config compilation: TLS of the TCP API', () => {
  it('unix sockets alone need no TLS', () => {
    const c = compileConfig({ hosts: ['unix:///run/a.sock'] });
    assert.equal(c.tls, undefined);
  });

  it('--tlsverify with the three files gives them to the config, as absolute paths', () => {
    const c = compileConfig({ hosts: [TCP], tlsverify: true, ...files });
    assert.deepEqual(c.tls, files);
    assert.deepEqual(c.listeners, [{ kind: 'tcp', address: '127.0.0.1:2376' }]);
    const rel = compileConfig({ hosts: [TCP], tlsverify: true, tlscacert: 'ca.pem', tlscert: files.tlscert, tlskey: files.tlskey });
    assert.equal(rel.tls?.tlscacert, `${process.cwd()}/ca.pem`);
  });

  it('unset files default to ca.pem, cert.pem and key.pem in the cert directory, as dockerd', () => {
    const c = compileConfig({ hosts: [TCP], tlsverify: true, tlscert: '/pki/mine.pem', tlskey: '/pki/mine-key.pem' }, {}, '/etc/shoal/certs');
    assert.deepEqual(c.tls, { tlscacert: '/etc/shoal/certs/ca.pem', tlscert: '/pki/mine.pem', tlskey: '/pki/mine-key.pem' });
    assert.equal(defaultCertDir({ DOCKER_CERT_PATH: '/certs' }), '/certs');
    assert.match(defaultCertDir({}), /\/\.docker$/);
  });

  it('takes the daemon.json keys, and refuses one given both as a flag and in the file', () => {
    const c = compileConfig({}, { hosts: [TCP], tls: true, tlsverify: true, ...files });
    assert.deepEqual(c.tls, files);
    assert.throws(() => compileConfig({ tlsverify: true }, { tlsverify: true, hosts: [TCP] }), /specified both as a flag and in the configuration file: tlsverify/);
  });

  it('refuses a tcp:// host without --tlsverify, naming the host and the flag', () => {
    assert.throws(() => compileConfig({ hosts: [TCP] }), /^ShoalError: refusing to serve the API on tcp:\/\/127\.0\.0\.1:2376 without --tlsverify \(without TLS anyone who reaches the port controls the host\): add --tlsverify/);
    assert.throws(() => compileConfig({ hosts: ['unix:///run/a.sock', TCP] }, {}), /refusing to serve the API on tcp:\/\/127\.0\.0\.1:2376 without --tlsverify/);
  });

  it('refuses --tls alone on a tcp:// host (HTTPS without client authentication)', () => {
    assert.throws(() => compileConfig({ hosts: [TCP], tls: true, ...files }), /without --tlsverify \(--tls alone encrypts but lets any client in\)/);
    assert.throws(() => compileConfig({}, { hosts: [TCP], tls: true, tlsverify: false, ...files }), /without --tlsverify/);
  });

  it('refuses TLS files without --tlsverify, naming the flag', () => {
    assert.throws(() => compileConfig({ tlscert: '/pki/server.pem' }), /--tlscert takes effect only with --tlsverify/);
    assert.throws(() => compileConfig({ tls: true, tlskey: '/pki/k.pem' }), /--tlskey takes effect only with --tlsverify/);
  });

  it('refuses values of the wrong type from daemon.json, naming the key', () => {
    assert.throws(() => compileConfig({}, { tlsverify: 'yes' as unknown as boolean }), /tlsverify: expected true or false/);
    assert.throws(() => compileConfig({}, { tlsverify: true, tlscacert: 7 as unknown as string }), /--tlscacert: expected a file path/);
    assert.throws(() => compileConfig({ tlsverify: true, tlskey: '' }), /--tlskey: expected a file path/);
  });
});
