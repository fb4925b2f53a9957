import assert from 'node:assert/strict';
import { capabilitiesFromMask, computeCapabilities, DEFAULT_CAPABILITIES, normalizeCapability, ALL_CAPABILITIES } from '../../../worker/engine/runtime/capabilities';
import { isShoalError } from '../../../shared/errors';

describe('runtime/capabilities', () => {
  it('normalizes names and refuses unknown ones', () => {
    assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
    assert.equal(normalizeCapability('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
    assert.equal(normalizeCapability('all'), 'ALL');
    assert.throws(() => normalizeCapability('FLY'), (e) => isShoalError(e, 'INVALID_ARGUMENT') && /unknown capability: "FLY"/.test(e.message));
  });

  it('starts from Docker defaults and applies adds and drops (drops win)', () => {
    assert.deepEqual(new Set(computeCapabilities({})), new Set(DEFAULT_CAPABILITIES));
    const c = computeCapabilities({ capAdd: ['NET_ADMIN'], capDrop: ['CHOWN', 'NET_RAW'] });
    assert.ok(c.includes('CAP_NET_ADMIN'));
    assert.ok(!c.includes('CAP_CHOWN') && !c.includes('CAP_NET_RAW'));
  });

  it('drop ALL keeps only explicit adds; add ALL minus drops', () => {
    assert.deepEqual(computeCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
    const all = computeCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] });
    assert.equal(all.length, ALL_CAPABILITIES.length - 1);
  });

  it('privileged gets what the daemon may grant, nothing more', () => {
    const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    const p = computeCapabilities({ privileged: true, available });
    assert.ok(!p.includes('CAP_SYS_RESOURCE'));
    assert.ok(p.includes('CAP_SYS_ADMIN'));
    assert.ok(!computeCapabilities({ capAdd: ['SYS_RESOURCE'], available }).includes('CAP_SYS_RESOURCE'));
  });

  it('decodes /proc status masks', () => {
    assert.deepEqual(capabilitiesFromMask('0000000000000003'), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
    assert.ok(!capabilitiesFromMask('000001fffeffffff').includes('CAP_SYS_RESOURCE'));
  });
});
