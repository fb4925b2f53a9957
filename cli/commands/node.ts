// shoal node ls|inspect|rm|update|promote|demote|ps, and the task listing node ps and
// service ps share (names resolved through GET /nodes/{id} and GET /services/{id}).
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { parseFormat, renderRows } from '../format/formatter';
import { TemplateError } from '../format/template';
import { NODE_HEADERS, NODE_TABLE, nodePretty, nodeRow } from '../format/nodes';
import { naturalCompare } from '../format/swarm';
import { TASK_HEADERS, TASK_TABLE, taskRows } from '../format/tasks';
import type { Node, NodeSpec, Service, SwarmInfo, Task, TLSInfo, WithNullLabels } from '../format/swarm-types';
import { addFilter, filtersJson } from '../opts/filters';
import { oneOf } from '../opts/service/values';
import { FlagError } from '../opts/errors';
import { forEachTarget, inspectObjects, printRows, seg } from './common';

const nodePath = (n: string) => `/nodes/${seg(n)}`;

type Info = { Swarm?: SwarmInfo & { Cluster?: { TLSInfo?: TLSInfo } | null } };

/** "self" is this daemon's node (GET /info); anything else is passed on as given. */
export async function nodeReference(cli: Cli, ref: string): Promise<string> {
  if (ref !== 'self') return ref;
  const info = await cli.client.get<Info>('/info');
  if (info.Swarm?.NodeID) return info.Swarm.NodeID;
  // Not a manager, or not in a swarm: the nodes endpoint says which.
  await cli.client.get('/nodes');
  throw new ExitError(1, 'node ID not found in /info');
}

/** Task filters with `node=self` (or any node reference) made a node ID, as `service ps` and `stack ps` take them. */
export async function resolveNodeFilters(cli: Cli, filters: readonly string[] | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const f of filters ?? []) out.push(/^node=/i.test(f) ? `node=${await nodeReference(cli, f.slice(5).trim())}` : f);
  return out;
}

/** Node and service IDs to names, each looked up once; IDs stay as they are when the lookup fails. */
export class IdResolver {
  private cache = new Map<string, string>();

  constructor(
    private readonly cli: Cli,
    private readonly noResolve = false,
  ) {}

  async node(id: string): Promise<string> {
    return this.lookup(`n:${id}`, id, async () => {
      const n = await this.cli.client.get<Node>(nodePath(id));
      return n.Spec?.Name || n.Description?.Hostname || id;
    });
  }

  async service(id: string): Promise<string> {
    return this.lookup(`s:${id}`, id, async () => (await this.cli.client.get<Service>(`/services/${seg(id)}`)).Spec?.Name ?? '');
  }

  private async lookup(key: string, id: string, get: () => Promise<string>): Promise<string> {
    if (this.noResolve || !id) return id;
    if (!this.cache.has(key)) this.cache.set(key, await get().catch(() => id));
    return this.cache.get(key)!;
  }
}

export interface TaskListOptions {
  format?: string;
  quiet?: boolean;
  trunc: boolean;
  noResolve: boolean;
}

/** Print tasks as docker's service ps and node ps do. */
export async function printTasks(cli: Cli, tasks: Task[], o: TaskListOptions): Promise<void> {
  const source = o.format ?? 'table';
  const format = parseFormat(source === 'table' && o.quiet ? '{{.ID}}' : source, TASK_TABLE);
  const r = new IdResolver(cli, o.noResolve);
  const services = new Map<string, string>();
  const nodes = new Map<string, string>();
  for (const t of tasks) {
    services.set(t.ServiceID, await r.service(t.ServiceID));
    nodes.set(t.NodeID ?? '', await r.node(t.NodeID ?? ''));
  }
  const rows = taskRows(tasks, { trunc: o.trunc, table: format.table, serviceName: (id) => services.get(id) ?? id, nodeName: (id) => nodes.get(id) ?? id });
  try {
    cli.out(renderRows(format, rows, TASK_HEADERS));
  } catch (e) {
    if (e instanceof TemplateError) throw new ExitError(1, e.message);
    throw e;
  }
}

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List nodes in the swarm')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-q, --quiet', 'Only display IDs')
    .action(async () => {
      const o = cmd.opts();
      const nodes = await cli.client.get<Node[]>('/nodes', { query: { filters: filtersJson(o.filter) } });
      // docker asks /info only when it has something to mark
      const info = nodes.length && !o.quiet ? await cli.client.get<Info>('/info') : undefined;
      nodes.sort((a, b) => naturalCompare(a.Description?.Hostname ?? '', b.Description?.Hostname ?? ''));
      const rows = nodes.map((n) => nodeRow(n, info?.Swarm?.NodeID, info?.Swarm?.Cluster?.TLSInfo));
      printRows(cli, rows, NODE_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: NODE_TABLE });
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more nodes')
    .argument('<self|node...>')
    .option('-f, --format <string>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[]) => {
      const o = cmd.opts();
      const format: string | undefined = o.pretty ? 'pretty' : o.format;
      const get = async (ref: string) => cli.client.get<Node>(nodePath(await nodeReference(cli, ref)));
      if (format?.startsWith('pretty') && format !== 'pretty') throw new ExitError(1, 'cannot supply extra formatting options to the pretty template');
      if (format !== 'pretty') {
        await inspectObjects(cli, refs, format, get);
        return;
      }
      for (const ref of refs) {
        try {
          cli.out(nodePretty(await get(ref)));
        } catch (e) {
          if (e instanceof ApiError) throw new ExitError(1, `Error response from daemon: ${e.message}`);
          throw e;
        }
      }
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (ids: string[]) => {
      const force = !!cmd.opts().force;
      await forEachTarget(cli, ids, async (id) => void (await cli.client.delete(nodePath(id), { query: { force: force ? 1 : undefined } })));
    });
}

