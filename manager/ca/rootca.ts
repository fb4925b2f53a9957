// The cluster root CA: an ECDSA P-256 key and a self-signed certificate (CN swarm-ca).
// It signs node certificates from CSRs; the node's identity (ID, role, cluster) comes from
// the CA's decision, never from what the CSR asks for. During a root rotation the new root
// signs with its cross-signed copy attached (withIntermediates), so that nodes still trusting
// the old root can verify what it signs.
import { promises as fs } from 'node:fs';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { invalid, notFound, precondition } from '../../shared/errors';
import { DEFAULT_NODE_CERT_EXPIRY_MS } from './config';
import { writeFileAtomic } from '../../shared/fsutil';
import { readKeyFile, writeKeyFile } from '../../shared/keys';
import {
  CERT_BACKDATE_MS,
  issuerInfoOf,
  joinPem,
  parseCertificates,
  type IssuerInfo,
} from '../../shared/rpc/pki';
import {
  certificateDigest,
  certificateMatchesKey,
  createCsrPem,
  EC_ALGORITHM,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  parseCertificate,
  ROLE_OU,
  verifyNodeCertificate,
  type NodeCredentials,
  type NodeRole,
  type VerifiedNodeCertificate,
} from '../../shared/rpc';
// The x509 library as pki.ts configured it (WebCrypto provider set).
import { x509 } from '../../shared/rpc/pki';

const DAY_MS = 24 * 60 * 60 * 1000;
export const ROOT_CA_CN = 'swarm-ca';
/** Like swarmkit's root: 20 years. */
export const DEFAULT_ROOT_CA_VALIDITY_MS = 20 * 365 * DAY_MS;
export { DEFAULT_NODE_CERT_EXPIRY_MS };

export const ROOT_CA_CERT_FILE = 'swarm-root-ca.crt';
export const ROOT_CA_KEY_FILE = 'swarm-root-ca.key';

export interface IssueOptions {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  /** The node's advertise address (host or host:port); managers get it as a SAN. */
  addr?: string;
  /** Default DEFAULT_NODE_CERT_EXPIRY_MS; never past the root's own expiry. */
  expiryMs?: number;
  now?: Date;
}

export interface IssuedCertificate {
  certPem: string;
  /** The node certificate and the CA's intermediates (the cross-signed root during a rotation). */
  chainPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/** The host part of host, host:port, [v6]:port or a bare IPv6 address. */
export function addrHost(addr: string): string {
  const a = addr.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) return bracketed[1];
  if (isIP(a)) return a;
  const i = a.lastIndexOf(':');
  return i > 0 && a.indexOf(':') === i ? a.slice(0, i) : a;
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive, as DER INTEGER serials must be
  return b.toString('hex');
}

const CA_KEY_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

export class RootCA {
  /** SHA-256 of the certificate's DER, hex: what join tokens pin. */
  readonly digest: string;
  readonly notAfter: Date;

  private constructor(
    readonly certPem: string,
    readonly keyPem: string,
    private readonly key: webcrypto.CryptoKey,
    /** PEM attached after every certificate it issues ('' for none). */
    readonly intermediatesPem = '',
  ) {
    this.digest = certificateDigest(certPem);
    this.notAfter = new Date(parseCertificate(certPem).validTo);
  }

  /** This CA, attaching `pem` (e.g. its cross-signed copy) to what it issues. */
  withIntermediates(pem: string): RootCA {
    return new RootCA(this.certPem, this.keyPem, this.key, joinPem(pem));
  }

  /** The issuer that certificates it signs name (Docker's TLSInfo CertIssuer*). */
  get issuer(): IssuerInfo {
    return issuerInfoOf(this.certPem);
  }

