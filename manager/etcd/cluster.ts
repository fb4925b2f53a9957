// Membership changes through etcd's cluster API: a manager joining the swarm is first added
// here, then started with initialClusterState 'existing' and the initial cluster this returns.
import type { Etcd3 } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalid, precondition } from '../../shared/errors';
import { deadline } from './client';
import { translateEtcdError } from './errors';
import { parseUrl } from './urls';

export interface EtcdMemberInfo {
  /** etcd's member ID (decimal string of a uint64). */
  id: string;
  /** Empty for a member that was added but has not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface AddedMember {
  id: string;
  /** name -> peer URL, to start the new member with (initialClusterState 'existing'). */
  initialCluster: Record<string, string>;
  members: EtcdMemberInfo[];
}

// Membership changes commit through Raft and may wait for a new quorum; give them longer.
const MEMBER_CALL_MS = 5000;

export interface MembershipOptions {
  /**
   * etcd refuses a membership change until every member has been connected for 5 s (its health
   * interval): keep trying that long (default 15 s) before giving up.
   */
  waitMs?: number;
}

/** Run a membership change, again while etcd answers that the cluster is not ready for it. */
async function whenReady<T>(what: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const err = translateEtcdError(e, what);
      if (err.code !== 'FAILED_PRECONDITION' || Date.now() >= until) throw err;
      await sleep(500);
    }
  }
}

function info(m: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }): EtcdMemberInfo {
  return { id: m.ID, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner };
}

export async function listMembers(client: Etcd3): Promise<EtcdMemberInfo[]> {
  try {
    const res = await client.cluster.memberList({}, deadline(MEMBER_CALL_MS));
    return res.members.map(info);
  } catch (e) {
    throw translateEtcdError(e, 'list etcd members');
  }
}

/**
 * Add a member that will run as `name` at `peerUrl`. Refuses while another added member has not
 * started: the new member's initial cluster must name every member, and that one has no name yet.
 */
export async function addMember(client: Etcd3, name: string, peerUrl: string, opts: MembershipOptions & { learner?: boolean } = {}): Promise<AddedMember> {
  parseUrl('etcd peer URL', peerUrl, ['http', 'https']);
  const before = await listMembers(client);
  const pending = before.find((m) => m.name === '');
  if (pending) throw precondition(`etcd member ${pending.id} (${pending.peerUrls.join(',')}) was added but has not started; start or remove it before adding another`);
  if (before.some((m) => m.name === name)) throw invalid(`an etcd member named "${name}" already exists`);
  const res = await whenReady(`add etcd member ${name} (${peerUrl})`, () => client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: opts.learner ?? false }, deadline(MEMBER_CALL_MS)), opts.waitMs ?? 15_000);
  const initialCluster: Record<string, string> = {};
  for (const m of res.members) {
    const n = m.ID === res.member.ID ? name : m.name;
    initialCluster[n] = m.peerURLs[0];
  }
  return { id: res.member.ID, initialCluster, members: res.members.map(info) };
}

export async function removeMember(client: Etcd3, id: string, opts: MembershipOptions = {}): Promise<void> {
  await whenReady(`remove etcd member ${id}`, () => client.cluster.memberRemove({ ID: id }, deadline(MEMBER_CALL_MS)), opts.waitMs ?? 15_000);
}

/**
 * Make a learner a voting member. etcd refuses while the learner is behind the leader's log:
 * that refusal is FAILED_PRECONDITION, and the caller tries again later.
 */
export async function promoteMember(client: Etcd3, id: string): Promise<void> {
  try {
    await client.cluster.memberPromote({ ID: id }, deadline(MEMBER_CALL_MS));
  } catch (e) {
    if (e instanceof Error && /can only promote a learner member which is in sync|not ready to be promoted|learner member.*not.*sync/i.test(e.message)) throw precondition(`etcd learner ${id} has not caught up with the leader yet`);
    throw translateEtcdError(e, `promote etcd learner ${id}`);
  }
}
