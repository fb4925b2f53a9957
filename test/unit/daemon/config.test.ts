import assert from 'node:assert/strict';
import { compileConfig, compileInsecureRegistries } from '../../../worker/daemon/config';

describe('daemon config compilation', () => {
  it('fills in dockerd-like defaults', () => {
    const c = compileConfig({});
    assert.equal(c.dataRoot, '/var/lib/shoal');
    assert.equal(c.execRoot, '/run/shoal');
    assert.deepEqual(c.listeners, [{ kind: 'unix', address: '/run/shoal/shoal.sock' }]);
    assert.equal(c.runtime, 'crun');
    assert.deepEqual(c.bridge, { name: 'shoal0', cidr: '172.17.0.1/16' });
  });
  it('puts the default socket under a custom exec root, so daemons can run side by side', () => {
    const c = compileConfig({ 'data-root': '/d/a', 'exec-root': '/r/a' });
    assert.deepEqual(c.listeners, [{ kind: 'unix', address: '/r/a/shoal.sock' }]);
  });
  it('merges the file and the flags', () => {
    const c = compileConfig({ 'log-level': 'debug', tlsverify: true }, { 'data-root': '/x', hosts: ['tcp://127.0.0.1:2376'] });
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.dataRoot, '/x');
    assert.deepEqual(c.listeners, [{ kind: 'tcp', address: '127.0.0.1:2376' }]);
  });
  it('refuses a key given both as a flag and in the file, as dockerd does', () => {
    assert.throws(() => compileConfig({ 'data-root': '/a' }, { 'data-root': '/b' }), /specified both as a flag and in the configuration file: data-root/);
  });
  it('rejects bad values with a message naming them', () => {
    assert.throws(() => compileConfig({ 'log-level': 'loud' }), /invalid log level 'loud'/);
    assert.throws(() => compileConfig({ 'default-runtime': 'kata' }), /unknown runtime 'kata'/);
    assert.throws(() => compileConfig({ bip: '172.17.0.1' }), /invalid bip/);
    assert.throws(() => compileConfig({ bridge: 'a-very-long-bridge-name' }), /invalid bridge name/);
  });

  describe('insecure-registries', () => {
    it('defaults to none (loopback registries are reached over http regardless)', () => {
      assert.deepEqual(compileConfig({}).insecureRegistries, []);
    });
    it('takes hosts, host:port and IPv4 CIDRs from the flags or the file', () => {
      assert.deepEqual(compileConfig({ 'insecure-registries': ['10.99.1.0/24', 'reg.lan:5000', 'reg.lan', '[fd00::1]:5000'] }).insecureRegistries, ['10.99.1.0/24', 'reg.lan:5000', 'reg.lan', '[fd00::1]:5000']);
      assert.deepEqual(compileConfig({}, { 'insecure-registries': ['10.0.0.0/8'] }).insecureRegistries, ['10.0.0.0/8']);
    });
    it('drops repeated entries', () => {
      assert.deepEqual(compileInsecureRegistries(['a:5000', 'a:5000']), ['a:5000']);
    });
    it('refuses the key both as a flag and in the file', () => {
      assert.throws(() => compileConfig({ 'insecure-registries': ['a'] }, { 'insecure-registries': ['b'] }), /specified both .*: insecure-registries/);
    });
    it('rejects bad values with a message naming the entry', () => {
      assert.throws(() => compileInsecureRegistries(['http://reg:5000']), /invalid insecure-registry 'http:\/\/reg:5000': .*without a scheme/);
      assert.throws(() => compileInsecureRegistries(['10.0.0.0/33']), /invalid insecure-registry '10.0.0.0\/33': expected an IPv4 CIDR/);
      assert.throws(() => compileInsecureRegistries(['300.0.0.0/8']), /invalid insecure-registry '300.0.0.0\/8'/);
      assert.throws(() => compileInsecureRegistries(['reg.lan:5000/path']), /invalid insecure-registry/);
      assert.throws(() => compileInsecureRegistries(['reg.lan:99999']), /invalid insecure-registry 'reg.lan:99999': expected host\[:port\]/);
      assert.throws(() => compileInsecureRegistries(['bad host']), /invalid insecure-registry 'bad host'/);
      assert.throws(() => compileInsecureRegistries('10.0.0.0/8'), /insecure-registries: expected a list/);
    });
  });
});
