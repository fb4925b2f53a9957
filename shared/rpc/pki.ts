// X.509 for the cluster: keys, CSRs, and what a node certificate says about its holder.
// Generation uses @peculiar/x509 on Node's WebCrypto (Node has no certificate builder);
// verification uses Node's own X509Certificate (OpenSSL), which is synchronous.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { invalid, ShoalError } from '../errors';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** ECDSA P-256 with SHA-256: the algorithm for every key and signature in the cluster. */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type NodeRole = 'manager' | 'worker';

/** The certificate OU for each role (Docker's names). */
export const ROLE_OU: Record<NodeRole, string> = { manager: 'swarm-manager', worker: 'swarm-worker' };

export function roleFromOU(ou: string | undefined): NodeRole | undefined {
  if (ou === ROLE_OU.manager) return 'manager';
  if (ou === ROLE_OU.worker) return 'worker';
  return undefined;
}

/** Who holds a node certificate: CN = node ID, OU = role, O = cluster ID. */
export interface NodeIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 PEM, the form Node's TLS takes. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  let der: ArrayBuffer;
  try {
    der = x509.PemConverter.decodeFirst(pem);
  } catch (e) {
    throw invalid('invalid private key: not PEM', e);
  }
  try {
    return (await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, true, ['sign'])) as CryptoKey;
  } catch (e) {
    throw invalid('invalid private key: not an ECDSA P-256 PKCS#8 key', e);
  }
}

/** A CSR for the key pair. It names nobody: the CA decides the subject. */
export async function createCsrPem(keys: CryptoKeyPair): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: EC_ALGORITHM });
  return csr.toString('pem');
}

/** The PEM blocks of a chain, in order. */
export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function parseCertificate(pem: string, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw invalid(`invalid ${what}: not an X.509 certificate`, e);
  }
}

/** SHA-256 of the certificate's DER, lowercase hex: what a join token pins. */
export function certificateDigest(pem: string): string {
  return createHash('sha256').update(parseCertificate(pem).raw).digest('hex');
}

/** Fields of a certificate's subject, parsed with escaping handled. */
export function subjectFields(pem: string): { CN?: string; OU?: string; O?: string } {
  const name = new x509.X509Certificate(pem).subjectName;
  const one = (f: string) => name.getField(f)[0];
  return { CN: one('CN'), OU: one('OU'), O: one('O') };
}

/** The identity in a subject, or undefined when it is not a node certificate's subject. */
export function identityFromSubject(subject: { CN?: string | string[]; OU?: string | string[]; O?: string | string[] }): NodeIdentity | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);
  const nodeId = one(subject.CN);
  const role = roleFromOU(one(subject.OU));
  const clusterId = one(subject.O);
  if (!nodeId || !role || !clusterId) return undefined;
  return { nodeId, role, clusterId };
}

export interface VerifiedNodeCertificate extends NodeIdentity {
  certPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** The SubjectAltName text, as OpenSSL prints it ("DNS:x, IP Address:10.0.0.1"). */
  subjectAltName: string;
}

/**
 * Check that `chainPem` (node certificate first, then any intermediates) chains to the root
 * in `rootPem`, is valid at `now`, is not a CA, and names a node; return who it names.
 * Any failure is PERMISSION_DENIED: the holder is not a member of this cluster.
 */
export function verifyNodeCertificate(chainPem: string, rootPem: string, opts: { now?: Date; clusterId?: string } = {}): VerifiedNodeCertificate {
  const deny = (why: string) => new ShoalError('PERMISSION_DENIED', `node certificate rejected: ${why}`);
  const blocks = splitPemChain(chainPem);
  if (blocks.length === 0) throw deny('no certificate in the chain');
  const root = parseCertificate(rootPem, 'root CA certificate');
  const chain = blocks.map((b) => parseCertificate(b, 'node certificate'));
  const now = opts.now ?? new Date();
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    const issuer = chain[i + 1] ?? root;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw deny('not issued by the cluster root CA');
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) throw deny(`outside its validity (${cert.validFrom} to ${cert.validTo})`);
    if (i > 0 && !cert.ca) throw deny('an intermediate is not a CA');
  }
  const leaf = chain[0];
  if (leaf.ca) throw deny('it is a CA certificate');
  const id = identityFromSubject(subjectFields(blocks[0]));
  if (!id) throw deny('its subject does not name a node (CN, OU swarm-manager|swarm-worker, O)');
  if (opts.clusterId !== undefined && id.clusterId !== opts.clusterId) throw deny(`it belongs to cluster ${id.clusterId}`);
  return {
    ...id,
    certPem: blocks[0],
    serialNumber: leaf.serialNumber,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    subjectAltName: leaf.subjectAltName ?? '',
  };
}

/** True when the certificate's public key is the one in `keys` (a CA must not swap keys on us). */
export async function certificateMatchesKey(certPem: string, publicKey: CryptoKey): Promise<boolean> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey));
  const certSpki = parseCertificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return spki.equals(certSpki);
}
