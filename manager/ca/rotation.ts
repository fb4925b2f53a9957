// Starting a root rotation from a swarm update (docker swarm ca --rotate [--ca-cert --ca-key]),
// synchronously, so the update's answer already shows RootRotationInProgress (the docker CLI
// starts polling for convergence right after it). decideRotation is the pure part; the CA
// rotation reconciler (reconciler.ts) finishes what this starts.
import { invalid, precondition } from '../../shared/errors';
import type { Node, SwarmSpec } from '../../shared/swarm';
import type { DataKey } from '../../shared/crypto/seal';
import { validateCAConfig, type CAConfig } from './config';
import { RootCA } from './rootca';
import { caFields, caPhase, CASigners, samePem, sealCAKey, type CACluster, type StoredRootCA } from './state';
import { finishTrust, planCARotation } from './reconciler';

export type RotationDecision =
  | { kind: 'none' }
  /** A new root, generated here (ForceRotate changed). */
  | { kind: 'generate' }
  /** The root the user gave (SigningCACert with SigningCAKey). */
  | { kind: 'use'; certPem: string; keyPem: string }
  /** The user asked for the current root back while a rotation was under way. */
  | { kind: 'cancel' };

/**
 * What a CAConfig asks of the CA, as swarmkit decides it: a SigningCACert that differs from
 * the root being moved to starts a rotation to it (its key is needed: there are no external
 * CAs); otherwise a ForceRotate different from the last one acted on generates a new root.
 */
export function decideRotation(ca: StoredRootCA, cfg: CAConfig | undefined): RotationDecision {
  const cert = cfg?.SigningCACert?.trim();
  if (cert) {
    const target = ca.RootRotation?.CACert ?? ca.CACert;
    if (samePem(cert, target)) return { kind: 'none' };
    if (ca.RootRotation && samePem(cert, ca.CACert)) return { kind: 'cancel' };
    if (!cfg?.SigningCAKey?.trim()) throw invalid('invalid CAConfig: rotating to a new SigningCACert needs its SigningCAKey (external CAs are not supported)');
    return { kind: 'use', certPem: cert, keyPem: cfg.SigningCAKey };
  }
  if ((cfg?.ForceRotate ?? 0) !== ca.LastForcedRotation) return { kind: 'generate' };
  return { kind: 'none' };
}

export interface CAUpdateOptions {
  /** The cluster data key (seals the new root's key); required to rotate. */
  dataKey: DataKey | undefined;
  now?: Date;
  /** Default RootCA.generate. */
  generate?: () => Promise<RootCA>;
  /**
   * The cluster's nodes: with them, a rotation asked for right after the previous one ended
   * (every node trusts the new root, the leader has not yet dropped the old one) can start.
   */
  nodes?: Iterable<Node>;
}

/**
 * The cluster fields a swarm update with `spec` leads to: the spec as stored (never the
 * signing key), and when it asks for a rotation, the CA with the rotation started (the new
 * root cross-signed by the current one), the unchanged TLSInfo and RootRotationInProgress.
 * Bad CAConfig values are INVALID_ARGUMENT naming the field.
 */
export async function applyCAConfig(cluster: CACluster, spec: SwarmSpec, opts: CAUpdateOptions): Promise<Partial<CACluster>> {
  validateCAConfig(spec.CAConfig);
  const stored: SwarmSpec = { ...spec };
  if (spec.CAConfig) {
    const { SigningCAKey: _key, ...rest } = spec.CAConfig;
    stored.CAConfig = rest;
  }
  const ca = cluster.RootCA;
  if (!ca) {
    if (spec.CAConfig?.SigningCACert || spec.CAConfig?.ForceRotate) throw precondition('this cluster keeps no CA in its store yet: restart its managers to move the CA there, then rotate');
    return { Spec: stored };
  }
  const decision = decideRotation(ca, spec.CAConfig ?? undefined);
  const lastForced = spec.CAConfig?.ForceRotate ?? ca.LastForcedRotation;
  if (decision.kind === 'none') return { Spec: stored, RootCA: { ...ca, LastForcedRotation: lastForced } };
  if (caPhase(ca) === 'trust' && opts.nodes && planCARotation(cluster, opts.nodes).action === 'finish-trust') return applyCAConfig(finishTrust(cluster, opts.now ?? new Date()), spec, { ...opts, nodes: undefined });
  if (caPhase(ca) === 'trust') throw precondition('the previous CA rotation is still moving nodes to the new root (docker swarm ca shows which); rotate again once every node has it');
  if (!opts.dataKey) throw precondition('this manager has no cluster data key: it cannot seal a new CA key; run the rotation on another manager');
  const next: StoredRootCA = { CACert: ca.CACert, CAKey: ca.CAKey, LastForcedRotation: lastForced };
  if (decision.kind !== 'cancel') {
    const root = decision.kind === 'use' ? await RootCA.fromPem(decision.certPem, decision.keyPem, { now: opts.now }) : await (opts.generate ?? RootCA.generate)();
    const current = await new CASigners(() => opts.dataKey).current(ca);
    next.RootRotation = {
      CACert: root.certPem,
      CAKey: sealCAKey(opts.dataKey, root.certPem, root.keyPem),
      CrossSignedCACert: await current.crossSign(root.certPem, { now: opts.now }),
    };
  }
  return { Spec: stored, ...caFields(next) };
}
