// The decisions of a node's certificate loop, without I/O: what it holds, when its
// certificate is due, and whether what the managers want differs from what it holds.
import { sameCertificates, CERT_BACKDATE_MS, type IssuerInfo } from '../../../shared/rpc/pki';
import { verifyNodeCertificate, type NodeCertificateState, type NodeCredentials, type NodeRole } from '../../../shared/rpc';
import { renewalDelayMs } from '../enroll/renew';

export interface HeldCertificate {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  notBefore: Date;
  notAfter: Date;
  issuer: IssuerInfo;
  /** PEM of the root(s) the node trusts. */
  trustRoot: string;
}

/** What the node's credentials hold (PERMISSION_DENIED when the certificate does not verify against its own root, e.g. expired). */
export function heldCertificate(creds: NodeCredentials, now: Date = new Date()): HeldCertificate {
  const c = verifyNodeCertificate(creds.certPem, creds.caPem, { now });
  return { nodeId: c.nodeId, role: c.role, clusterId: c.clusterId, notBefore: c.notBefore, notAfter: c.notAfter, issuer: c.issuer, trustRoot: creds.caPem };
}

/**
 * Why the node must renew now to hold what the managers want, or undefined when it already
 * does. The root comes first: a node trusting an old root also needs the new one's
 * certificate, and one renewal brings both.
 */
export function renewalReason(held: HeldCertificate, want: NodeCertificateState): string | undefined {
  if (want.trustRoot && !sameCertificates(held.trustRoot, want.trustRoot)) return 'the cluster root CA changed';
  if (want.issuerSubject && (held.issuer.subject !== want.issuerSubject || held.issuer.publicKey !== want.issuerPublicKey)) return want.rotating ? 'the root CA is being rotated' : 'the certificate is from another CA than the one that signs now';
  if (want.role && held.role !== want.role) return `the node's role changed to ${want.role}`;
  return undefined;
}

/**
 * When the certificate is due (ms from now): a random point between 50% and 80% of its
 * lifetime, counted from when it was issued (CERT_BACKDATE_MS after notBefore).
 */
export function nextRenewalMs(held: Pick<HeldCertificate, 'notBefore' | 'notAfter'>, now: Date = new Date(), random: () => number = Math.random): number {
  return renewalDelayMs(held.notBefore, held.notAfter, now, random, CERT_BACKDATE_MS);
}

/** Backoff after failed renewals in a row: 1 s doubling up to 5 minutes, jittered (the session's backoffMs). */
export const RENEWAL_RETRY = { initialMs: 1000, maxMs: 5 * 60_000 };
