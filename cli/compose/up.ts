// compose up: networks and volumes, then each service's containers in depends_on order (a
// service waits until what it depends on is started, healthy or completed, as asked), then
// either return (-d) or show the containers' logs until they stop or Ctrl-C stops them.
import { setTimeout as delay } from 'node:timers/promises';
import { formatStackWarnings } from '../../shared/compose';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { ProjectApi, type ProjectContainer } from './engine';
import { streamLogs, printerFor } from './follow';
import { containerRequest, type ComposeProject, type ComposeService } from './model';
import { inDependencyOrder, withDependencies } from './order';
import { orphans, planService, type ContainerAction } from './plan';
import { shortContainerName } from './labels';
import type { DependsCondition } from './extras';

export interface UpOptions {
  services: string[];
  detach: boolean;
  removeOrphans?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noColor?: boolean;
  noLogPrefix?: boolean;
  timeout?: number;
}

const HEALTH_POLL_MS = 500;

/** Wait for one dependency's containers to satisfy `condition`; throws compose's messages. */
async function waitFor(api: ProjectApi, dep: string, condition: DependsCondition): Promise<void> {
  if (condition === 'service_started') return;
  const containers = await api.containers({ services: [dep] });
  await Promise.all(
    containers.map(async (c) => {
      api.progress('Container', c.name, 'Waiting');
      for (;;) {
        const s = (await api.inspect(c.id)).State ?? {};
        if (condition === 'service_completed_successfully') {
          if (!s.Running && s.Status !== 'created') {
            if (s.ExitCode !== 0) throw new ExitError(1, `service "${dep}" didn't complete successfully: exit ${s.ExitCode}`);
            api.progress('Container', c.name, 'Exited');
            return;
          }
        } else {
          if (!s.Health) throw new ExitError(1, `dependency failed to start: container ${c.name} has no healthcheck configured`);
          if (s.Health.Status === 'healthy') {
            api.progress('Container', c.name, 'Healthy');
            return;
          }
          if (s.Health.Status === 'unhealthy') throw new ExitError(1, `dependency failed to start: container ${c.name} is unhealthy`);
          if (!s.Running && s.Status !== 'created') throw new ExitError(1, `dependency failed to start: container ${c.name} exited (${s.ExitCode ?? 0})`);
        }
        await delay(HEALTH_POLL_MS);
      }
    }),
  );
}

async function apply(api: ProjectApi, project: ComposeProject, s: ComposeService, a: ContainerAction, imageId: string, stopTimeout?: number): Promise<void> {
  switch (a.kind) {
    case 'keep':
      api.progress('Container', a.container.name, 'Running');
      return;
    case 'start':
      await api.start(a.container);
      return;
    case 'remove':
      await api.stop(a.container, stopTimeout);
      await api.remove(a.container);
      return;
    case 'recreate': {
      api.progress('Container', a.container.name, 'Recreate');
      await api.cli.client.post(`/containers/${a.container.id}/stop`, { query: { t: stopTimeout } });
      await api.cli.client.delete(`/containers/${a.container.id}`, { query: { force: 1 } });
      const req = containerRequest(project, s, a.number, imageId);
      const id = (await api.cli.client.post<{ Id: string }>('/containers/create', { query: { name: req.name }, body: req.body })).Id;
      api.progress('Container', req.name, 'Recreated');
      await api.start({ id, name: req.name });
      return;
    }
    case 'create': {
      const req = containerRequest(project, s, a.number, imageId);
      const id = await api.create(req.name, req.body);
      await api.start({ id, name: req.name });
      return;
    }
  }
}

async function ensureNetworks(api: ProjectApi, project: ComposeProject): Promise<void> {
  for (const n of project.networks) {
    const found = await api.exists('networks', n.name);
    if (n.external) {
      if (!found) throw new ExitError(1, `network ${n.name} declared as external, but could not be found`);
      continue;
    }
    if (found) continue;
    api.progress('Network', n.name, 'Creating');
    await api.cli.client.post('/networks/create', { body: n.create });
    api.progress('Network', n.name, 'Created');
  }
}

