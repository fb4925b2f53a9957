// This manager's view of the managers' Raft group: who is a member, who leads, and whose Raft
// endpoint answers. Polled from the local etcd member (status and member list are served
// without a leader) plus a probe of each other member's peer endpoint, so that a dead leader
// or a lost quorum is known within a poll, not after an etcd request times out.
import type { Etcd3 } from 'etcd3';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, unavailable } from '../../shared/errors';
import { logger } from '../../shared/log';
import { deadline, listMembers } from '../etcd';
import type { StoreGate } from '../store';
import { hasQuorum, quorumLost, type MemberHealth, type RaftView } from './quorum';

const log = logger('raft-health');

/** Polls in a row without an answer from our own member before it counts as out of reach. */
const FAILED_POLLS_UNREACHABLE = 3;

/** Client credentials for probing peers over https. */
export interface PeerTls {
  ca: string;
  cert: string;
  key: string;
}

export interface RaftHealthOptions {
  /** A client of this manager's own etcd member. */
  client: Etcd3;
  /** This manager's node ID (its member's name). */
  self: string;
  /** Default 250 ms. */
  intervalMs?: number;
  /** Per probe (default 400 ms). */
  probeTimeoutMs?: number;
  /** Credentials for https peer URLs. */
  tls?: () => PeerTls | undefined;
  /** How long a write waits for an election to finish while quorum holds (default 4 s). */
  electionWaitMs?: number;
}

export class RaftHealth implements StoreGate {
  private view_: RaftView = { members: [], leader: '' };
  private known = false;
  /** Polls in a row our own member did not answer. */
  private failures = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly opts: RaftHealthOptions) {}

  view(): RaftView {
    return this.view_;
  }

  /** Poll until the signal aborts. The first view is in place when this resolves. */
  async start(signal: AbortSignal): Promise<void> {
    await this.refresh().catch((e) => log.debug({ err: errorMessage(e) }, 'first raft health poll failed'));
    void (async () => {
      while (!signal.aborted) {
        await sleep(this.opts.intervalMs ?? 250, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) break;
        await this.refresh().catch((e) => log.debug({ err: errorMessage(e) }, 'raft health poll failed'));
      }
      for (const w of this.waiters) w();
    })();
  }

  /** One poll: the local member's status and member list, and a probe of every other member. */
  async refresh(): Promise<RaftView> {
    let leaderId = '';
    let members: MemberHealth[];
    try {
      const [status, list] = await Promise.all([this.opts.client.maintenance.status(deadline(1000)), listMembers(this.opts.client)]);
      leaderId = status.leader === '0' ? '' : status.leader;
      // The credentials once per poll (they may be files read from disk), not once per peer.
      const tls = list.some((m) => m.name !== this.opts.self && m.peerUrls[0]?.startsWith('https:')) ? this.opts.tls?.() : undefined;
      members = await Promise.all(
        list.map(async (m) => ({
          id: m.id,
          name: m.name,
          learner: m.isLearner,
          peerUrls: m.peerUrls,
          reachable: m.name === this.opts.self || (m.peerUrls.length > 0 && (await this.probe(m.peerUrls[0], tls))),
        })),
      );
    } catch (e) {
      // Our own member does not answer. One slow answer on a loaded machine says little; a
      // few in a row mean nothing is reachable from here (writes then fail at once).
      if (++this.failures >= FAILED_POLLS_UNREACHABLE) this.publish({ members: this.view_.members.map((m) => ({ ...m, reachable: false })), leader: '' });
      throw e;
    }
    this.failures = 0;
    const leader = members.find((m) => m.id === leaderId && m.reachable);
    return this.publish({ members, leader: leader?.name ?? '' });
  }

  private publish(v: RaftView): RaftView {
    const before = this.view_;
    this.view_ = v;
    this.known = true;
    if (before.leader !== v.leader) log.info({ leader: v.leader || null, reachable: v.members.filter((m) => m.reachable).length, members: v.members.length }, v.leader ? 'raft leader known' : 'raft group has no leader');
    for (const w of this.waiters) w();
    return v;
  }

  private probe(peerUrl: string, creds: PeerTls | undefined): Promise<boolean> {
    const url = new URL('/version', peerUrl);
    const tls = url.protocol === 'https:' ? creds : undefined;
    const timeout = this.opts.probeTimeoutMs ?? 400;
    return new Promise((resolve) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.get(url, { timeout, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, servername: undefined, checkServerIdentity: () => undefined } : {}) }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 500);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }

  /** Resolves at the next published view, or after `ms`. */
  private nextView(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  serializableReads(): boolean {
    return this.known && !hasQuorum(this.view_);
  }

  /**
   * Fails at once, with the count of reachable managers, when quorum is lost; waits out an
   * election (a leader died but a majority answers) so that the write lands on the new leader.
   */
  async beforeWrite(): Promise<void> {
    if (!this.known) return;
    if (!hasQuorum(this.view_)) throw quorumLost(this.view_);
    if (this.view_.leader) return;
    const until = Date.now() + (this.opts.electionWaitMs ?? 4000);
    while (!this.view_.leader) {
      if (!hasQuorum(this.view_)) throw quorumLost(this.view_);
      const left = until - Date.now();
      if (left <= 0) throw unavailable('the managers are electing a leader: try again in a moment');
      await this.nextView(left);
    }
  }
}
