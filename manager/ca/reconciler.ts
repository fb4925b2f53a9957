// The leader's CA rotation reconciler: it finishes what a swarm update started (rotation.ts).
// Nodes report what they hold as their Description.TLSInfo (the CA service writes it when a
// node opens its certificate watch). planCARotation compares that with what the CA wants:
//  - certificates phase: when every node's certificate comes from the new root, the new root
//    becomes the cluster's root (TLSInfo, join tokens, RootRotationInProgress false);
//  - trust phase: when every node trusts the new root, the cross-signed copy is dropped and
//    the old root is gone for good.
// A node that never reports (down, not upgraded) holds the rotation up, as in Docker; removing
// it (docker node rm) lets the rotation finish.
import type { Node } from '../../shared/swarm';
import type { Change } from '../leader/cache';
import { commitOps, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';
import { repinJoinTokens } from './tokens';
import { caFields, caPhase, desiredTLS, sameIssuer, samePem, type CACluster, type CAPhase, type StoredRootCA } from './state';

export type CARotationPlan =
  | { action: 'none' }
  /** Nodes still holding something else (IDs, sorted). */
  | { action: 'wait'; phase: Exclude<CAPhase, 'steady'>; pending: string[] }
  | { action: 'finish-certificates' }
  | { action: 'finish-trust' };

/** What the rotation of `cluster` needs, given the nodes' reports. */
export function planCARotation(cluster: CACluster | undefined, nodes: Iterable<Node>): CARotationPlan {
  const ca = cluster?.RootCA;
  if (!ca) return { action: 'none' };
  const phase = caPhase(ca);
  if (phase === 'steady') return { action: 'none' };
  const want = desiredTLS(ca);
  const pending: string[] = [];
  for (const n of nodes) {
    const held = n.Description?.TLSInfo;
    const ok = phase === 'certificates' ? sameIssuer(held, want.issuer) : samePem(held?.TrustRoot, want.trustRoot);
    if (!ok) pending.push(n.ID);
  }
  if (pending.length) return { action: 'wait', phase, pending: pending.sort() };
  return { action: phase === 'certificates' ? 'finish-certificates' : 'finish-trust' };
}

/** Phase 1 done: the new root is the cluster's root; its cross-signed copy stays attached for phase 2. */
export function finishCertificates(cluster: CACluster, now: Date): CACluster {
  const ca = cluster.RootCA!;
  const rot = ca.RootRotation!;
  const next: StoredRootCA = { CACert: rot.CACert, CAKey: rot.CAKey, CrossSignedCACert: rot.CrossSignedCACert, LastForcedRotation: ca.LastForcedRotation };
  const tokens = cluster.JoinTokens;
  return {
    ...cluster,
    ...caFields(next),
    // Docker's behaviour: the tokens pin the new root, so the old ones stop working.
    JoinTokens: tokens?.Worker && tokens.Manager ? repinJoinTokens(tokens, next.CACert) : tokens,
    UpdatedAt: now.toISOString(),
  };
}

/** Phase 2 done: nothing carries the old root any more. */
export function finishTrust(cluster: CACluster, now: Date): CACluster {
  const { CrossSignedCACert: _gone, ...ca } = cluster.RootCA!;
  return { ...cluster, ...caFields(ca), UpdatedAt: now.toISOString() };
}

export class CARotationReconciler extends ReconcileLoop {
  private lastPending = '';
  private readonly now: () => Date;

  constructor(opts: LoopOptions & { now?: () => Date }) {
    super('ca-rotation', ['cluster', 'nodes'], opts);
    this.now = opts.now ?? (() => new Date());
  }

  protected keysFor(c: Change): Iterable<string> {
    if (c.kind === 'cluster') return [c.id];
    return this.rotating();
  }

  protected allKeys(): Iterable<string> {
    return this.cache.ids('cluster');
  }

  /** Clusters with a rotation under way (a node's report only matters then). */
  private *rotating(): Iterable<string> {
    for (const c of this.cache.all<CACluster & { ID: string }>('cluster')) if (c.RootCA && caPhase(c.RootCA) !== 'steady') yield c.ID;
  }

  protected async reconcile(keys: string[]): Promise<void> {
    for (const id of keys) {
      const cluster = this.cache.get<CACluster & { ID: string }>('cluster', id);
      const plan = planCARotation(cluster, this.cache.all<Node>('nodes'));
      if (plan.action === 'none') continue;
      if (plan.action === 'wait') {
        const fp = `${plan.phase}:${plan.pending.join(',')}`;
        if (fp !== this.lastPending) this.log.info({ phase: plan.phase, pending: plan.pending }, 'CA rotation: waiting for nodes');
        this.lastPending = fp;
        continue;
      }
      const next = plan.action === 'finish-certificates' ? finishCertificates(cluster!, this.now()) : finishTrust(cluster!, this.now());
      const out = await commitOps(this.store, [{ op: 'update', kind: 'cluster', object: next }], this.cache);
      if (out.failed.length) throw out.failed[0].error;
      if (out.stale.length) {
        await rereadStale(this.store, this.cache, out.stale);
        this.queue.mark(id);
        continue;
      }
      this.lastPending = '';
      this.log.info({ step: plan.action }, plan.action === 'finish-certificates' ? 'CA rotation: every node holds a certificate from the new root; it is now the cluster root' : 'CA rotation: every node trusts the new root; the old root is dropped');
    }
  }
}
