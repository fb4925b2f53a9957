// A node's certificate loop (managers and workers alike). Two tasks:
//  - renew: at a random point between 50% and 80% of the certificate's life, or at once when
//    told (renewNow); a renewal saves key, certificate and root as one set and swaps them into
//    the live TlsIdentity, so new connections use them while open ones (the dispatcher
//    session) carry on; a failure is retried with backoff, on the next manager.
//  - watch: a NodeCA.WatchNodeCertificate stream says what the node should hold (root,
//    issuer, role); holding something else (a root rotation, a promotion) means renewing now.
//    Opening the stream also reports what the node holds, so it is reopened after every
//    renewal, on a connection of its own that presents the new certificate.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isShoalError } from '../../../shared/errors';
import { logger, type Logger } from '../../../shared/log';
import { clientCredentials, identityFromSubject, NodeCAClient, RpcClient, subjectFields, type NodeCertificateState, type TlsIdentity } from '../../../shared/rpc';
import { renewCertificate } from '../enroll/renew';
import type { EnrollResult } from '../enroll/enroll';
import { backoffMs } from '../session/managers';
import { sameCertificates } from '../../../shared/rpc/pki';
import { heldCertificate, nextRenewalMs, renewalReason, RENEWAL_RETRY, type HeldCertificate } from './plan';

export interface NodeCertificatesOptions {
  /** The node's live identity: renewals update it. */
  identity: TlsIdentity;
  /** Where the credentials are saved (shared/rpc certstore). */
  stateDir: string;
  /** Managers' gRPC addresses (host:port), best first; read at every attempt. */
  managers: () => string[];
  /** The node's advertise address (a manager's certificate names it). */
  addr?: string;
  /** Deadline of a renewal call; default 10 s. */
  callTimeoutMs?: number;
  random?: () => number;
  log?: Logger;
}

export interface RenewedCertificate extends EnrollResult {
  /** Why it was renewed ("due", or what the managers asked for). */
  reason: string;
  /**
   * The node now trusts another root (a root rotation reached it). What read the root file
   * once must read it again: etcd 3.4, for one, loads --trusted-ca-file only at start.
   */
  trustChanged: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** A manager that is older than this contract: renew on schedule only, and ask again much later. */
const UNSUPPORTED_WATCH_RETRY_MS = 60_000;

export class NodeCertificates {
  private readonly life = new AbortController();
  /** Wakes the renewal loop's wait (renewNow). */
  private wakeRenewal?: () => void;
  private forced: string | undefined;
  /** The forced renewal comes from the watch alone (and may turn out to be done already). */
  private forcedByWatch = false;
  private loops: Promise<void>[] = [];
  private readonly listeners = new Set<(r: RenewedCertificate) => void | Promise<void>>();
  private readonly log: Logger;
  private readonly random: () => number;
  /** What the managers last said the node should hold. */
  private wanted?: NodeCertificateState;
  /** Aborted to reopen the watch (after a renewal: report the new certificate). */
  private watchAc?: AbortController;
  private cursor = 0;
  /** Only managers of this cluster are trusted (it never changes: renewals keep the node's identity). */
  private readonly clusterId: string | undefined;

  constructor(private readonly opts: NodeCertificatesOptions) {
    this.log = (opts.log ?? logger('certs')).child({ part: 'certs' });
    this.random = opts.random ?? Math.random;
    this.clusterId = identityFromSubject(subjectFields(opts.identity.current.certPem))?.clusterId;
  }

  /** Run until stop() or the signal aborts. Returns at once. */
  start(signal?: AbortSignal): void {
    if (this.loops.length) return;
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal?.aborted) return;
    this.loops = [this.renewLoop(), this.watchLoop()];
  }

  async stop(): Promise<void> {
    this.life.abort();
    await Promise.allSettled(this.loops);
  }

  /** Renew as soon as possible (the node's role or the cluster's root changed). */
  renewNow(reason: string): void {
    this.request(reason, false);
  }

  private request(reason: string, byWatch: boolean): void {
    if (this.forced === undefined) this.forcedByWatch = byWatch;
    else if (!byWatch) this.forcedByWatch = false;
    this.forced ??= reason;
    this.wakeRenewal?.();
  }

  /**
   * Called after each renewal, the new credentials saved and in use; returns an unsubscribe
   * function. The node reports what it holds (the watch reopens) only once every listener
   * has settled: one that must reload what read the old root (etcd) does so before the
   * cluster learns that this node trusts the new one.
   */
  onRenewed(fn: (r: RenewedCertificate) => void | Promise<void>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private held(): HeldCertificate | undefined {
    try {
      return heldCertificate(this.opts.identity.current);
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'the node certificate does not verify against its own root; trying to renew it');
      return undefined;
    }
  }

  /** The managers to try, starting with the one that worked last. */
  private candidates(): string[] {
    const list = this.opts.managers();
    if (!list.length) return [];
    const start = this.cursor % list.length;
    return [...list.slice(start), ...list.slice(0, start)];
  }

  private client(addr: string, ownConnection = false): RpcClient {
    // The watch needs a handshake of its own: on a shared connection the manager would see
    // the certificate of whoever opened it, not the one just renewed.
    return new RpcClient(addr, clientCredentials(this.opts.identity, { clusterId: this.clusterId }), ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {});
  }

