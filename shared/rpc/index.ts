// Node-to-node gRPC: contracts, mTLS, identities, error translation.
export { loadProto, serviceDefinition, protoDir, LOADER_OPTIONS, type ProtoName } from './proto';
export { toGrpcStatus, fromGrpcError, GRPC_STATUS } from './errors';
export { RpcServer, methodDefinition, type CallContext, type UnaryHandler, type StreamHandler, type ServiceAccess } from './server';
export { RpcClient, DEFAULT_CALL_TIMEOUT_MS, type UnaryCallOptions, type StreamCallOptions } from './client';
export {
  TlsIdentity,
  serverCredentials,
  clientCredentials,
  pinnedCredentials,
  untrustedCredentials,
  checkServerRole,
  peerIdentity,
  requirePeerIdentity,
  type NodeCredentials,
} from './credentials';
export {
  EC_ALGORITHM,
  ROLE_OU,
  roleFromOU,
  generateKeyPair,
  exportPrivateKeyPem,
  importPrivateKeyPem,
  createCsrPem,
  splitPemChain,
  parseCertificate,
  certificateDigest,
  subjectFields,
  identityFromSubject,
  verifyNodeCertificate,
  certificateMatchesKey,
  type NodeRole,
  type NodeIdentity,
  type VerifiedNodeCertificate,
} from './pki';
export { parseJoinToken, formatJoinToken, randomJoinSecret, type ParsedJoinToken } from './jointoken';
export { certPaths, saveNodeCredentials, loadNodeCredentials, removeNodeCredentials, type CertPaths } from './certstore';
export * from './ca';
export * from './dispatcher';
export * from './raft';
