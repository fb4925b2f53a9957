// How a node reaches the cluster's NATS servers: mutual TLS with its node certificate files
// (the paths stay put across renewals), and the server checked for a manager's certificate.
import { certPaths, ROLE_OU } from '../rpc';
import type { BusTls } from './bus';

export function nodeBusTls(stateDir: string): BusTls {
  const p = certPaths(stateDir);
  return { certFile: p.cert, keyFile: p.key, caFile: p.ca, serverName: ROLE_OU.manager };
}
