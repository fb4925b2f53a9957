// Membership changes through etcd's cluster API: a manager joining the swarm is first added
// here, then started with initialClusterState 'existing' and the initial cluster this returns.
import type { Etcd3 } from 'etcd3';
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
export async function addMember(client: Etcd3, name: string, peerUrl: string): Promise<AddedMember> {
  parseUrl('etcd peer URL', peerUrl, ['http']);
  const before = await listMembers(client);
  const pending = before.find((m) => m.name === '');
  if (pending) throw precondition(`etcd member ${pending.id} (${pending.peerUrls.join(',')}) was added but has not started; start or remove it before adding another`);
  if (before.some((m) => m.name === name)) throw invalid(`an etcd member named "${name}" already exists`);
  let res;
  try {
    res = await client.cluster.memberAdd({ peerURLs: [peerUrl] }, deadline(MEMBER_CALL_MS));
  } catch (e) {
    throw translateEtcdError(e, `add etcd member ${name} (${peerUrl})`);
  }
  const initialCluster: Record<string, string> = {};
  for (const m of res.members) {
    const n = m.ID === res.member.ID ? name : m.name;
    initialCluster[n] = m.peerURLs[0];
  }
  return { id: res.member.ID, initialCluster, members: res.members.map(info) };
}

export async function removeMember(client: Etcd3, id: string): Promise<void> {
  try {
    await client.cluster.memberRemove({ ID: id }, deadline(MEMBER_CALL_MS));
  } catch (e) {
    throw translateEtcdError(e, `remove etcd member ${id}`);
  }
}
