// shoal service create|inspect|logs|ls|ps|rm|rollback|scale|update: docker's verbs, flags,
// output and HTTP calls. create, update, scale and rollback wait for convergence unless -d.
import { readFileSync } from 'node:fs';
import type { Cli } from '../context';
import { ApiError, EMPTY_AUTH } from '../client';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { inspectTemplate, renderInspect } from '../format/inspect';
import { truncateId } from '../format/human';
import { naturalCompare } from '../format/swarm';
import { SERVICE_HEADERS, SERVICE_TABLE, servicePretty, serviceRow } from '../format/services';
import type { Service, ServiceSpec, Task } from '../format/swarm-types';
import { Demuxer, StreamType } from '../../shared/api/stdcopy';
import { addFilter, filtersJson } from '../opts/filters';
import { apiTimestamp } from '../opts/time';
import { familiarString, parseRef } from '../reference';
import { addCreateFlags, addUpdateFlags, type CreateServiceFlags, type UpdateServiceFlags } from '../opts/service/flags';
import { buildServiceSpec, type SpecDeps } from '../opts/service/create';
import { checkUpdateFlags, updateServiceSpec } from '../opts/service/update';
import { parseUint } from '../opts/service/values';
import { fillReferenceIds, resolveFileRefs, type FileRef, type FileRefKind, type NamedObject } from '../opts/service/secrets';
import { waitOnService, withInterrupt } from '../io/converge';
import { forEachTarget, printRows, seg } from './common';
import { IdResolver, printTasks, resolveNodeFilters } from './node';

const servicePath = (s: string) => `/services/${seg(s)}`;

/** --secret/--config names to IDs, with one GET /secrets (or /configs) filtered by name. */
function fileRefResolver(cli: Cli): (kind: FileRefKind, refs: FileRef[]) => Promise<FileRef[]> {
  return (kind, refs) => resolveFileRefs(kind, refs, (names) => cli.client.get<NamedObject[]>(`/${kind}s`, { query: { filters: JSON.stringify({ name: names }) } }));
}

function specDeps(cli: Cli): SpecDeps {
  return { readFile: (p) => readFileSync(p), lookupEnv: (k) => cli.io.env[k] };
}

/** A network name or ID to its ID, as docker resolves --network (GET /networks/{name}?scope=swarm). */
async function resolveNetwork(cli: Cli, nameOrId: string): Promise<string> {
  const n = await cli.client.get<{ Id: string }>(`/networks/${seg(nameOrId)}`, { query: { scope: 'swarm' } });
  return n.Id;
}

interface DistributionInspect {
  Descriptor: { digest: string };
  Platforms?: Array<{ architecture?: string; os?: string }> | null;
}

/** The warning docker prints when an image cannot be pinned to a digest. */
export function digestWarning(image: string): string {
  return `image ${image} could not be accessed on a registry to record\nits digest. Each node will access ${image} independently,\npossibly leading to different nodes running different\nversions of the image.\n`;
}

