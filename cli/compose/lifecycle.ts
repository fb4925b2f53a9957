// stop, start and down: they work from the labels on the project's containers (the
// depends_on label gives their order), so they need no valid file, only the project name.
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError } from '../errors';
import { ProjectApi, type ProjectContainer } from './engine';
import { DEPENDS_LABEL, PROJECT_LABEL } from './labels';
import { inDependencyOrder, type Dependent } from './order';
import type { ComposeProject } from './model';

interface ServiceGroup extends Dependent {
  containers: ProjectContainer[];
}

/** "db:service_healthy:false,cache:service_started:false" -> the service names. */
export function parseDependsLabel(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((x) => x.split(':')[0])
    .filter((x) => x);
}

/** The containers grouped per service, with the depends_on recorded on them. */
export function serviceGroups(containers: readonly ProjectContainer[]): ServiceGroup[] {
  const groups = new Map<string, ServiceGroup>();
  for (const c of containers) {
    let g = groups.get(c.service);
    if (!g) {
      g = { name: c.service, dependsOn: parseDependsLabel(c.summary.Labels?.[DEPENDS_LABEL]).map((service) => ({ service })), containers: [] };
      groups.set(c.service, g);
    }
    g.containers.push(c);
  }
  return [...groups.values()];
}

export async function stop(cli: Cli, project: string, services: string[], timeout?: number): Promise<void> {
  const api = new ProjectApi(cli, project);
  const running = await api.containers({ runningOnly: true, services });
  await inDependencyOrder(serviceGroups(running), async (g) => void (await Promise.all(g.containers.map((c) => api.stop(c, timeout)))), { reverse: true });
}

export async function start(cli: Cli, project: string, services: string[]): Promise<void> {
  const api = new ProjectApi(cli, project);
  const all = await api.containers({ services });
  if (!all.length) throw new ExitError(1, 'no containers to start');
  await inDependencyOrder(serviceGroups(all), async (g) => void (await Promise.all(g.containers.filter((c) => !c.running).map((c) => api.start(c)))));
}

export interface DownOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
  timeout?: number;
}

/**
 * Stop and remove the project's containers (dependents first), then the networks it made and,
 * with -v, its volumes. With the file at hand, containers of services it no longer has are
 * orphans: left alone (with a warning) unless --remove-orphans.
 */
export async function down(cli: Cli, project: string, file: ComposeProject | undefined, opts: DownOptions): Promise<void> {
  const api = new ProjectApi(cli, project);
  const all = await api.containers();
  const known = file ? new Set(file.services.map((s) => s.name)) : undefined;
  const orphans = known ? all.filter((c) => !known.has(c.service)) : [];
  if (orphans.length && !opts.removeOrphans) {
    cli.err(`WARN[0000] Found orphan containers ([${orphans.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`);
  }
  const doomed = opts.removeOrphans ? all : all.filter((c) => !orphans.includes(c));
  await inDependencyOrder(
    serviceGroups(doomed),
    async (g) => {
      await Promise.all(
        g.containers.map(async (c) => {
          if (c.running) await api.stop(c, opts.timeout);
          await api.remove(c, !!opts.volumes);
        }),
      );
    },
    { reverse: true },
  );
  const filters = JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] });
  const networks = await cli.client.get<Array<{ Id: string; Name: string }>>('/networks', { query: { filters } });
  for (const n of networks.sort((a, b) => (a.Name < b.Name ? -1 : 1))) {
    api.progress('Network', n.Name, 'Removing');
    try {
      await cli.client.delete(`/networks/${n.Id}`);
      api.progress('Network', n.Name, 'Removed');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      api.progress('Network', n.Name, `Error: ${e.message}`);
      cli.exitCode = 1;
    }
  }
  if (!opts.volumes) return;
  const vols = await cli.client.get<{ Volumes?: Array<{ Name: string }> | null }>('/volumes', { query: { filters } });
  for (const v of (vols.Volumes ?? []).sort((a, b) => (a.Name < b.Name ? -1 : 1))) {
    api.progress('Volume', v.Name, 'Removing');
    try {
      await cli.client.delete(`/volumes/${encodeURIComponent(v.Name)}`);
      api.progress('Volume', v.Name, 'Removed');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      api.progress('Volume', v.Name, `Error: ${e.message}`);
      cli.exitCode = 1;
    }
  }
}
