import assert from 'node:assert/strict';
import { compileConfig } from '../../../worker/daemon/config';

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
    const c = compileConfig({ 'log-level': 'debug' }, { 'data-root': '/x', hosts: ['tcp://127.0.0.1:2375'] });
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.dataRoot, '/x');
    assert.deepEqual(c.listeners, [{ kind: 'tcp', address: '127.0.0.1:2375' }]);
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
});
