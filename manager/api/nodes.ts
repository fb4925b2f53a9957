// GET/DELETE /nodes, /nodes/{id} and POST /nodes/{id}/update, over the store's node objects.
import { conflict, invalid, isShoalError, notFound, notImplemented } from '../../shared/errors';
import { nodeAttribute, type Node, type NodeRole } from '../../shared/swarm';
import { validateNodeSpec } from '../spec';
import { versionOf } from '../store/types';
import type { ControlContext } from './context';
import { anyOf, anyPrefix, checkFilterKeys, labelMap, matchLabels, type Filters } from './filters';
import { managerOnly, ok, versionParam } from './http';
import { resolveRef } from './lookup';
import type { Router } from '../../shared/api';

const NODE_FILTERS = ['id', 'label', 'membership', 'name', 'node.label', 'role'];

export function nodeHostname(n: Node): string | undefined {
  return n.Description?.Hostname;
}

/** The role a node has (its spec's, as constraints see it). */
export function nodeRole(n: Node): NodeRole {
  return nodeAttribute(n, 'node.role') as NodeRole;
}

/** The name events and messages use for a node: its spec name, else its hostname. */
function displayName(n: Node): string {
  return n.Spec.Name || nodeHostname(n) || '';
}

/** GET /nodes filters as a predicate; bad keys and values are refused as dockerd refuses them. */
export function nodeFilter(filters: Filters): (n: Node) => boolean {
  checkFilterKeys(filters, NODE_FILTERS);
  const roles = upperValues(filters.get('role'), ['WORKER', 'MANAGER'], 'role');
  // Every node in the store was admitted when it joined; none is pending.
  const memberships = upperValues(filters.get('membership'), ['ACCEPTED', 'PENDING'], 'membership');
  const names = filters.get('name');
  const ids = filters.get('id');
  const engineLabels = labelMap(filters.get('label'));
  const nodeLabels = labelMap(filters.get('node.label'));
  return (n) =>
    anyPrefix(nodeHostname(n), names) &&
    anyPrefix(n.ID, ids) &&
    matchLabels(n.Spec.Labels, nodeLabels) &&
    (engineLabels.size === 0 || matchLabels(n.Description?.Engine?.Labels, engineLabels)) &&
    anyOf(nodeRole(n).toUpperCase(), roles) &&
    anyOf('ACCEPTED', memberships);
}

function upperValues(values: string[] | undefined, allowed: string[], what: string): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    if (v === '') continue;
    if (!allowed.includes(v.toUpperCase())) throw invalid(`Invalid ${what} filter: '${v}'`);
    out.push(v.toUpperCase());
  }
  return out;
}

/** A node by ID, hostname or unique ID prefix. */
export function findNode(c: ControlContext, ref: string): Promise<Node> {
  return resolveRef<Node>(c.store, 'nodes', ref, 'node', () => (n) => [nodeHostname(n)]);
}

export function registerNodeRoutes(router: Router, c: ControlContext): void {
  const r = managerOnly(router, c);

  r.get('/nodes', async (ctx) => {
    const match = nodeFilter(ctx.query.filters());
    const { items } = await c.store.list<Node>('nodes');
    ctx.json200(items.filter(match).map((n) => live(c, n)));
  });

  r.get('/nodes/:id', async (ctx) => {
    ctx.json200(live(c, await findNode(c, ctx.params.id)));
  });

  r.delete('/nodes/:id', async (ctx) => {
    const force = ctx.query.bool('force');
    const node = await findNode(c, ctx.params.id);
    // Even with force: a manager leaves the Raft cluster by demotion first, or quorum could go.
    if (nodeRole(node) === 'manager' || node.ManagerStatus) {
      throw invalid(`node ${node.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    if (!force && node.Status?.State === 'ready') throw invalid(`node ${node.ID} is not down and can't be removed`);
    // Compare with what was checked: a node that changed meanwhile is checked again by a retry.
    await c.store.delete('nodes', node.ID, versionOf(node));
    c.events?.publish('node', 'remove', node.ID, { name: displayName(node) }, 'swarm');
    ok(ctx);
  });

  r.post('/nodes/:id/update', async (ctx) => {
    const version = versionParam(ctx, 'node');
    const body = await ctx.json<unknown>();
    const node = await findNode(c, ctx.params.id);
    const spec = validateNodeSpec(body, node.Spec);
    if (versionOf(node) !== version) {
      // The store would refuse the write; refusing before a role change is attempted.
      throw staleNode(node, version);
    }
    const from = nodeRole(node);
    const to = spec.Role ?? from;
    if (from !== to) await changeRole(c, node, to);
    let updated: Node;
    try {
      updated = await c.store.update<Node>('nodes', { ...node, Spec: spec, Version: { Index: version } });
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) throw notFound(`node ${node.ID} not found`);
      throw e;
    }
    c.events?.publish('node', 'update', node.ID, nodeChanges(node, updated), 'swarm');
    ok(ctx);
  });
}

/** A node as the API shows it: a manager's status is what the Raft group says now. */
function live(c: ControlContext, n: Node): Node {
  // A demoted node may still carry the status it had as a manager: a worker shows none.
  if (n.Spec.Role === 'worker' && n.ManagerStatus !== undefined) {
    const { ManagerStatus: _gone, ...worker } = n;
    return worker;
  }
  if (!c.managerStatus || nodeRole(n) !== 'manager') return n;
  const ms = c.managerStatus(n);
  return ms ? { ...n, ManagerStatus: ms } : n;
}

async function changeRole(c: ControlContext, node: Node, to: NodeRole): Promise<void> {
  if (to === 'manager') {
    if (!c.promote) throw notImplemented(`promoting node ${node.ID} to manager is not supported by this manager yet`);
    await c.promote(node);
    return;
  }
  const { items } = await c.store.list<Node>('nodes');
  const managers = items.filter((n) => nodeRole(n) === 'manager');
  if (managers.length === 1 && managers[0].ID === node.ID) throw invalid('attempting to demote the last manager of the swarm');
  if (!c.demote) throw notImplemented(`demoting manager ${node.ID} to worker is not supported by this manager yet`);
  await c.demote(node);
}

// The store's wording, so an early refusal reads like the store's own.
function staleNode(node: Node, given: number) {
  return conflict(`update out of sequence: node ${node.ID} is at version ${versionOf(node)}, not ${given}; re-read it and apply the change again`);
}

/** dockerd's attributes of a node update event: the name, and what changed as .old/.new. */
export function nodeChanges(before: Node, after: Node): Record<string, string> {
  const attrs: Record<string, string> = { name: displayName(after) };
  const a0 = before.Spec.Availability ?? 'active';
  const a1 = after.Spec.Availability ?? 'active';
  if (a0 !== a1) Object.assign(attrs, { 'availability.old': a0, 'availability.new': a1 });
  const r0 = nodeRole(before);
  const r1 = nodeRole(after);
  if (r0 !== r1) Object.assign(attrs, { 'role.old': r0, 'role.new': r1 });
  return attrs;
}
