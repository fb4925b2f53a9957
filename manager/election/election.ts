// Leader election among managers over etcd3's Election (a key per candidate under a lease;
// the oldest key leads). Leadership is handed out as an AbortSignal that aborts when it ends,
// so leader-only components started with it stop on their own.
//
// etcd3 only reports a lost lease after twice its TTL without a keepalive; by then etcd has
// expired it and another manager may lead. So a watchdog asks etcd how long the lease has
// left and ends leadership when that time, counted from when the question was sent, runs
// out without a newer answer: this manager stops leading before etcd can elect another.
import { EventEmitter } from 'node:events';
import type { Campaign, Election, ElectionObserver, Etcd3 } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, invalid } from '../../shared/errors';
import { logger } from '../../shared/log';
import { deadline, translateEtcdError } from '../etcd';

export interface ElectionOptions {
  /** Election name; every manager of a cluster uses the same (default "managers"). */
  name?: string;
  /** Lease TTL in whole seconds (default 2): how long a dead leader blocks the next one. */
  ttlSeconds?: number;
  /** How often the leader checks its lease (default 250 ms). */
  checkIntervalMs?: number;
  /** Pause before campaigning again after a failed attempt (default 500 ms). */
  retryDelayMs?: number;
}

export interface Leadership {
  nodeId: string;
  /** The etcd lease this leadership lives on. */
  leaseId: string;
  /** Aborts when this node stops leading: resigned, lease lost, or etcd out of reach too long. */
  signal: AbortSignal;
  /** Why leadership ended (once signal has aborted). */
  readonly reason: string | undefined;
  /** Step down; another candidate takes over at once. */
  resign(): Promise<void>;
}

const log = logger('election');

export class LeaderElection extends EventEmitter {
  private readonly election: Election;
  private readonly ttl: number;
  private readonly checkMs: number;
  private readonly retryMs: number;
  private current: { campaign: Campaign; end: (why: string) => Promise<void> } | undefined;

  constructor(
    private readonly client: Etcd3,
    opts: ElectionOptions = {},
  ) {
    super();
    this.ttl = opts.ttlSeconds ?? 2;
    if (!Number.isInteger(this.ttl) || this.ttl < 1 || this.ttl > 60) throw invalid(`election ttlSeconds ${JSON.stringify(opts.ttlSeconds)} must be a whole number from 1 to 60`);
    this.checkMs = opts.checkIntervalMs ?? 250;
    this.retryMs = opts.retryDelayMs ?? 500;
    const name = opts.name ?? 'managers';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw invalid(`election name "${name}" must be 1-64 letters, digits, '.', '_' or '-'`);
    this.election = client.namespace('/shoal/').election(name, this.ttl);
  }

