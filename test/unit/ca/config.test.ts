import assert from 'node:assert/strict';
import { isShoalError } from '../../../shared/errors';
import { DEFAULT_NODE_CERT_EXPIRY_MS, MIN_CERT_EXPIRY_ENV, minNodeCertExpiryMs, nodeCertExpiryMs, validateCAConfig } from '../../../manager/ca';

const refused = (re: RegExp) => (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && re.test(e.message) && !e.message.includes('\n');
const HOUR_NS = 3600e9;

describe('CA config: validation and expiry', () => {
  it("refuses an expiry under Docker's one hour, in one line naming the field and both durations", () => {
    assert.throws(() => validateCAConfig({ NodeCertExpiry: 30 * 60e9 }, {}), refused(/^invalid CAConfig\.NodeCertExpiry: 30m0s is below the minimum certificate expiry time, 1h0m0s$/));
    assert.throws(() => validateCAConfig({ NodeCertExpiry: HOUR_NS - 1 }, {}), refused(/NodeCertExpiry/));
  });

  it('accepts one hour and more; zero or unset means the default', () => {
    for (const NodeCertExpiry of [HOUR_NS, 2160 * HOUR_NS, 0, undefined]) validateCAConfig({ NodeCertExpiry }, {});
    validateCAConfig(undefined, {});
    validateCAConfig(null, {});
  });

  it('refuses an expiry that is not a whole non-negative number of nanoseconds', () => {
    for (const NodeCertExpiry of [-HOUR_NS, 1.5 * HOUR_NS + 0.5, '2h' as unknown as number]) assert.throws(() => validateCAConfig({ NodeCertExpiry }, {}), refused(/CAConfig\.NodeCertExpiry: want a non-negative whole number/));
  });

  it('the test-only environment variable lowers the minimum, and only a positive number does', () => {
    assert.equal(minNodeCertExpiryMs({}), 3600_000);
    assert.equal(minNodeCertExpiryMs({ [MIN_CERT_EXPIRY_ENV]: '5000' }), 5000);
    for (const v of ['', '0', '-3', 'soon']) assert.equal(minNodeCertExpiryMs({ [MIN_CERT_EXPIRY_ENV]: v }), 3600_000, v);
    validateCAConfig({ NodeCertExpiry: 20e9 }, { [MIN_CERT_EXPIRY_ENV]: '5000' });
    assert.throws(() => validateCAConfig({ NodeCertExpiry: 2e9 }, { [MIN_CERT_EXPIRY_ENV]: '5000' }), refused(/2s is below the minimum certificate expiry time, 5s/));
  });

  it('refuses a negative ForceRotate, a key without its certificate, and external CAs', () => {
    assert.throws(() => validateCAConfig({ ForceRotate: -1 }, {}), refused(/CAConfig\.ForceRotate/));
    assert.throws(() => validateCAConfig({ SigningCAKey: 'k' }, {}), refused(/SigningCAKey needs its SigningCACert/));
    assert.throws(() => validateCAConfig({ ExternalCAs: [{ Protocol: 'cfssl', URL: 'https://ca' }] }, {}), refused(/CAConfig\.ExternalCAs: external CAs are not supported/));
    validateCAConfig({ ExternalCAs: [], ForceRotate: 3 }, {});
  });

  it('the expiry a spec sets, in ms', () => {
    assert.equal(nodeCertExpiryMs({ CAConfig: { NodeCertExpiry: 2 * HOUR_NS } }), 2 * 3600_000);
    assert.equal(nodeCertExpiryMs({ CAConfig: { NodeCertExpiry: 0 } }), DEFAULT_NODE_CERT_EXPIRY_MS);
    assert.equal(nodeCertExpiryMs({}), DEFAULT_NODE_CERT_EXPIRY_MS);
    assert.equal(nodeCertExpiryMs(undefined), DEFAULT_NODE_CERT_EXPIRY_MS);
  });
});
