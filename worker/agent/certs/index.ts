// A node's certificate: renewed before it expires and whenever the managers want it to hold
// something else (a new root, another role).
export { NodeCertificates, type NodeCertificatesOptions, type RenewedCertificate } from './certs';
export { heldCertificate, renewalReason, nextRenewalMs, RENEWAL_RETRY, type HeldCertificate } from './plan';
