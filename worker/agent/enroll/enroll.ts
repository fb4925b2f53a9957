// Joining a cluster: trust the root CA the join token pins, and get a node certificate.
//  1. Over TLS that trusts nobody, fetch the root CA certificate; accept it only if its
//     SHA-256 is the digest in the token.
//  2. Generate a key and a CSR; send them with the token to IssueNodeCertificate over TLS
//     that now trusts only that root and only a manager's certificate, so the token never
//     reaches an impostor.
//  3. Check that the certificate chains to the pinned root and certifies our key; then save
//     key, certificate and root together. Nothing is written before this step.
import { ShoalError } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import {
  certificateDigest,
  certificateMatchesKey,
  createCsrPem,
  exportPrivateKeyPem,
  generateKeyPair,
  NodeCAClient,
  parseCertificate,
  parseJoinToken,
  pinnedCredentials,
  RpcClient,
  saveNodeCredentials,
  splitPemChain,
  untrustedCredentials,
  verifyNodeCertificate,
  type CertPaths,
  type NodeCredentials,
  type NodeIdentity,
} from '../../../shared/rpc';

const log = logger('enroll');

export interface EnrollOptions {
  /** A manager's gRPC address, host:port. */
  remoteAddr: string;
  token: string;
  /** A node ID to keep (re-joining); the manager may refuse it. */
  nodeIdHint?: string;
  /** Where other nodes reach this one (host or host:port); managers get it as a certificate SAN. */
  advertiseAddr: string;
  /** The node's state directory; credentials go to <stateDir>/certificates. */
  stateDir: string;
  signal?: AbortSignal;
  /** The node's Docker NodeDescription, sent as JSON. */
  description?: unknown;
  /** Per call; default DEFAULT_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface EnrollResult extends NodeIdentity {
  certPaths: CertPaths;
  credentials: NodeCredentials;
  notAfter: Date;
}

/** Fetch the root CA from `remoteAddr` and return it only if it is the one `caDigest` pins. */
export async function fetchPinnedRootCA(remoteAddr: string, caDigest: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
  const rpc = new RpcClient(remoteAddr, untrustedCredentials());
  let pem: string;
  try {
    pem = (await new NodeCAClient(rpc).getRootCACertificate(opts)).certificate;
  } finally {
    rpc.close();
  }
  const mismatch = () => new ShoalError('PERMISSION_DENIED', `the CA certificate does not match the join token (from ${remoteAddr})`);
  if (splitPemChain(pem).length !== 1) throw mismatch();
  let digest: string;
  try {
    digest = certificateDigest(pem);
  } catch {
    throw mismatch();
  }
  if (digest !== caDigest) throw mismatch();
  if (!parseCertificate(pem).ca) throw new ShoalError('PERMISSION_DENIED', `the pinned root from ${remoteAddr} is not a CA certificate`);
  return pem;
}

export async function enroll(opts: EnrollOptions): Promise<EnrollResult> {
  const { caDigest } = parseJoinToken(opts.token);
  const callOpts = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  const caPem = await fetchPinnedRootCA(opts.remoteAddr, caDigest, callOpts);

  const keys = await generateKeyPair();
  const csr = await createCsrPem(keys);
  const rpc = new RpcClient(opts.remoteAddr, pinnedCredentials(caPem));
  let res;
  try {
    res = await new NodeCAClient(rpc).issueNodeCertificate(
      {
        token: opts.token.trim(),
        csr,
        nodeId: opts.nodeIdHint ?? '',
        addr: opts.advertiseAddr,
        description: opts.description === undefined ? '' : JSON.stringify(opts.description),
      },
      callOpts,
    );
  } finally {
    rpc.close();
  }

  const cert = verifyNodeCertificate(res.certificateChain, caPem);
  if (cert.nodeId !== res.nodeId) throw new ShoalError('PERMISSION_DENIED', `the manager issued a certificate for ${cert.nodeId}, not ${res.nodeId}`);
  if (!(await certificateMatchesKey(cert.certPem, keys.publicKey))) throw new ShoalError('PERMISSION_DENIED', 'the issued certificate is not for our key');
  opts.signal?.throwIfAborted();

  const credentials: NodeCredentials = { keyPem: await exportPrivateKeyPem(keys.privateKey), certPem: res.certificateChain, caPem };
  const certPaths = await saveNodeCredentials(opts.stateDir, credentials);
  log.info({ nodeId: cert.nodeId, role: cert.role, clusterId: cert.clusterId, manager: opts.remoteAddr }, 'joined: node certificate saved');
  return { nodeId: cert.nodeId, role: cert.role, clusterId: cert.clusterId, certPaths, credentials, notAfter: cert.notAfter };
}
