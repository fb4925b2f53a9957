import { randomBytes } from 'node:crypto';

/** 128 random bits as 25 base-36 digits: the form of Docker's node and cluster IDs. */
export function newSwarmId(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36).padStart(25, '0');
}

export const SWARM_ID_RE = /^[0-9a-z]{25}$/;