  /**
   * Campaign until this node leads; resolves with its leadership. Rejects with CANCELLED when
   * the signal aborts first (the candidacy is withdrawn). One campaign at a time.
   */
  async campaign(nodeId: string, signal: AbortSignal): Promise<Leadership> {
    if (typeof nodeId !== 'string' || nodeId === '') throw invalid('election: a candidate needs a node ID');
    if (this.current) throw invalid('election: this manager already campaigns or leads; resign first');
    // resign() while campaigning withdraws the candidacy like an abort of the caller's signal
    const withdrawn = new AbortController();
    const stop = AbortSignal.any([signal, withdrawn.signal]);
    const cancelled = () => new ShoalError('CANCELLED', 'election: campaign cancelled');
    while (!stop.aborted) {
      const campaign = this.election.campaign(nodeId);
      let failed: Error | undefined;
      // A campaign may emit 'error' at any time (lease lost); an unheard 'error' would crash.
      campaign.on('error', (e: Error) => (failed = e));
      this.current = { campaign, end: async () => withdrawn.abort() };
      let onAbort: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          campaign.once('elected', resolve);
          campaign.once('error', reject);
          onAbort = () => reject(cancelled());
          stop.addEventListener('abort', onAbort, { once: true });
        });
        const key = await campaign.getCampaignKey();
        return await this.lead(nodeId, campaign, key.slice(key.lastIndexOf('/') + 1), () => failed);
      } catch (e) {
        this.current = undefined;
        await withdraw(campaign);
        if (stop.aborted) throw cancelled();
        log.warn({ err: translateEtcdError(e, 'campaign').message }, 'campaign failed; trying again');
        await sleep(this.retryMs, undefined, { signal: stop }).catch(() => undefined);
      } finally {
        if (onAbort) stop.removeEventListener('abort', onAbort);
      }
    }
    this.current = undefined;
    throw cancelled();
  }

  /** Step down (or stop campaigning). */
  async resign(): Promise<void> {
    const cur = this.current;
    if (cur) await cur.end('resigned');
  }

  /** The leader's node ID as etcd has it now, or undefined when nobody leads. */
  async leader(): Promise<string | undefined> {
    try {
      return await this.election.leader();
    } catch (e) {
      throw translateEtcdError(e, 'read the current leader');
    }
  }

  /**
   * The current leader's node ID (undefined while nobody leads), then every change, until the
   * signal aborts. Survives etcd outages: it re-observes and yields what it finds.
   */
  async *observe(signal: AbortSignal): AsyncIterable<string | undefined> {
    let last: string | undefined | null = null; // null: nothing yielded yet
    while (!signal.aborted) {
      let observer: ElectionObserver | undefined;
      const changes: Array<string | undefined> = [];
      let wake: (() => void) | undefined;
      let broken = false;
      const poke = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      try {
        observer = await this.election.observe();
        changes.push(observer.leader());
        observer.on('change', (v) => {
          changes.push(v);
          poke();
        });
        observer.on('error', () => {
          broken = true;
          poke();
        });
        signal.addEventListener('abort', poke, { once: true });
        while (!signal.aborted && !broken) {
          while (changes.length) {
            const v = changes.shift();
            if (v !== last) yield (last = v);
          }
          if (!broken && !signal.aborted) await new Promise<void>((r) => (wake = r));
        }
      } catch (e) {
        if (!signal.aborted) log.warn({ err: (e as Error).message }, 'observing the leader failed; trying again');
      } finally {
        signal.removeEventListener('abort', poke);
        await observer?.cancel().catch(() => undefined);
      }
      if (!signal.aborted) await sleep(this.retryMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** How long etcd says the lease has left, counted from before the question: ms since epoch, or -1 when it is gone. */
  private async leaseGoodUntil(leaseId: string, waitMs: number): Promise<number> {
    const sent = Date.now();
    const res = await this.client.leaseClient.leaseTimeToLive({ ID: leaseId }, deadline(Math.max(50, waitMs)));
    const ttl = Number(res.TTL);
    return ttl < 0 ? -1 : sent + ttl * 1000;
  }

  private async lead(nodeId: string, campaign: Campaign, leaseId: string, campaignError: () => Error | undefined): Promise<Leadership> {
    // Hand out leadership only with a lease etcd has just vouched for.
    let validUntil = await this.leaseGoodUntil(leaseId, this.checkMs * 4);
    if (validUntil <= Date.now()) throw new ShoalError('UNAVAILABLE', 'election: the lease expired as this candidate was elected');
    const ctl = new AbortController();
    let reason: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const end = async (why: string) => {
      if (ctl.signal.aborted) return;
      reason = why;
      clearTimeout(timer);
      if (this.current?.campaign === campaign) this.current = undefined;
      log.info({ nodeId, reason: why }, 'leadership ended');
      ctl.abort(new ShoalError('UNAVAILABLE', `leadership ended: ${why}`));
      await withdraw(campaign);
    };
    this.current = { campaign, end };
    campaign.on('error', (e: Error) => void end(`lease lost (${e.message})`));
    const schedule = () => (timer = setTimeout(() => void check(), Math.max(0, Math.min(this.checkMs, validUntil - Date.now()))));
    const check = async () => {
      if (ctl.signal.aborted) return;
      try {
        // an answer after validUntil is no use: wait no longer than that
        const until = await this.leaseGoodUntil(leaseId, Math.min(this.checkMs * 4, validUntil - Date.now()));
        if (until < 0) return void end('lease expired or revoked');
        validUntil = Math.max(validUntil, until);
      } catch {
        // etcd out of reach: the lease is only known good until validUntil
      }
      const failed = campaignError();
      if (failed) return void end(`lease lost (${failed.message})`);
      if (Date.now() >= validUntil) return void end('etcd out of reach for longer than the lease lasts');
      schedule();
    };
    schedule();
    log.info({ nodeId, leaseId }, 'elected leader');
    return {
      nodeId,
      leaseId,
      signal: ctl.signal,
      get reason() {
        return reason;
      },
      resign: () => end('resigned'),
    };
  }
}

/** Give up a campaign's lease (best effort: etcd may be out of reach; the lease then expires). */
async function withdraw(campaign: Campaign): Promise<void> {
  await campaign.resign().catch(() => undefined);
}
