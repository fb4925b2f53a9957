// The cluster CA: root key and certificate, join tokens, the NodeCA service, the CA as the
// store keeps it, root rotation (started by a swarm update, finished by a leader reconciler).
export {
  RootCA,
  addrHost,
  ROOT_CA_CN,
  ROOT_CA_CERT_FILE,
  ROOT_CA_KEY_FILE,
  DEFAULT_ROOT_CA_VALIDITY_MS,
  DEFAULT_NODE_CERT_EXPIRY_MS,
  type IssueOptions,
  type IssuedCertificate,
} from './rootca';
export { generateJoinToken, newJoinTokens, rotateJoinToken, matchJoinToken, repinJoinTokens, type JoinTokens } from './tokens';
export { NodeCAService, nodeTLSInfo, type NodeCAServiceOptions, type NodeJoinInfo } from './service';
export { newSwarmId, SWARM_ID_RE } from './ids';
export { MIN_NODE_CERT_EXPIRY_MS, MIN_CERT_EXPIRY_ENV, minNodeCertExpiryMs, validateCAConfig, nodeCertExpiryMs, type CAConfig } from './config';
export {
  caPhase,
  caFields,
  clusterTLSInfo,
  desiredTLS,
  newStoredRootCA,
  samePem,
  sameIssuer,
  sealCAKey,
  openCAKey,
  signingCert,
  CASigners,
  type CACluster,
  type CAPhase,
  type StoredRootCA,
  type StoredRootRotation,
} from './state';
export { applyCAConfig, decideRotation, type RotationDecision, type CAUpdateOptions } from './rotation';
export { planCARotation, finishCertificates, finishTrust, CARotationReconciler, type CARotationPlan } from './reconciler';
export { CAStateFollower, type CAView } from './follow';
export { publicCluster } from './public';
export { initialClusterCA, ensureClusterCA, joinTokenDigest, signingCA, syncDiskCA } from './cluster';
