// The cluster CA as the store keeps it: a field of the cluster object (swarmkit's RootCA),
// never shown by the API, with every CA key sealed under the cluster data key. Every manager
// that holds the data key can therefore sign, and a rotation reaches them all through the
// store. Pure functions over it: which root nodes trust, which CA signs, what the cluster's
// TLSInfo says.
//
// A rotation goes through two phases:
//  1. certificates: RootRotation is set. The new root signs, with its copy cross-signed by the
//     old root attached, so nodes that trust only the old root (CACert) verify the new
//     certificates; every node renews onto the new root. RootRotationInProgress is true.
//  2. trust: once every node holds a certificate from the new root, it becomes CACert and
//     nodes are given it as their only root; the cross-signed copy is still attached
//     (CrossSignedCACert) for the nodes that have not switched yet. When every node trusts
//     the new root, the copy is dropped and with it the last trace of the old root.
import { ShoalError } from '../../shared/errors';
import type { Swarm, TLSInfo } from '../../shared/swarm';
import { certificateDigest } from '../../shared/rpc';
import { issuerInfoOf, joinPem, sameCertificates, type IssuerInfo } from '../../shared/rpc/pki';
import { open, seal, type DataKey, type SealedData } from '../../shared/crypto/seal';
import { RootCA } from './rootca';

export interface StoredRootRotation {
  /** The new root (PEM). */
  CACert: string;
  CAKey: SealedData;
  /** The new root signed by the current one (PEM). */
  CrossSignedCACert: string;
}

export interface StoredRootCA {
  /** The root every node trusts (PEM): the cluster's TLSInfo.TrustRoot. */
  CACert: string;
  /** Its key, sealed with the data key (context "ca-key/<digest of CACert>"). */
  CAKey: SealedData;
  /** Phase 1 of a rotation. */
  RootRotation?: StoredRootRotation;
  /** Phase 2: CACert cross-signed by the previous root, attached until every node trusts CACert. */
  CrossSignedCACert?: string;
  /** The SwarmSpec.CAConfig.ForceRotate value last acted on. */
  LastForcedRotation: number;
}

/** The cluster object with its CA (the store's form; the API's is publicCluster()). */
export type CACluster = Swarm & { RootCA?: StoredRootCA };

export type CAPhase = 'steady' | 'certificates' | 'trust';

export function caPhase(ca: StoredRootCA): CAPhase {
  if (ca.RootRotation) return 'certificates';
  return ca.CrossSignedCACert ? 'trust' : 'steady';
}

const keyContext = (certPem: string) => `ca-key/${certificateDigest(certPem)}`;

export function sealCAKey(dataKey: DataKey, certPem: string, keyPem: string): SealedData {
  return seal(dataKey, keyContext(certPem), Buffer.from(keyPem));
}

export function openCAKey(dataKey: DataKey, certPem: string, sealed: SealedData): string {
  return open(dataKey, keyContext(certPem), sealed).toString('utf8');
}

/** A cluster's CA with `root` as its only root (a new swarm, or a cluster that had its CA on disk only). */
export function newStoredRootCA(root: RootCA, dataKey: DataKey, lastForcedRotation = 0): StoredRootCA {
  return { CACert: root.certPem, CAKey: sealCAKey(dataKey, root.certPem, root.keyPem), LastForcedRotation: lastForcedRotation };
}

/** The CA certificate that signs now (the new root during phase 1). */
export function signingCert(ca: StoredRootCA): string {
  return ca.RootRotation?.CACert ?? ca.CACert;
}

/** What the signer attaches to every certificate it issues. */
export function signingIntermediates(ca: StoredRootCA): string {
  return ca.RootRotation?.CrossSignedCACert ?? ca.CrossSignedCACert ?? '';
}

/** What every node should hold: the root to trust and the issuer of its certificate. */
export function desiredTLS(ca: StoredRootCA): { trustRoot: string; issuer: IssuerInfo } {
  return { trustRoot: ca.CACert, issuer: issuerInfoOf(signingCert(ca)) };
}

/** The cluster's TLSInfo (what `docker swarm ca` prints and compares nodes with): the trusted root, as its own issuer. */
export function clusterTLSInfo(ca: StoredRootCA): TLSInfo {
  const i = issuerInfoOf(ca.CACert);
  return { TrustRoot: ca.CACert, CertIssuerSubject: i.subject, CertIssuerPublicKey: i.publicKey };
}

/** The cluster fields that follow from its CA. */
export function caFields(ca: StoredRootCA): Pick<CACluster, 'RootCA' | 'TLSInfo' | 'RootRotationInProgress'> {
  return { RootCA: ca, TLSInfo: clusterTLSInfo(ca), RootRotationInProgress: !!ca.RootRotation };
}

/** Same certificates, whatever the PEM spacing. */
export const samePem = sameCertificates;

/** Same issuer (subject and key bytes). */
export function sameIssuer(a: { CertIssuerSubject?: string; CertIssuerPublicKey?: string } | undefined, b: IssuerInfo): boolean {
  return !!a && a.CertIssuerSubject === b.subject && a.CertIssuerPublicKey === b.publicKey;
}

/**
 * Opens the CA keys of the store, keeping each opened signer (importing a key is not free).
 * UNAVAILABLE when this manager lacks the data key: the caller tries another manager.
 */
export class CASigners {
  private readonly cache = new Map<string, Promise<RootCA>>();

  constructor(private readonly dataKey: () => DataKey | undefined) {}

  /** The CA that signs now, with what it must attach. */
  async signer(ca: StoredRootCA): Promise<RootCA> {
    const cert = signingCert(ca);
    const sealed = ca.RootRotation?.CAKey ?? ca.CAKey;
    const root = await this.root(cert, sealed);
    const extra = signingIntermediates(ca);
    return extra ? root.withIntermediates(joinPem(extra)) : root;
  }

  /** The current root with its key (to cross-sign a new one). */
  current(ca: StoredRootCA): Promise<RootCA> {
    return this.root(ca.CACert, ca.CAKey);
  }

  private root(certPem: string, sealed: SealedData): Promise<RootCA> {
    const id = `${certificateDigest(certPem)}/${sealed.Nonce}`;
    let p = this.cache.get(id);
    if (!p) {
      p = (async () => {
        const k = this.dataKey();
        if (!k) throw new ShoalError('UNAVAILABLE', 'this manager has no cluster data key: it cannot open the CA key; try another manager');
        return RootCA.fromPem(certPem, openCAKey(k, certPem, sealed));
      })();
      p.catch(() => this.cache.delete(id));
      this.cache.set(id, p);
    }
    return p;
  }
}
