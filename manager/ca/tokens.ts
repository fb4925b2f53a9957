// The cluster's two join tokens (worker, manager): making, rotating, and checking one a
// joiner presents. The format lives in shared/rpc/jointoken.ts (the joiner parses it too).
import { timingSafeEqual } from 'node:crypto';
import { ShoalError } from '../../shared/errors';
import { certificateDigest, formatJoinToken, parseJoinToken, randomJoinSecret, type NodeRole } from '../../shared/rpc';

export interface JoinTokens {
  worker: string;
  manager: string;
}

/** A fresh token pinning the root CA with this digest (hex SHA-256 of its DER). */
export function generateJoinToken(caDigest: string): string {
  return formatJoinToken(caDigest, randomJoinSecret());
}

export function newJoinTokens(caDigest: string): JoinTokens {
  return { worker: generateJoinToken(caDigest), manager: generateJoinToken(caDigest) };
}

/** A new token for `role`; the other one is kept. The old token stops working for joins. */
export function rotateJoinToken(tokens: JoinTokens, role: NodeRole, caDigest: string): JoinTokens {
  return { ...tokens, [role]: generateJoinToken(caDigest) };
}

function sameToken(a: Buffer, b: string): boolean {
  const bb = Buffer.from(b);
  return a.length === bb.length && timingSafeEqual(a, bb);
}

/**
 * The role a presented token joins as. Malformed: INVALID_ARGUMENT; well-formed but neither
 * current token: PERMISSION_DENIED. Both comparisons always run and take constant time, so
 * timing says nothing about how much of a guess was right.
 */
export function matchJoinToken(presented: string, tokens: JoinTokens): NodeRole {
  parseJoinToken(presented);
  const p = Buffer.from(presented.trim());
  const isWorker = sameToken(p, tokens.worker);
  const isManager = sameToken(p, tokens.manager);
  if (isManager) return 'manager';
  if (isWorker) return 'worker';
  throw new ShoalError('PERMISSION_DENIED', 'invalid join token');
}

/** The same tokens (same secrets) pinning another root: after a root rotation, joiners must be shown the new root. */
export function repinJoinTokens<T extends { Worker?: string; Manager?: string }>(tokens: T, rootPem: string): T {
  const digest = certificateDigest(rootPem);
  const repin = (t: string | undefined) => (t ? formatJoinToken(digest, parseJoinToken(t).secret) : t);
  return { ...tokens, Worker: repin(tokens.Worker), Manager: repin(tokens.Manager) };
}