  // ------------------------------------------------------------------ renew

  private async renewLoop(): Promise<void> {
    const signal = this.life.signal;
    let failures = 0;
    while (!signal.aborted) {
      const held = this.held();
      // After a failure, wait out the backoff even when told to renew (the managers just said no).
      const delay = failures ? backoffMs(failures, RENEWAL_RETRY, this.random) : this.forced ? 0 : held ? nextRenewalMs(held, new Date(), this.random) : 0;
      if (delay > 0) {
        const ac = new AbortController();
        const both = AbortSignal.any([signal, ac.signal]);
        // Node's timers stop at 2^31-1 ms (24.8 days); a 90-day certificate's wait is taken in steps.
        const step = Math.min(delay, MAX_TIMER_MS);
        const timer = sleep(step, 'due' as const, { signal: both }).catch(() => 'stopped' as const);
        const told = new Promise<'told'>((resolve) => (this.wakeRenewal = () => resolve('told')));
        const woke = await Promise.race(failures ? [timer] : [timer, told]);
        this.wakeRenewal = undefined;
        ac.abort();
        if (signal.aborted) return;
        if (woke === 'due' && step < delay) continue;
      }
      // Told during the last renewal, about what that renewal already brought: nothing to do.
      if (this.forced && this.forcedByWatch && held && this.wanted && !renewalReason(held, this.wanted)) {
        this.forced = undefined;
        continue;
      }
      const reason = this.forced ?? 'due';
      this.forced = undefined;
      this.forcedByWatch = false;
      try {
        await this.renewOnce(reason, signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        if (reason !== 'due') this.forced ??= reason;
        this.log.warn({ err: errorMessage(e), failures, reason }, 'certificate renewal failed; will retry');
      }
    }
  }

  private async renewOnce(reason: string, signal: AbortSignal): Promise<void> {
    const managers = this.candidates();
    if (!managers.length) throw new Error('no manager address is known');
    let lastErr: unknown;
    for (let i = 0; i < managers.length; i++) {
      const addr = managers[i];
      const rpc = this.client(addr);
      const trustBefore = this.opts.identity.current.caPem;
      try {
        const r = await renewCertificate({ rpc, identity: this.opts.identity, stateDir: this.opts.stateDir, addr: this.opts.addr, signal, timeoutMs: this.opts.callTimeoutMs ?? 10_000 });
        this.cursor += i;
        this.log.info({ manager: addr, reason, role: r.role, notAfter: r.notAfter }, 'node certificate renewed and in use');
        const renewed: RenewedCertificate = { ...r, reason, trustChanged: !sameCertificates(trustBefore, r.credentials.caPem) };
        await Promise.all(
          [...this.listeners].map(async (l) => {
            try {
              await l(renewed);
            } catch (e) {
              this.log.warn({ err: errorMessage(e) }, 'renewal listener failed');
            }
          }),
        );
        // Report the new certificate: reopen the watch on a fresh connection.
        this.watchAc?.abort();
        return;
      } catch (e) {
        lastErr = e;
        // A refusal (removed node, bad request) is the same everywhere; an unreachable manager is not.
        if (!isShoalError(e, 'UNAVAILABLE')) throw e;
      } finally {
        rpc.close();
      }
    }
    this.cursor++;
    throw lastErr;
  }

  // ------------------------------------------------------------------ watch

  private async watchLoop(): Promise<void> {
    const signal = this.life.signal;
    let failures = 0;
    while (!signal.aborted) {
      const addr = this.candidates()[0];
      if (!addr) return;
      const ac = (this.watchAc = new AbortController());
      const rpc = this.client(addr, true);
      let wait = 0;
      try {
        const stream = new NodeCAClient(rpc).watchNodeCertificate({ trustRoot: this.opts.identity.current.caPem }, { signal: AbortSignal.any([signal, ac.signal]) });
        for await (const want of stream) {
          failures = 0;
          this.wanted = want;
          const held = this.held();
          const reason = held ? renewalReason(held, want) : 'the certificate does not verify';
          if (reason) {
            this.log.info({ reason }, 'the managers want this node to renew its certificate now');
            this.request(reason, true);
          }
        }
        // Ended by a renewal (reopen at once) or by the manager (reconnect after a pause).
        if (!ac.signal.aborted) wait = backoffMs(++failures, { initialMs: 200, maxMs: 5000 }, this.random);
      } catch (e) {
        if (signal.aborted) return;
        if (isShoalError(e, 'NOT_IMPLEMENTED')) wait = UNSUPPORTED_WATCH_RETRY_MS;
        else {
          failures++;
          wait = backoffMs(failures, { initialMs: 200, maxMs: isShoalError(e, 'PERMISSION_DENIED') || isShoalError(e, 'NOT_FOUND') ? 60_000 : 5000 }, this.random);
          if (failures === 1 || failures % 20 === 0) this.log.warn({ manager: addr, err: errorMessage(e), failures }, 'certificate watch failed; will retry');
          if (isShoalError(e, 'UNAVAILABLE')) this.cursor++;
        }
      } finally {
        rpc.close();
      }
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }
}
