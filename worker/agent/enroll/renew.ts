// Renewing the node certificate over mTLS: a fresh key each time, the same node ID, the role
// the managers now want (promote/demote land here), and the root the cluster now trusts (a
// root rotation lands here). The schedule and the triggers live in worker/agent/certs.
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, errorMessage } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import {
  certificateMatchesKey,
  createCsrPem,
  exportPrivateKeyPem,
  generateKeyPair,
  NodeCAClient,
  saveNodeCredentials,
  verifyNodeCertificate,
  type NodeCredentials,
  type RpcClient,
  type TlsIdentity,
} from '../../../shared/rpc';
import type { EnrollResult } from './enroll';

const log = logger('enroll');

export interface RenewOptions {
  /** An mTLS client to a manager (built with clientCredentials(identity)). */
  rpc: RpcClient;
  /** The node's identity; updated in place on success, so servers and channels use the new certificate. */
  identity: TlsIdentity;
  stateDir: string;
  /** Advertise address for a manager's SAN; empty keeps none. */
  addr?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * One renewal: a new key and CSR, the manager's certificate for it, checked against the root
 * the manager says to trust from now on (the channel that brought it is authenticated by the
 * current root). Saved as one set, then swapped into the live identity.
 */
export async function renewCertificate(opts: RenewOptions): Promise<EnrollResult> {
  const before = verifyNodeCertificate(opts.identity.current.certPem, opts.identity.current.caPem);
  const keys = await generateKeyPair();
  const res = await new NodeCAClient(opts.rpc).renewNodeCertificate({ csr: await createCsrPem(keys), addr: opts.addr ?? '' }, { signal: opts.signal, timeoutMs: opts.timeoutMs });
  const caPem = res.trustRoot || opts.identity.current.caPem;
  const cert = verifyNodeCertificate(res.certificateChain, caPem);
  if (cert.nodeId !== before.nodeId || cert.clusterId !== before.clusterId) {
    throw new ShoalError('PERMISSION_DENIED', `renewal returned a certificate for ${cert.nodeId} in ${cert.clusterId}, not ${before.nodeId} in ${before.clusterId}`);
  }
  if (!(await certificateMatchesKey(cert.certPem, keys.publicKey))) throw new ShoalError('PERMISSION_DENIED', 'the renewed certificate is not for our key');
  opts.signal?.throwIfAborted();
  const credentials: NodeCredentials = { keyPem: await exportPrivateKeyPem(keys.privateKey), certPem: res.certificateChain, caPem };
  const certPaths = await saveNodeCredentials(opts.stateDir, credentials);
  opts.identity.update(credentials);
  log.debug({ nodeId: cert.nodeId, role: cert.role, notAfter: cert.notAfter }, 'node certificate renewed and saved');
  return { nodeId: cert.nodeId, role: cert.role, clusterId: cert.clusterId, certPaths, credentials, notAfter: cert.notAfter };
}

/**
 * How long to wait before renewing: a random point between 50% and 80% of the certificate's
 * lifetime (as swarmkit does, so that nodes joined together do not renew together); 0 when
 * that point has passed. The lifetime starts `backdateMs` after notBefore (when the CA issued
 * it: CERT_BACKDATE_MS for shoal's CA), so a short certificate is not renewed at once.
 */
export function renewalDelayMs(notBefore: Date, notAfter: Date, now: Date = new Date(), random: () => number = Math.random, backdateMs = 0): number {
  const issued = Math.min(notBefore.getTime() + backdateMs, notAfter.getTime());
  const at = issued + (notAfter.getTime() - issued) * (0.5 + 0.3 * random());
  return Math.max(0, at - now.getTime());
}

/** The wait after the n-th failed renewal in a row (n from 1): 5 s doubling, at most 5 minutes. */
export function renewalRetryMs(failures: number): number {
  return Math.min(5 * 60_000, 5_000 * 2 ** Math.max(0, failures - 1));
}

export interface RenewLoopOptions extends Omit<RenewOptions, 'rpc' | 'signal'> {
  /** A client to a manager, asked for afresh on each attempt (the manager may change). */
  rpc: () => RpcClient;
  signal: AbortSignal;
  onRenewed?: (result: EnrollResult) => void;
}

/**
 * Renew whenever renewalDelayMs says (measured from notBefore), retrying failures, until the
 * signal aborts. The node's own loop is NodeCertificates (worker/agent/certs), which also
 * renews when told and measures from issuance.
 */
export async function renewLoop(opts: RenewLoopOptions): Promise<void> {
  let failures = 0;
  try {
    for (;;) {
      const cur = verifyNodeCertificate(opts.identity.current.certPem, opts.identity.current.caPem);
      await sleep(failures ? renewalRetryMs(failures) : renewalDelayMs(cur.notBefore, cur.notAfter), undefined, { signal: opts.signal });
      try {
        const result = await renewCertificate({ ...opts, rpc: opts.rpc(), signal: opts.signal });
        failures = 0;
        opts.onRenewed?.(result);
      } catch (e) {
        if (opts.signal.aborted) return;
        failures++;
        log.warn({ err: errorMessage(e), failures }, 'certificate renewal failed; will retry');
      }
    }
  } catch (e) {
    if (!opts.signal.aborted) throw e;
  }
}