class NoRoleChange extends Error {}

/** GET the node, let `merge` change its spec, POST it back with the version read. */
async function updateNodes(cli: Cli, refs: string[], merge: (n: Node) => void, done: (ref: string) => void): Promise<void> {
  for (const ref of refs) {
    const node = await cli.client.get<Node>(nodePath(ref));
    try {
      merge(node);
    } catch (e) {
      if (e instanceof NoRoleChange) continue;
      throw e;
    }
    await cli.client.post(`${nodePath(node.ID)}/update`, { query: { version: node.Version!.Index }, body: node.Spec });
    done(ref);
  }
}

/** node update's flags applied to a node spec (docker's mergeNodeUpdate). */
export function mergeNodeUpdate(spec: WithNullLabels<NodeSpec>, o: { role?: string; availability?: string; labelAdd?: string[]; labelRm?: string[] }): NodeSpec {
  const out: NodeSpec = { ...spec, Labels: { ...(spec.Labels ?? {}) } };
  if (o.role !== undefined) out.Role = oneOf(o.role, '--role', ['worker', 'manager'] as const);
  if (o.availability !== undefined) out.Availability = oneOf(o.availability, '--availability', ['active', 'pause', 'drain'] as const);
  for (const l of o.labelAdd ?? []) {
    const i = l.indexOf('=');
    if (i === 0) throw new FlagError('--label-add', l, `invalid label '${l}': empty name`);
    out.Labels![i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  for (const k of o.labelRm ?? []) {
    if (!(k in out.Labels!)) throw new ExitError(1, `key ${k} doesn't exist in node's labels`);
    delete out.Labels![k];
  }
  return out;
}

function defineUpdate(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Update a node')
    .argument('<node>')
    .option('--availability <string>', 'Availability of the node ("active", "pause", "drain")')
    .option('--label-add <list>', 'Add or update a node label ("key=value")', list)
    .option('--label-rm <list>', 'Remove a node label if exists', list)
    .option('--role <string>', 'Role of the node ("worker", "manager")')
    .action(async (ref: string) => {
      const o = cmd.opts();
      mergeNodeUpdate({ Labels: Object.fromEntries((o.labelRm ?? []).map((k: string) => [k, ''])) }, o); // bad values fail before anything is sent
      await updateNodes(
        cli,
        [ref],
        (n) => void (n.Spec = mergeNodeUpdate(n.Spec ?? {}, o)),
        () => cli.line(ref),
      );
    });
}

function defineRole(role: 'manager' | 'worker') {
  return (cmd: ShoalCommand, cli: Cli) =>
    cmd
      .description(role === 'manager' ? 'Promote one or more nodes to manager in the swarm' : 'Demote one or more nodes from manager in the swarm')
      .argument('<node...>')
      .action(async (refs: string[]) => {
        await updateNodes(
          cli,
          refs,
          (n) => {
            if (n.Spec?.Role === role) {
              cli.line(`Node ${n.ID} is already a ${role}.`);
              throw new NoRoleChange();
            }
            n.Spec = { ...n.Spec, Role: role };
          },
          (ref) => cli.line(role === 'manager' ? `Node ${ref} promoted to a manager in the swarm.` : `Manager ${ref} demoted in the swarm.`),
        );
      });
}

function definePs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List tasks running on one or more nodes, defaults to current node')
    .argument('[node...]')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (refs: string[]) => {
      const o = cmd.opts();
      const errors: string[] = [];
      const tasks: Task[] = [];
      const base = filtersJson(o.filter);
      for (const ref of refs.length ? refs : ['self']) {
        try {
          const node = await cli.client.get<Node>(nodePath(await nodeReference(cli, ref)));
          tasks.push(...(await cli.client.get<Task[]>('/tasks', { query: { filters: addFilter(base, 'node', node.ID) } })));
        } catch (e) {
          if (e instanceof ApiError) errors.push(`Error response from daemon: ${e.message}`);
          else if (e instanceof ExitError) errors.push(e.message);
          else throw e;
        }
      }
      if (!errors.length || tasks.length) await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: o.trunc !== false, noResolve: o.resolve === false });
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}

export const nodeGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'node', 'Manage Swarm nodes', [
      { name: 'demote', define: defineRole('worker') },
      { name: 'inspect', define: defineInspect },
      { name: 'ls', aliases: ['list'], define: defineLs },
      { name: 'promote', define: defineRole('manager') },
      { name: 'ps', define: definePs },
      { name: 'rm', aliases: ['remove'], define: defineRm },
      { name: 'update', define: defineUpdate },
    ]);
  },
};
