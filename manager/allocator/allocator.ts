// The allocator: gives services their VIPs and tasks their addresses on the networks they
// join, then moves each new task NEW -> PENDING for the scheduler. It takes addresses back
// when a task ends or goes, and VIPs when a service leaves a network or goes. Addresses live
// in the networks' pools in the store (manager/networks): pool writes are compared on version,
// so two allocators (an old leader not yet stopped, a new one) never hand out one address twice.
import { transitionTask, isDesiredAlive, isNetworkAttachment, isTerminal, type Network, type Service, type Task } from '../../shared/swarm';
import { errorMessage } from '../../shared/errors';
import type { BatchOp } from '../store';
import type { Change } from '../leader/cache';
import { commitOps, rereadStale } from '../leader/commit';
import { ReconcileLoop, type LoopOptions } from '../leader/loop';
import { releaseAddresses, reserveAddresses, storePools, wantKey, type AddressWant } from '../networks/addresses';
import { SUBNETS_ID, nodeOwner, taskOwner, vipOwner, type AddressPool } from '../networks/ipam';
import { attachment, specNetworks, currentVips, endpointCurrent, endpointFor, holdsDeadAddresses, portsTaken, taskNetworks, vipNetworks } from './plan';

/** Docker's status message for a task that has its resources and waits for a node. */
export const ALLOCATED_MESSAGE = 'pending task scheduling';
/** A container's network attachment has its address: it goes straight to its node (no scheduling). */
export const ATTACHED_MESSAGE = 'network attachment allocated';

export type AllocatorOptions = LoopOptions;

/** A task the allocator should move on: observed NEW, still wanted. */
export function needsAllocation(t: Task | undefined): t is Task {
  return !!t && t.Status.State === 'new' && isDesiredAlive(t.DesiredState);
}

const TASK = 'task:';
const SVC = 'svc:';
const NODE = 'node:';
/** Resync key: take back what no live task or service holds (left by a crash between writes). */
const GC = 'gc';

export class Allocator extends ReconcileLoop {
  constructor(opts: AllocatorOptions) {
    super('allocator', ['tasks', 'services', 'networks', 'ipam', 'nodes'], opts);
  }

  protected keysFor(c: Change): Iterable<string> {
    if (c.kind === 'tasks') {
      const t = c.after as Task | undefined;
      const was = c.before as Task | undefined;
      if (needsAllocation(t) || (!t && was?.NetworksAttachments?.length) || (t && holdsDeadAddresses(t) && !(was && isTerminal(was.Status.State)))) return [TASK + c.id];
      return [];
    }
    if (c.kind === 'services') return [SVC + c.id];
    if (c.kind === 'nodes' && (!c.after || !c.before)) return [NODE + c.id];
    // A network (and its pool) appearing lets tasks that waited for it go on; a new ingress
    // network gives every node its address there.
    if (c.kind === 'networks' && c.after && !c.before) return [...this.allKeys()].filter((k) => k.startsWith(TASK) || k.startsWith(NODE));
    return [];
  }

  protected *allKeys(): Iterable<string> {
    for (const t of this.cache.all<Task>('tasks')) if (needsAllocation(t)) yield TASK + t.ID;
    for (const s of this.cache.all<Service>('services')) yield SVC + s.ID;
    for (const n of this.cache.ids('nodes')) yield NODE + n;
    yield GC;
  }

  private ingressId(): string | undefined {
    for (const n of this.cache.all<Network>('networks')) if (n.Spec.Ingress) return n.ID;
    return undefined;
  }

  private poolIds(): string[] {
    return [...this.cache.ids('ipam')].filter((id) => id !== SUBNETS_ID);
  }