/** Pin the image to its registry digest and record its platforms (GET /distribution/{name}/json); a warning when the registry cannot tell. */
export function pinImage(spec: ServiceSpec, d: DistributionInspect): void {
  const cs = spec.TaskTemplate!.ContainerSpec!;
  const ref = parseRef(cs.Image!);
  if (!ref.digest) cs.Image = familiarString({ ...ref, digest: d.Descriptor.digest });
  const seen = new Set<string>();
  const platforms: Array<{ Architecture: string; OS: string }> = [];
  for (const p of d.Platforms ?? []) {
    if (p.os === 'unknown' || p.architecture === 'unknown') continue;
    // swarm nodes report "armv7l" and the like: an "arm" constraint would never match
    const arch = (p.architecture ?? '').toLowerCase() === 'arm' ? '' : (p.architecture ?? '');
    const key = `${p.os}/${arch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    platforms.push({ Architecture: arch, OS: p.os ?? '' });
  }
  if (platforms.length) (spec.TaskTemplate!.Placement ??= {}).Platforms = platforms;
}

async function resolveImage(cli: Cli, spec: ServiceSpec, auth: Record<string, string> | undefined): Promise<string | undefined> {
  const image = spec.TaskTemplate!.ContainerSpec?.Image ?? '';
  try {
    pinImage(spec, await cli.client.get<DistributionInspect>(`/distribution/${seg(image)}/json`, { headers: auth }));
    return undefined;
  } catch {
    return digestWarning(image);
  }
}

async function wait(cli: Cli, id: string, quiet: boolean): Promise<void> {
  await withInterrupt((signal) => waitOnService(cli, id, { quiet, interrupt: signal }));
}

function printWarnings(cli: Cli, warnings: Array<string | undefined> | null | undefined): void {
  for (const w of warnings ?? []) if (w !== undefined) cli.err(`${w}\n`);
}

function defineCreate(cmd: ShoalCommand, cli: Cli): void {
  addCreateFlags(cmd.description('Create a new service').argument('<image>').argument('[command...]').passThroughOptions().configureHelp({ sortOptions: true }) as ShoalCommand).action(async (image: string, args: string[]) => {
    const f = cmd.opts() as CreateServiceFlags;
    const spec = buildServiceSpec(f, image, args, specDeps(cli));
    await fillReferenceIds(spec.TaskTemplate!.ContainerSpec!, fileRefResolver(cli));
    const nets = spec.TaskTemplate!.Networks;
    if (nets) {
      for (const n of nets) n.Target = await resolveNetwork(cli, n.Target!);
      nets.sort((a, b) => (a.Target! < b.Target! ? -1 : a.Target! > b.Target! ? 1 : 0));
    }
    const auth = f.withRegistryAuth ? EMPTY_AUTH : undefined;
    const warnings: Array<string | undefined> = [];
    if (f.resolveImage !== false) warnings.push(await resolveImage(cli, spec, auth));
    const r = await cli.client.post<{ ID: string; Warnings?: string[] | null }>('/services/create', { body: spec, headers: auth });
    printWarnings(cli, [...warnings, ...(r.Warnings ?? [])]);
    cli.line(r.ID);
    if (!f.detach) await wait(cli, r.ID, !!f.quiet);
  });
}

function defineUpdate(cmd: ShoalCommand, cli: Cli): void {
  addUpdateFlags(cmd.description('Update a service').argument('<service>').configureHelp({ sortOptions: true }) as ShoalCommand).action(async (name: string) => {
    const f = cmd.opts() as UpdateServiceFlags;
    await checkUpdateFlags(f, specDeps(cli));
    const svc = await cli.client.get<Service>(servicePath(name));
    const spec = await updateServiceSpec(svc.Spec, f, { ...specDeps(cli), resolveNetwork: (n) => resolveNetwork(cli, n), resolveFileRefs: fileRefResolver(cli) });
    const auth = f.withRegistryAuth ? EMPTY_AUTH : undefined;
    const warnings: Array<string | undefined> = [];
    if (f.image !== undefined && f.resolveImage !== false) warnings.push(await resolveImage(cli, spec, auth));
    const r = await cli.client.post<{ Warnings?: string[] | null } | undefined>(`${servicePath(svc.ID)}/update`, {
      query: { version: svc.Version!.Index, registryAuthFrom: auth ? undefined : 'spec', rollback: f.rollback ? 'previous' : 'none' },
      body: spec,
      headers: auth,
    });
    printWarnings(cli, [...warnings, ...(r?.Warnings ?? [])]);
    cli.line(name);
    if (!f.detach) await wait(cli, name, !!f.quiet);
  });
}

function defineRollback(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description("Revert changes to a service's configuration")
    .argument('<service>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (name: string) => {
      const o = cmd.opts();
      const svc = await cli.client.get<Service>(servicePath(name));
      const r = await cli.client.post<{ Warnings?: string[] | null } | undefined>(`${servicePath(svc.ID)}/update`, { query: { version: svc.Version!.Index, rollback: 'previous' }, body: svc.Spec });
      printWarnings(cli, r?.Warnings);
      cli.line(name);
      if (!o.detach) await wait(cli, name, !!o.quiet);
    });
}

const SCALE_USAGE = 'shoal service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]';

/** The spec with its replica count (or a replicated job's completions) set to `n`. */
export function scaledSpec(spec: ServiceSpec, n: number): ServiceSpec {
  const out = structuredClone(spec);
  if (out.Mode?.Replicated) out.Mode.Replicated.Replicas = n;
  else if (out.Mode?.ReplicatedJob) out.Mode.ReplicatedJob.TotalCompletions = n;
  else throw new Error('scale can only be used with replicated or replicated-job mode');
  return out;
}

function defineScale(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (args: string[]) => {
      for (const a of args) {
        const i = a.indexOf('=');
        if (i <= 0 || i === a.length - 1) throw new ExitError(1, `invalid scale specifier '${a}'.\nSee 'shoal service scale --help'.\n\nUsage:  ${SCALE_USAGE}\n\nScale one or multiple replicated services`);
      }
      const errors: string[] = [];
      const scaled: string[] = [];
      for (const a of args) {
        const i = a.indexOf('=');
        const name = a.slice(0, i);
        const value = a.slice(i + 1);
        let n: number;
        try {
          n = parseUint(value, 'replicas');
        } catch {
          errors.push(`${name}: invalid replicas value ${value}: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`);
          continue;
        }
        try {
          const svc = await cli.client.get<Service>(servicePath(name));
          const r = await cli.client.post<{ Warnings?: string[] | null } | undefined>(`${servicePath(svc.ID)}/update`, { query: { version: svc.Version!.Index }, body: scaledSpec(svc.Spec, n) });
          printWarnings(cli, r?.Warnings);
        } catch (e) {
          errors.push(`${name}: ${e instanceof ApiError ? `Error response from daemon: ${e.message}` : (e as Error).message}`);
          continue;
        }
        cli.line(`${name} scaled to ${n}`);
        scaled.push(name);
      }
      if (!cmd.opts().detach) {
        for (const name of scaled) {
          try {
            await wait(cli, name, false);
          } catch (e) {
            errors.push(`${name}: ${(e as Error).message}`);
          }
        }
      }
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more services')
    .argument('<service...>')
    .action(async (names: string[]) => {
      await forEachTarget(cli, names, async (n) => void (await cli.client.delete(servicePath(n))));
    });
}

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List services')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-q, --quiet', 'Only display IDs')
    .action(async () => {
      const o = cmd.opts();
      const services = await cli.client.get<Service[]>('/services', { query: { filters: filtersJson(o.filter), status: o.quiet ? undefined : 'true' } });
      services.sort((a, b) => naturalCompare(a.Spec.Name ?? '', b.Spec.Name ?? ''));
      printRows(cli, services.map(serviceRow), SERVICE_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: SERVICE_TABLE });
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more services')
    .argument('<service...>')
    .option('-f, --format <string>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[]) => {
      const o = cmd.opts();
      const format: string | undefined = o.pretty ? 'pretty' : o.format;
      if (format?.startsWith('pretty') && format !== 'pretty') throw new ExitError(1, 'cannot supply extra formatting options to the pretty template');
      const get = async (ref: string) => {
        try {
          return await cli.client.get<Service>(servicePath(ref), { query: { insertDefaults: 1 } });
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) throw new ExitError(1, `no such service: ${ref}`);
          throw e;
        }
      };
      if (format === 'pretty') {
        for (const ref of refs) {
          const s = await get(ref);
          const names: Record<string, string> = {};
          for (const n of s.Spec.TaskTemplate?.Networks ?? []) {
            const net = await cli.client.get<{ Id: string; Name: string }>(`/networks/${seg(n.Target ?? '')}`, { query: { scope: 'swarm' } }).catch(() => undefined);
            if (net) names[net.Id] = net.Name;
          }
          cli.out(servicePretty(s, names));
        }
        return;
      }
      const tmpl = inspectTemplate(format);
      const found: Service[] = [];
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          found.push(await get(ref));
        } catch (e) {
          if (!(e instanceof ExitError)) throw e;
          errors.push(e.message);
        }
      }
      if (found.length || !tmpl) cli.out(renderInspect(found, tmpl));
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}

/** The task filter for service ps: each name matched as an ID, a name, then an ID prefix (docker's createFilter). */
async function psFilter(cli: Cli, names: string[], base: string | undefined): Promise<{ filters: string; notFound: string[] }> {
  const byId = await cli.client.get<Service[]>('/services', { query: { filters: filtersJson(names.map((n) => `id=${n}`)) } });
  const byName = await cli.client.get<Service[]>('/services', { query: { filters: filtersJson(names.map((n) => `name=${n}`)) } });
  let filters = base;
  const notFound: string[] = [];
  let count = 0;
  for (const n of names) {
    const exact = byId.find((s) => s.ID === n) ?? byName.find((s) => s.Spec.Name === n);
    const prefixed = exact ? [exact] : byId.filter((s) => s.ID.startsWith(n));
    if (prefixed.length > 1) throw new ExitError(1, `multiple services found with provided prefix: ${n}`);
    if (!prefixed.length) {
      notFound.push(`no such service: ${n}`);
      continue;
    }
    filters = addFilter(filters, 'service', prefixed[0].ID);
    count++;
  }
  if (count === 0) throw new ExitError(1, notFound.join('\n'));
  return { filters: filters!, notFound };
}

function definePs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List the tasks of one or more services')
    .argument('<service...>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      const { filters, notFound } = await psFilter(cli, names, filtersJson(await resolveNodeFilters(cli, o.filter as string[] | undefined)));
      const tasks = await cli.client.get<Task[]>('/tasks', { query: { filters } });
      await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: !o.quiet && o.trunc !== false, noResolve: o.resolve === false });
      if (notFound.length) throw new ExitError(1, notFound.join('\n'));
    });
}

/** Parse docker's log details ("k=v,k2=v2", values query-escaped). */
export function parseLogDetails(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error('invalid details format');
    const unescape = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
    out[unescape(pair.slice(0, i))] = unescape(pair.slice(i + 1));
  }
  return out;
}

export interface LogLineOptions {
  timestamps: boolean;
  details: boolean;
}

/**
 * Split one log message of a details stream into its timestamp, its task context and its text,
 * and the user-visible details (those that are not swarm context). Throws on a malformed line.
 */
export function splitLogLine(line: string, o: LogLineOptions): { timestamp?: string; node: string; service: string; task: string; details: string; text: string } {
  const n = o.timestamps ? 3 : 2;
  const parts: string[] = [];
  let rest = line;
  while (parts.length < n - 1) {
    const i = rest.indexOf(' ');
    if (i < 0) throw new Error(`invalid context in log message: ${line}`);
    parts.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  parts.push(rest);
  const d = parseLogDetails(parts[o.timestamps ? 1 : 0]);
  const take = (k: string) => {
    const v = d[k];
    if (v === undefined) throw new Error(`missing ${k.split('.')[3]} id in details: ${JSON.stringify(d)}`);
    delete d[k];
    return v;
  };
  const node = take('com.docker.swarm.node.id');
  const service = take('com.docker.swarm.service.id');
  const task = take('com.docker.swarm.task.id');
  const details = o.details
    ? `${Object.keys(d)
        .map((k) => `${k}=${d[k]}`)
        .sort()
        .join(',')} `
    : '';
  return { timestamp: o.timestamps ? parts[0] : undefined, node, service, task, details, text: parts[parts.length - 1] };
}

function defineLogs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Fetch the logs of a service or task')
    .argument('<service|task>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--no-resolve', 'Do not map IDs to Names in output')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .option('--raw', 'Do not neatly format logs')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs (default "all")')
    .option('-t, --timestamps', 'Show timestamps')
    .action(async (target: string) => {
      const o = cmd.opts();
      let path: string;
      let tty: boolean;
      let width = 1;
      try {
        const svc = await cli.client.get<Service>(servicePath(target));
        tty = !!svc.Spec.TaskTemplate?.ContainerSpec?.TTY;
        const replicas = svc.Spec.Mode?.Replicated?.Replicas;
        if (replicas !== undefined) width = String(replicas).length;
        path = `${servicePath(target)}/logs`;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        let task: Task;
        try {
          task = await cli.client.get<Task>(`/tasks/${seg(target)}`);
        } catch (e2) {
          if (e2 instanceof ApiError && e2.status === 404) throw new ExitError(1, `no such task or service: ${target}`);
          throw e2;
        }
        tty = !!task.Spec?.ContainerSpec?.TTY;
        width = String(task.Slot ?? 0).length;
        path = `/tasks/${seg(target)}/logs`;
      }
      if (tty && !o.raw) throw new ExitError(1, 'tty service logs only supported with --raw');
      const tail = o.tail === undefined || o.tail === 'all' || o.tail === '' ? undefined : o.tail;
      const stream = await cli.client.stream('GET', path, {
        query: {
          stdout: 1,
          stderr: 1,
          since: o.since ? apiTimestamp(o.since) : undefined,
          timestamps: o.timestamps ? 1 : undefined,
          details: o.details || !o.raw ? 1 : undefined,
          follow: o.follow ? 1 : undefined,
          tail,
        },
      });
      if (tty) {
        for await (const chunk of stream) cli.out(chunk);
        return;
      }
      const resolver = new IdResolver(cli, o.resolve === false);
      const prefixes = new Map<string, string>();
      const prefix = async (ctx: { node: string; service: string; task: string }) => {
        const key = `${ctx.node}/${ctx.service}/${ctx.task}`;
        if (!prefixes.has(key)) {
          const node = await resolver.node(ctx.node);
          const service = await resolver.service(ctx.service);
          const task = await cli.client.get<Task>(`/tasks/${seg(ctx.task)}`);
          let name = `${service}.${task.Slot ?? 0}`;
          if (o.taskIds !== false) name += `.${o.trunc === false ? task.ID : truncateId(task.ID)}`;
          prefixes.set(key, `${name}@${node}${' '.repeat(Math.max(0, width - String(task.Slot ?? 0).length))}`);
        }
        return prefixes.get(key)!;
      };
      const demux = new Demuxer();
      for await (const chunk of stream) {
        for (const frame of demux.push(chunk)) {
          const sink = frame.stream === StreamType.Stderr ? cli.io.stderr : cli.io.stdout;
          if (o.raw) {
            sink.write(frame.data);
            continue;
          }
          const l = splitLogLine(frame.data.toString(), { timestamps: !!o.timestamps, details: !!o.details });
          sink.write(`${l.timestamp !== undefined ? `${l.timestamp} ` : ''}${await prefix(l)}    | ${l.details}${l.text}`);
        }
      }
    });
}

export const serviceGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'service', 'Manage Swarm services', [
      { name: 'create', define: defineCreate },
      { name: 'inspect', define: defineInspect },
      { name: 'logs', define: defineLogs },
      { name: 'ls', aliases: ['list'], define: defineLs },
      { name: 'ps', define: definePs },
      { name: 'rm', aliases: ['remove'], define: defineRm },
      { name: 'rollback', define: defineRollback },
      { name: 'scale', define: defineScale },
      { name: 'update', define: defineUpdate },
    ]);
  },
};
