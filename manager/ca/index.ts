// The cluster CA: root key and certificate, join tokens, and the NodeCA service.
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
export { generateJoinToken, newJoinTokens, rotateJoinToken, matchJoinToken, type JoinTokens } from './tokens';
export { NodeCAService, type NodeCAServiceOptions, type NodeJoinInfo } from './service';
export { newSwarmId, SWARM_ID_RE } from './ids';