async function ensureVolumes(api: ProjectApi, project: ComposeProject): Promise<void> {
  for (const v of project.volumes) {
    const found = await api.exists('volumes', v.name);
    if (v.external) {
      if (!found) throw new ExitError(1, `external volume "${v.name}" not found`);
      continue;
    }
    if (found) continue;
    api.progress('Volume', v.name, 'Creating');
    await api.cli.client.post('/volumes/create', { body: v.create });
    api.progress('Volume', v.name, 'Created');
  }
}

/** Bring the project up; returns the exit code. */
export async function up(cli: Cli, project: ComposeProject, opts: UpOptions): Promise<number> {
  const api = new ProjectApi(cli, project.name);
  const warnings = formatStackWarnings(project.warnings);
  if (warnings) cli.err(`${warnings}\n`);
  const selected = withDependencies(project.services, opts.services);
  const upStarted = Math.floor(Date.now() / 1000);

  const existing = await api.containers();
  const lost = orphans(existing, project.services.map((s) => s.name));
  if (lost.length && opts.removeOrphans) {
    for (const c of lost) {
      await api.stop(c, opts.timeout);
      await api.remove(c);
    }
  } else if (lost.length) {
    cli.err(`WARN[0000] Found orphan containers ([${lost.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`);
  }
  await ensureNetworks(api, project);
  await ensureVolumes(api, project);

  const fresh = new Set<string>();
  await inDependencyOrder(selected, async (s) => {
    for (const d of s.dependsOn) if (selected.some((x) => x.name === d.service)) await waitFor(api, d.service, d.condition);
    const imageId = await api.imageId(s.body.Image!, s.name);
    const actions = planService({ name: s.name, replicas: s.replicas, hash: s.hash, imageId }, existing, opts);
    // Removals first (scale down), then numbers in order, one container at a time as compose does per service.
    for (const a of [...actions.filter((x) => x.kind === 'remove'), ...actions.filter((x) => x.kind !== 'remove')]) {
      await apply(api, project, s, a, imageId, opts.timeout);
      if (a.kind !== 'keep' && a.kind !== 'remove') fresh.add(s.name + ':' + a.number);
    }
  });
  if (opts.detach) return 0;
  return attach(cli, api, selected, fresh, upStarted, opts);
}

/**
 * The foreground of `up`: every selected container's logs until all have stopped. The first
 * Ctrl-C stops the containers (dependents first), a second one kills them.
 */
async function attach(cli: Cli, api: ProjectApi, selected: ComposeService[], fresh: Set<string>, upStarted: number, opts: UpOptions): Promise<number> {
  // As compose without --attach-dependencies: the named services only (all when none is named).
  const names = opts.services.length ? opts.services : selected.map((s) => s.name);
  const targets: ProjectContainer[] = await api.containers({ services: names });
  cli.line(`Attaching to ${targets.map((t) => shortContainerName(api.project, t.name)).join(', ')}`);
  const printer = printerFor(cli, api, targets, { prefix: !opts.noLogPrefix, color: !opts.noColor && !!cli.io.stdout.isTTY });
  let interrupted = 0;
  let stopping: Promise<void> | undefined;
  const onSignal = () => {
    interrupted++;
    if (interrupted === 1) {
      cli.err('Gracefully stopping... (press Ctrl+C again to force)\n');
      stopping = inDependencyOrder(
        selected.filter((s) => names.includes(s.name)),
        async (s) => {
          for (const c of targets.filter((t) => t.service === s.name)) await api.stop(c, opts.timeout).catch(() => undefined);
        },
        { reverse: true },
      );
    } else for (const c of targets) void api.kill(c);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(
      targets.map((t) =>
        streamLogs(
          cli,
          api,
          [t],
          {
            follow: true,
            // New containers from their first line; ones that were already running from this up on.
            since: fresh.has(`${t.service}:${t.number}`) ? undefined : String(upStarted),
            prefix: !opts.noLogPrefix,
            color: false,
            onEnd: async (c, p) => {
              const s = (await api.inspect(c.id).catch(() => undefined))?.State;
              p.event(`${shortContainerName(api.project, c.name)} exited with code ${s?.ExitCode ?? 0}`);
            },
          },
          printer,
        ),
      ),
    );
    await stopping;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return interrupted ? 130 : 0;
}