  /**
   * `newRootPem` signed by this root: the same subject and key, so what the new root signs
   * verifies through it up to this one. Valid while both are.
   */
  async crossSign(newRootPem: string, opts: { now?: Date } = {}): Promise<string> {
    const now = opts.now ?? new Date();
    const next = new x509.X509Certificate(newRootPem);
    const self = new x509.X509Certificate(this.certPem);
    if (now >= this.notAfter) throw precondition('the current root CA certificate has expired: it cannot cross-sign a new one');
    const bc = next.getExtension(x509.BasicConstraintsExtension);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      // The subject's exact bytes: nodes compare issuers by them (TLSInfo.CertIssuerSubject).
      subject: new x509.Name(next.subjectName.toArrayBuffer()),
      issuer: new x509.Name(self.subjectName.toArrayBuffer()),
      notBefore: new Date(Math.max(next.notBefore.getTime(), self.notBefore.getTime())),
      notAfter: new Date(Math.min(next.notAfter.getTime(), self.notAfter.getTime())),
      publicKey: next.publicKey,
      signingKey: this.key,
      signingAlgorithm: EC_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, bc?.pathLength, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGES, true),
        await x509.SubjectKeyIdentifierExtension.create(next.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(self.publicKey),
      ],
    });
    return cert.toString('pem');
  }

  /** A new root, in memory (save() writes it). */
  static async generate(opts: { validityMs?: number; now?: Date } = {}): Promise<RootCA> {
    const now = opts.now ?? new Date();
    const keys = await generateKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: [ROOT_CA_CN] }],
      keys,
      serialNumber: randomSerial(),
      signingAlgorithm: EC_ALGORITHM,
      notBefore: new Date(now.getTime() - CERT_BACKDATE_MS),
      notAfter: new Date(now.getTime() + (opts.validityMs ?? DEFAULT_ROOT_CA_VALIDITY_MS)),
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGES, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new RootCA(cert.toString('pem'), await exportPrivateKeyPem(keys.privateKey), keys.privateKey);
  }

  /** A root from its PEMs (e.g. as the store keeps them, so every manager can sign). */
  static async fromPem(certPem: string, keyPem: string, opts: { now?: Date } = {}): Promise<RootCA> {
    const certs = parseCertificates(certPem, 'root CA certificate');
    if (certs.length !== 1) throw invalid(`invalid root CA certificate: want one PEM certificate, got ${certs.length}`);
    const cert = certs[0];
    if (!cert.ca) throw invalid('invalid root CA certificate: not a CA');
    if (!cert.checkIssued(cert) || !cert.verify(cert.publicKey)) throw invalid('invalid root CA certificate: not self-signed');
    const now = opts.now ?? new Date();
    if (now < new Date(cert.validFrom) || now >= new Date(cert.validTo)) throw invalid(`invalid root CA certificate: not valid now (${cert.validFrom} to ${cert.validTo})`);
    const key = await importPrivateKeyPem(keyPem);
    const jwk = await webcrypto.subtle.exportKey('jwk', key);
    const pub = await webcrypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, EC_ALGORITHM, true, ['verify']);
    if (!(await certificateMatchesKey(certPem, pub))) throw invalid('invalid root CA: the key does not match the certificate');
    return new RootCA(certPem, keyPem, key);
  }

  /** The root saved in `dir`; NOT_FOUND when there is none. */
  static async load(dir: string): Promise<RootCA> {
    let certPem: string, keyPem: string;
    try {
      let key: string | undefined;
      [certPem, key] = await Promise.all([fs.readFile(join(dir, ROOT_CA_CERT_FILE), 'utf8'), readKeyFile(join(dir, ROOT_CA_KEY_FILE))]);
      if (key === undefined) throw notFound(`no root CA key in ${dir}`);
      keyPem = key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`no root CA in ${dir}`);
      throw e;
    }
    return RootCA.fromPem(certPem, keyPem);
  }

  static async loadOrCreate(dir: string, opts: { validityMs?: number } = {}): Promise<RootCA> {
    try {
      return await RootCA.load(dir);
    } catch (e) {
      if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    }
    const ca = await RootCA.generate(opts);
    await ca.save(dir);
    return ca;
  }

  /** Write the certificate (0644) and key (0600) into `dir`; the key first, so a certificate on disk always has its key. */
  async save(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // Sealed with the unlock key while autolock is on.
    await writeKeyFile(join(dir, ROOT_CA_KEY_FILE), this.keyPem);
    await writeFileAtomic(join(dir, ROOT_CA_CERT_FILE), this.certPem, 0o644);
  }

  /** Sign a node certificate for the key in `csrPem`. The CSR's subject and extensions are ignored. */
  async issue(csrPem: string, opts: IssueOptions): Promise<IssuedCertificate> {
    if (!opts.nodeId || !/^[0-9a-z][0-9a-z-]{0,63}$/.test(opts.nodeId)) throw invalid(`invalid node ID ${JSON.stringify(opts.nodeId)}`);
    if (!opts.clusterId) throw invalid('invalid cluster ID: empty');
    const expiryMs = opts.expiryMs ?? DEFAULT_NODE_CERT_EXPIRY_MS;
    if (!Number.isFinite(expiryMs) || expiryMs <= 0) throw invalid(`invalid certificate expiry ${expiryMs} ms`);
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw invalid('invalid csr: not a PEM PKCS#10 request', e);
    }
    if (csr.publicKey.algorithm.name !== 'ECDSA') throw invalid('invalid csr: the key must be ECDSA');
    if (!(await csr.verify())) throw invalid('invalid csr: its signature does not match its key');

    const now = opts.now ?? new Date();
    if (now >= this.notAfter) throw precondition('the root CA certificate has expired');
    const notAfter = new Date(Math.min(now.getTime() + expiryMs, this.notAfter.getTime()));
    const names: x509.JsonGeneralName[] = [
      { type: 'dns', value: opts.nodeId },
      { type: 'dns', value: ROLE_OU[opts.role] },
    ];
    if (opts.role === 'manager' && opts.addr) {
      const host = addrHost(opts.addr);
      if (!host) throw invalid(`invalid advertise address ${JSON.stringify(opts.addr)}`);
      names.push({ type: isIP(host) ? 'ip' : 'dns', value: host });
    }
    const caCert = new x509.X509Certificate(this.certPem);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [opts.nodeId] }, { OU: [ROLE_OU[opts.role]] }, { O: [opts.clusterId] }],
      // The subject's exact bytes (a root made elsewhere may use PrintableString): TLSInfo compares them.
      issuer: new x509.Name(caCert.subjectName.toArrayBuffer()),
      notBefore: new Date(now.getTime() - CERT_BACKDATE_MS),
      notAfter,
      publicKey: csr.publicKey,
      signingKey: this.key,
      signingAlgorithm: EC_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      ],
    });
    const certPem = cert.toString('pem');
    return { certPem, chainPem: joinPem(certPem, this.intermediatesPem), serialNumber: cert.serialNumber, notBefore: cert.notBefore, notAfter: cert.notAfter };
  }

  /** Key, certificate and root for a node on this host (the first manager at swarm init has nobody to ask). */
  async issueCredentials(opts: IssueOptions): Promise<NodeCredentials> {
    const keys = await generateKeyPair();
    const issued = await this.issue(await createCsrPem(keys), opts);
    return { keyPem: await exportPrivateKeyPem(keys.privateKey), certPem: issued.chainPem, caPem: this.certPem };
  }

  /** Verify a node certificate chain against this root and say whom it names (PERMISSION_DENIED otherwise). */
  verify(chainPem: string, opts: { now?: Date; clusterId?: string } = {}): VerifiedNodeCertificate {
    return verifyNodeCertificate(chainPem, this.certPem, opts);
  }
}
