// The leader keeps the etcd group in line with the Node records: learners that have caught up
// become voters, members whose node is no longer a manager (demoted or removed) leave the
// group when quorum allows it, and members added for a join that never started are dropped.
// planRaft is pure; RaftReconciler applies its plan on a timer while this manager leads.
import type { Etcd3 } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isShoalError } from '../../shared/errors';
import { logger } from '../../shared/log';
import type { Node } from '../../shared/swarm';
import { promoteMember, removeMember } from '../etcd';
import type { ClusterStore } from '../store';
import type { RaftHealth } from './health';
import { removalRefusal, type RaftView } from './quorum';

const log = logger('raft-reconcile');

export type RaftAction = { kind: 'promote'; id: string; name: string } | { kind: 'remove'; id: string; name: string; why: string };

export interface RaftPlan {
  actions: RaftAction[];
  /** Removals quorum does not allow yet, with the reason. */
  held: string[];
}

/**
 * @param managers node IDs whose Node record wants the manager role
 * @param unstartedSince when each unstarted member (by ID) was first seen
 */
export function planRaft(view: RaftView, managers: Set<string>, unstartedSince: Map<string, number>, now: number, staleMs: number): RaftPlan {
  const actions: RaftAction[] = [];
  const held: string[] = [];
  let current = view;
  for (const m of view.members) {
    if (m.name === '') {
      const since = unstartedSince.get(m.id) ?? now;
      if (now - since >= staleMs) actions.push({ kind: 'remove', id: m.id, name: '', why: `added ${Math.round((now - since) / 1000)} s ago and never started` });
      continue;
    }
    if (!managers.has(m.name)) {
      const refusal = removalRefusal(current, m.name, `remove manager ${m.name} from the raft group`);
      if (refusal) {
        held.push(refusal);
        continue;
      }
      actions.push({ kind: 'remove', id: m.id, name: m.name, why: 'its node is no longer a manager' });
      // Later removals in the same plan see the smaller group.
      current = { ...current, members: current.members.filter((x) => x.id !== m.id) };
      continue;
    }
    if (m.learner && m.reachable) actions.push({ kind: 'promote', id: m.id, name: m.name });
  }
  return { actions, held };
}

export interface RaftReconcilerOptions {
  store: ClusterStore;
  etcd: Etcd3;
  health: RaftHealth;
  /** Default 500 ms. */
  intervalMs?: number;
  /** An added member that has not started after this long is removed (default 2 min). */
  staleMs?: number;
}

export class RaftReconciler {
  private readonly unstarted = new Map<string, number>();
  private lastHeld = '';

  constructor(private readonly opts: RaftReconcilerOptions) {}

  /** Reconcile until the signal aborts (leadership ends). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.once().catch((e) => log.warn({ err: errorMessage(e) }, 'raft reconcile failed'));
      await sleep(this.opts.intervalMs ?? 500, undefined, { signal }).catch(() => undefined);
    }
  }

  /** A node that left the group keeps no manager status (if its record is still there). */
  private async forgetManagerStatus(nodeId: string): Promise<void> {
    const n = await this.opts.store.get<Node & { ID: string }>('nodes', nodeId);
    if (n?.ManagerStatus) await this.opts.store.update<Node>('nodes', { ...n, ManagerStatus: null, UpdatedAt: new Date().toISOString() }, { force: true });
  }

  async once(): Promise<RaftPlan> {
    const view = this.opts.health.view();
    const now = Date.now();
    for (const m of view.members) if (m.name === '' && !this.unstarted.has(m.id)) this.unstarted.set(m.id, now);
    for (const id of this.unstarted.keys()) if (!view.members.some((m) => m.id === id && m.name === '')) this.unstarted.delete(id);
    // Only act on a view with members and a node list read now: an empty or failed read must not remove anyone.
    if (view.members.length === 0) return { actions: [], held: [] };
    const { items } = await this.opts.store.list<Node & { ID: string }>('nodes');
    const managers = new Set(items.filter((n) => n.Spec.Role === 'manager').map((n) => n.ID));
    const plan = planRaft(view, managers, this.unstarted, now, this.opts.staleMs ?? 120_000);
    const held = plan.held.join('; ');
    if (held && held !== this.lastHeld) log.warn({ held }, 'raft membership change held back');
    this.lastHeld = held;
    for (const a of plan.actions) {
      try {
        if (a.kind === 'promote') await promoteMember(this.opts.etcd, a.id);
        else {
          await removeMember(this.opts.etcd, a.id);
          if (a.name) await this.forgetManagerStatus(a.name);
        }
        log.info({ action: a.kind, member: a.id, node: a.name || undefined, why: a.kind === 'remove' ? a.why : undefined }, a.kind === 'promote' ? 'etcd learner promoted to voter' : 'etcd member removed');
        await this.opts.health.refresh().catch(() => undefined);
      } catch (e) {
        if (isShoalError(e, 'FAILED_PRECONDITION')) log.debug({ member: a.id, err: errorMessage(e) }, 'raft change not possible yet');
        else log.warn({ member: a.id, err: errorMessage(e) }, `raft ${a.kind} failed`);
      }
    }
    return plan;
  }
}
