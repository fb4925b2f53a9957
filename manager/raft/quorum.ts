// Quorum arithmetic over the managers' etcd members: whether writes can commit, whether a
// member may leave, and the words a user sees when they cannot. Pure: no I/O.
import { ShoalError } from '../../shared/errors';

export interface MemberHealth {
  /** etcd member ID (decimal). */
  id: string;
  /** The manager's node ID; empty for a member added but not started. */
  name: string;
  learner: boolean;
  /** Its Raft endpoint answered the last probe (this manager's own member always counts). */
  reachable: boolean;
  peerUrls: string[];
}

export interface RaftView {
  members: MemberHealth[];
  /** The leader's node ID, or '' while there is none. */
  leader: string;
}

/** Votes a Raft group of `voters` needs to commit. */
export const quorumOf = (voters: number): number => Math.floor(voters / 2) + 1;

export function voters(v: RaftView): MemberHealth[] {
  return v.members.filter((m) => !m.learner);
}

export function reachableVoters(v: RaftView): number {
  return voters(v).filter((m) => m.reachable).length;
}

export function hasQuorum(v: RaftView): boolean {
  const n = voters(v).length;
  return n > 0 && reachableVoters(v) >= quorumOf(n);
}

/** Docker's words for a swarm without a leader, and the count that explains it. */
export function noLeaderMessage(v: RaftView): string {
  const n = voters(v).length;
  return `The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online. (${reachableVoters(v)} of ${n} managers reachable, ${quorumOf(n)} needed)`;
}

export function quorumLost(v: RaftView): ShoalError {
  return new ShoalError('UNAVAILABLE', noLeaderMessage(v));
}

/**
 * Whether the manager `nodeId` may leave the Raft group (demotion, removal, leave): the others
 * must still hold a quorum of the smaller group among themselves. Returns the refusal, or
 * undefined when it may go.
 */
export function removalRefusal(v: RaftView, nodeId: string, verb: string): string | undefined {
  const target = v.members.find((m) => m.name === nodeId);
  if (!target || target.learner) return undefined;
  const rest = voters(v).filter((m) => m !== target);
  if (rest.length === 0) return `can't ${verb}: it is the last manager of the swarm`;
  const up = rest.filter((m) => m.reachable).length;
  const need = quorumOf(rest.length);
  if (up < need) {
    return `can't ${verb}: this would result in a loss of quorum (${up} of the ${rest.length} remaining managers reachable, ${need} needed)`;
  }
  return undefined;
}
