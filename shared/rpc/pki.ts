// X.509 for the cluster: keys, CSRs, and what a node certificate says about its holder.
// Generation uses @peculiar/x509 on Node's WebCrypto (Node has no certificate builder);
// verification uses Node's own X509Certificate (OpenSSL), which is synchronous.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
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
  /**
   * The certificate (DER) a TLS peer presented, when the identity comes from a handshake. Not
   * enumerable: it stays out of logs and of comparisons of identities.
   */
  readonly certificate?: Buffer;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 PEM, the form Node's TLS takes. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** An ECDSA P-256 private key in PEM, PKCS#8 or SEC1 ("EC PRIVATE KEY", what openssl ecparam writes). */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw invalid('invalid private key: not an unencrypted PEM private key', e);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid(`invalid private key: want ECDSA P-256, got ${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`);
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return (await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, true, ['sign'])) as CryptoKey;
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
  /** Who signed it: the CA certificate that verified it (a root or an intermediate of the chain). */
  issuer: IssuerInfo;
}

/**
 * The signer of certificates as Docker's TLSInfo names it: the raw subject and the raw public
 * key (SubjectPublicKeyInfo) of the issuing CA certificate, both DER in standard base64 (the
 * encoding of Go's []byte in JSON, which the docker CLI compares).
 */
export interface IssuerInfo {
  subject: string;
  publicKey: string;
}

/** Certificates start this long before they are issued, so a node whose clock is a little behind accepts them. */
export const CERT_BACKDATE_MS = 60 * 60 * 1000;

/** Certificates as one PEM text, one per block, each ending in a newline (PEM needs them apart). */
export function joinPem(...pems: string[]): string {
  return pems.flatMap((p) => splitPemChain(p)).map((b) => `${b}\n`).join('');
}

/** The issuer info of a CA certificate (what the certificates it signs name as their issuer). */
export function issuerInfoOf(caPem: string): IssuerInfo {
  const cert = parseCertificate(caPem, 'CA certificate');
  return { subject: Buffer.from(new x509.X509Certificate(cert.raw).subjectName.toArrayBuffer()).toString('base64'), publicKey: spkiOf(cert).toString('base64') };
}

function spkiOf(cert: X509Certificate): Buffer {
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}

/** The certificates of a PEM text (a chain or a bundle of roots). */
export function parseCertificates(pem: string, what = 'certificate'): X509Certificate[] {
  return splitPemChain(pem).map((b) => parseCertificate(b, what));
}

/** True when both PEM texts hold the same certificates in the same order, whatever their spacing. */
export function sameCertificates(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  try {
    const da = parseCertificates(a).map((c) => c.fingerprint256);
    const db = parseCertificates(b).map((c) => c.fingerprint256);
    return da.length > 0 && da.length === db.length && da.every((d, i) => d === db[i]);
  } catch {
    return false;
  }
}

/** Most CA certificates between a leaf and a root; a cross-signed root makes one. */
const MAX_INTERMEDIATES = 4;

const validAt = (c: X509Certificate, now: Date) => now >= new Date(c.validFrom) && now <= new Date(c.validTo);
const signed = (c: X509Certificate, by: X509Certificate) => c.checkIssued(by) && c.verify(by.publicKey);

/**
 * The path from `leaf` to one of `roots`, through CA certificates taken from `pool` as needed
 * (TLS peers send intermediates they may not need; during a root rotation a node sends the
 * new root cross-signed by the old one, which a node trusting the new root skips). Roots are
 * tried first at each step, as OpenSSL does. Returns [leaf, ...intermediates, root], or why not.
 */
export function buildCertificatePath(leaf: X509Certificate, pool: X509Certificate[], roots: X509Certificate[], now: Date): X509Certificate[] | string {
  const path = [leaf];
  const used = new Set<X509Certificate>();
  for (let cur = leaf; path.length <= MAX_INTERMEDIATES + 1; ) {
    const root = roots.find((r) => signed(cur, r));
    if (root) {
      if (!validAt(root, now)) return `the root CA is outside its validity (${root.validFrom} to ${root.validTo})`;
      return [...path, root];
    }
    const next = pool.find((c) => !used.has(c) && c !== cur && c.ca && signed(cur, c));
    if (!next) return 'not issued by the cluster root CA';
    if (!validAt(next, now)) return `an intermediate CA is outside its validity (${next.validFrom} to ${next.validTo})`;
    used.add(next);
    path.push(next);
    cur = next;
  }
  return 'too many intermediate CAs';
}

/**
 * Check that `chainPem` (node certificate first, then any intermediates) chains to one of the
 * roots in `trustPem`, is valid at `now`, is not a CA, and names a node; return who it names.
 * Any failure is PERMISSION_DENIED: the holder is not a member of this cluster.
 */
export function verifyNodeCertificate(chainPem: string, trustPem: string, opts: { now?: Date; clusterId?: string } = {}): VerifiedNodeCertificate {
  const deny = (why: string) => new ShoalError('PERMISSION_DENIED', `node certificate rejected: ${why}`);
  const blocks = splitPemChain(chainPem);
  if (blocks.length === 0) throw deny('no certificate in the chain');
  const roots = parseCertificates(trustPem, 'root CA certificate');
  if (roots.length === 0) throw invalid('invalid root CA certificate: none in the trust bundle');
  const chain = blocks.map((b) => parseCertificate(b, 'node certificate'));
  const now = opts.now ?? new Date();
  const leaf = chain[0];
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) throw deny(`outside its validity (${leaf.validFrom} to ${leaf.validTo})`);
  if (leaf.ca) throw deny('it is a CA certificate');
  const path = buildCertificatePath(leaf, chain.slice(1), roots, now);
  if (typeof path === 'string') throw deny(path);
  const id = identityFromSubject(subjectFields(blocks[0]));
  if (!id) throw deny('its subject does not name a node (CN, OU swarm-manager|swarm-worker, O)');
  if (opts.clusterId !== undefined && id.clusterId !== opts.clusterId) throw deny(`it belongs to cluster ${id.clusterId}`);
  const issuer = path[1];
  return {
    ...id,
    certPem: blocks[0],
    serialNumber: leaf.serialNumber,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    subjectAltName: leaf.subjectAltName ?? '',
    issuer: { subject: Buffer.from(new x509.X509Certificate(issuer.raw).subjectName.toArrayBuffer()).toString('base64'), publicKey: spkiOf(issuer).toString('base64') },
  };
}

/** True when the certificate's public key is the one in `keys` (a CA must not swap keys on us). */
export async function certificateMatchesKey(certPem: string, publicKey: CryptoKey): Promise<boolean> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey));
  const certSpki = parseCertificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return spki.equals(certSpki);
}
