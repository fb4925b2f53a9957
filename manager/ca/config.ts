// SwarmSpec.CAConfig as the CA reads it: validation (one line naming the field, Docker's
// limits) and the node certificate expiry it sets. Light on purpose (no X.509 library): the
// swarm API validates specs with it on nodes that are not managers too.
import { invalid } from '../../shared/errors';
import type { SwarmSpec } from '../../shared/swarm';
import { goDuration } from '../../cli/format/swarm';

export type CAConfig = NonNullable<SwarmSpec['CAConfig']>;

/** Docker's default SwarmSpec.CAConfig.NodeCertExpiry: 90 days. */
export const DEFAULT_NODE_CERT_EXPIRY_MS = 90 * 24 * 60 * 60 * 1000;

/** Docker's (swarmkit's) shortest node certificate lifetime: one hour. */
export const MIN_NODE_CERT_EXPIRY_MS = 60 * 60 * 1000;

/**
 * For tests only: a shorter minimum, in milliseconds, so that a test can watch certificates
 * renew within seconds. Read by the daemon at each check; never set it in production.
 */
export const MIN_CERT_EXPIRY_ENV = 'SHOAL_TEST_MIN_CERT_EXPIRY_MS';

export function minNodeCertExpiryMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[MIN_CERT_EXPIRY_ENV]);
  return Number.isFinite(v) && v > 0 && env[MIN_CERT_EXPIRY_ENV]?.trim() ? v : MIN_NODE_CERT_EXPIRY_MS;
}

/**
 * Refuse a CAConfig Docker refuses: an expiry under the minimum (or not a whole number of
 * nanoseconds), a negative ForceRotate, a signing key without its certificate, external CAs
 * (shoal signs node certificates itself).
 */
export function validateCAConfig(ca: SwarmSpec['CAConfig'], env: NodeJS.ProcessEnv = process.env): void {
  if (!ca) return;
  const expiry = ca.NodeCertExpiry;
  if (expiry !== undefined && expiry !== 0) {
    if (typeof expiry !== 'number' || !Number.isInteger(expiry) || expiry < 0) throw invalid(`invalid CAConfig.NodeCertExpiry: want a non-negative whole number of nanoseconds, got ${JSON.stringify(expiry)}`);
    const min = minNodeCertExpiryMs(env);
    if (expiry / 1e6 < min) throw invalid(`invalid CAConfig.NodeCertExpiry: ${goDuration(expiry)} is below the minimum certificate expiry time, ${goDuration(min * 1e6)}`);
  }
  const force = ca.ForceRotate;
  if (force !== undefined && (typeof force !== 'number' || !Number.isInteger(force) || force < 0)) throw invalid(`invalid CAConfig.ForceRotate: want a non-negative integer, got ${JSON.stringify(force)}`);
  if (ca.SigningCAKey && !ca.SigningCACert) throw invalid('invalid CAConfig: a SigningCAKey needs its SigningCACert (docker swarm ca --rotate --ca-cert FILE --ca-key FILE)');
  if (ca.ExternalCAs?.length) throw invalid('invalid CAConfig.ExternalCAs: external CAs are not supported; the managers sign node certificates (give --ca-cert with --ca-key instead)');
}

/** The node certificate lifetime a spec sets, in ms (0 or unset: Docker's 90 days). */
export function nodeCertExpiryMs(spec: SwarmSpec | undefined): number {
  const ns = spec?.CAConfig?.NodeCertExpiry;
  return typeof ns === 'number' && ns > 0 ? ns / 1e6 : DEFAULT_NODE_CERT_EXPIRY_MS;
}