  protected async reconcile(keys: string[]): Promise<void> {
    const ingress = this.ingressId();
    const release = new Map<string, Set<string>>(); // network ID or '*' -> owners
    const drop = (net: string, owner: string) => release.set(net, (release.get(net) ?? new Set()).add(owner));
    const wants: AddressWant[] = [];
    const services = new Map<string, { service: Service; vipNets: string[]; taken: Set<string> }>();
    const tasks: Array<{ task: Task; service: Service; nets: string[] }> = [];
    const attachments: Array<{ task: Task; nets: string[] }> = [];
    const waitsFor = (id: string, nets: string[]) => {
      const missing = nets.find((n) => !this.cache.get<Network>('networks', n));
      if (missing) this.log.warn({ task: id, network: missing }, 'task waits for a network that does not exist');
      return !!missing;
    };

    const planService = (id: string) => {
      if (services.has(id)) return services.get(id);
      const s = this.cache.get<Service>('services', id);
      if (!s) {
        drop('*', vipOwner(id));
        return undefined;
      }
      const vipNets = vipNetworks(s, ingress);
      const taken = portsTaken(this.cache.all<Service>('services'), id);
      for (const net of currentVips(s).keys()) if (!vipNets.includes(net)) drop(net, vipOwner(id));
      if (!endpointCurrent(s, vipNets, taken)) for (const net of vipNets) wants.push({ owner: vipOwner(id), networkId: net });
      const plan = { service: s, vipNets, taken };
      services.set(id, plan);
      return plan;
    };

    for (const key of keys) {
      if (key === GC) {
        this.collectGarbage(drop);
      } else if (key.startsWith(SVC)) {
        planService(key.slice(SVC.length));
      } else if (key.startsWith(NODE)) {
        // Every node has an address on the ingress network: the routing mesh's source for
        // connections it sends to a task on another node, so that replies come back to it.
        const id = key.slice(NODE.length);
        if (!this.cache.get('nodes', id)) drop('*', nodeOwner(id));
        else if (ingress) wants.push({ owner: nodeOwner(id), networkId: ingress });
      } else if (key.startsWith(TASK)) {
        const id = key.slice(TASK.length);
        const t = this.cache.get<Task>('tasks', id);
        if (!t || isTerminal(t.Status.State)) {
          drop('*', taskOwner(id));
          continue;
        }
        if (!needsAllocation(t)) continue;
        if (isNetworkAttachment(t)) {
          const nets = specNetworks(t);
          if (waitsFor(id, nets)) continue;
          for (const net of nets) wants.push({ owner: taskOwner(id), networkId: net });
          attachments.push({ task: t, nets });
          continue;
        }
        const plan = planService(t.ServiceID);
        if (!plan) continue; // the orchestrator removes tasks of a service that is gone
        const nets = taskNetworks(t, plan.service, ingress);
        if (waitsFor(id, nets)) continue;
        for (const net of nets) wants.push({ owner: taskOwner(id), networkId: net });
        tasks.push({ task: t, service: plan.service, nets });
      }
    }

    const read = storePools(this.store, (id) => this.cache.get<AddressPool>('ipam', id));
    const got = await reserveAddresses(this.store, wants, read);
    for (const p of got.pools) this.cache.put('ipam', p);
    for (const [k, why] of got.failed) this.log.warn({ want: k, err: why }, 'cannot hand out an address');

    const ops: BatchOp[] = [];
    const endpoints = new Map<string, Service['Endpoint']>();
    for (const [id, { service, vipNets, taken }] of services) {
      if (endpointCurrent(service, vipNets, taken)) {
        endpoints.set(id, service.Endpoint);
        continue;
      }
      const have = currentVips(service);
      const vips = new Map<string, string>();
      let complete = true;
      for (const net of vipNets) {
        const addr = got.addresses.get(wantKey(vipOwner(id), net)) ?? have.get(net);
        if (addr) vips.set(net, addr);
        else complete = false;
      }
      if (!complete) continue; // its tasks wait for the VIPs
      const endpoint = endpointFor(service, vips, taken);
      endpoints.set(id, endpoint);
      const updated: Service = { ...service, Endpoint: endpoint };
      ops.push({ op: 'update', kind: 'services', object: updated });
    }
    /** The task's attachments when it got an address on every network; otherwise it stays NEW and the resync tries again. */
    const attached = (task: Task, nets: string[]) => {
      const out = [];
      for (const net of nets) {
        const addr = got.addresses.get(wantKey(taskOwner(task.ID), net));
        if (!addr) return undefined;
        out.push(attachment(this.cache.get<Network>('networks', net)!, addr));
      }
      return out;
    };
    for (const { task, nets } of tasks) {
      if (!endpoints.has(task.ServiceID)) continue;
      const atts = attached(task, nets);
      if (!atts) continue;
      const endpoint = endpoints.get(task.ServiceID);
      const next: Task = { ...task, ...(atts.length ? { NetworksAttachments: atts } : {}), ...(endpoint ? { Endpoint: structuredClone(endpoint) } : {}) };
      ops.push({ op: 'update', kind: 'tasks', object: transitionTask(next, { State: 'pending', Message: ALLOCATED_MESSAGE }, this.clock.now()) });
    }
    for (const { task, nets } of attachments) {
      const atts = attached(task, nets);
      if (atts) ops.push({ op: 'update', kind: 'tasks', object: transitionTask({ ...task, NetworksAttachments: atts }, { State: 'assigned', Message: ATTACHED_MESSAGE }, this.clock.now()) });
    }

    if (ops.length) {
      const out = await commitOps(this.store, ops, this.cache);
      for (const f of out.failed) this.log.error({ id: f.op.op === 'update' ? f.op.object.ID : undefined, err: f.error.message }, 'cannot store an allocation');
      if (out.stale.length) {
        // Changed since read (a new desired state, a new spec): plan those again from their current version.
        await rereadStale(this.store, this.cache, out.stale);
        for (const s of out.stale) if (s.op.op === 'update') this.queue.mark((s.op.kind === 'services' ? SVC : TASK) + s.op.object.ID);
      }
      this.log.debug({ committed: out.committed, stale: out.stale.length }, 'allocated');
    }
    if (release.size) {
      const written = await releaseAddresses(this.store, release, read, () => this.poolIds()).catch((e) => {
        this.log.warn({ err: errorMessage(e) }, 'cannot take addresses back yet');
        return [];
      });
      for (const p of written) this.cache.put('ipam', p);
    }
  }

  /** Owners in the pools with nothing behind them any more: a task gone or ended, a service gone. */
  private collectGarbage(drop: (net: string, owner: string) => void): void {
    const ingress = this.ingressId();
    for (const id of this.poolIds()) {
      const pool = this.cache.get<AddressPool>('ipam', id);
      for (const owner of new Set(Object.values(pool?.Allocations.allocated ?? {}))) {
        const [kind, oid] = [owner.slice(0, owner.indexOf(':')), owner.slice(owner.indexOf(':') + 1)];
        if (kind === 'task') {
          const t = this.cache.get<Task>('tasks', oid);
          if (!t || isTerminal(t.Status.State)) drop(id, owner);
        } else if (kind === 'node') {
          if (!this.cache.get('nodes', oid) || id !== ingress) drop(id, owner);
        } else if (kind === 'vip') {
          const s = this.cache.get<Service>('services', oid);
          if (!s || !vipNetworks(s, ingress).includes(id)) drop(id, owner);
        }
      }
    }
  }
}
