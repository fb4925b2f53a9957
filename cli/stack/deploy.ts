// shoal stack deploy: load the files, read what exists, plan, then apply in docker's order
// (prune, secrets and configs, networks, services) with depends_on honoured as start order.
// Everything that can be checked without writing is checked first, so an invalid file or a
// missing external object changes nothing; a failure after that prints what was applied.
import { setTimeout as delay } from 'node:timers/promises';
import { IMAGE_LABEL, formatStackErrors, formatStackWarnings, isStackError, loadStack, type StackPlan } from '../../shared/compose';
import type { Service, ServiceSpec, Task } from '../../shared/swarm/types';
import { ApiError, EMPTY_AUTH } from '../client';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { seg } from '../commands/common';
import { digestWarning } from '../commands/service';
import { goDuration } from '../format/swarm';
import { stackFilter } from './list';
import { planDeploy, planSteps, wantedSpec, type DeployPlan, type Existing, type ObservedStack, type RefIds, type ResolveImage, type ServiceStep } from './plan';
import { notReadyMessage, serviceReadiness, type Readiness } from './ready';
import { DeployJournal, formatDeploySummary } from './report';

export interface DeployOptions {
  files: string[];
  namespace: string;
  prune: boolean;
  withRegistryAuth: boolean;
  resolveImage: ResolveImage;
  /** Do not wait for anything: creations are still sent in dependency order. */
  detach: boolean;
  quiet: boolean;
  /** How long one wait for a service to be ready may last. */
  waitTimeoutMs: number;
  /** Poll interval while waiting (tests shorten it). */
  pollMs?: number;
}

export const NOT_A_MANAGER = 'this node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again';

const daemonMessage = (e: unknown) => (e instanceof ApiError ? `Error response from daemon: ${e.message}` : (e as Error).message);

/** Load and validate: every error with file:line:column on stderr, and nothing else happens. */
async function load(cli: Cli, o: DeployOptions): Promise<StackPlan> {
  try {
    return await loadStack({ files: o.files, name: o.namespace, env: cli.io.env, cwd: cli.io.cwd });
  } catch (e) {
    if (isStackError(e)) throw new ExitError(1, formatStackErrors(e.issues));
    throw e;
  }
}

interface Named {
  ID: string;
  Version?: { Index?: number };
  Spec?: { Name?: string };
}

interface NetworkJson {
  Id: string;
  Name: string;
  Scope?: string;
}

const filters = (f: Record<string, string[]>) => ({ filters: JSON.stringify(f) });

/** The reads a deploy plans from; external objects are checked here, before any write. */
async function observe(cli: Cli, stack: StackPlan, o: DeployOptions): Promise<{ observed: ObservedStack; warnings: string[] }> {
  const c = cli.client;
  const info = await c.get<{ Swarm?: { ControlAvailable?: boolean } }>('/info');
  if (!info.Swarm?.ControlAvailable) throw new ExitError(1, NOT_A_MANAGER);
  const label = filters({ label: [stackFilter(stack.namespace)] });
  const services = await c.get<Service[]>('/services', { query: label });
  const networks = new Map<string, string>();
  for (const n of await c.get<NetworkJson[]>('/networks', { query: label })) networks.set(n.Name, n.Id);
  for (const n of stack.networks.filter((x) => x.external)) {
    // Networks that are not user-defined exist on every node; docker does not look them up.
    if (['bridge', 'host', 'none', 'default'].includes(n.name) || n.name.startsWith('container:')) continue;
    let net: NetworkJson;
    try {
      net = await c.get<NetworkJson>(`/networks/${seg(n.name)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new ExitError(1, `network "${n.name}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed`);
      throw e;
    }
    if (net.Scope !== 'swarm') throw new ExitError(1, `network "${n.name}" is declared as external, but it is not in the right scope: "${net.Scope ?? ''}" instead of "swarm"`);
    networks.set(n.name, net.Id);
  }
  const byName = (list: Named[]) => new Map<string, Existing>(list.map((x) => [x.Spec?.Name ?? '', { ID: x.ID, Version: x.Version }]));
  const secrets = byName(await c.get<Named[]>('/secrets'));
  const configs = byName(await c.get<Named[]>('/configs'));
  for (const [noun, objs, have] of [['secret', stack.secrets, secrets], ['config', stack.configs, configs]] as const) {
    const missing = objs.filter((x) => x.external && !have.has(x.name)).map((x) => x.name);
    if (missing.length) throw new ExitError(1, `${noun} not found: ${missing.join(', ')}`);
  }
  const { resolved, warnings } = await resolveImages(cli, stack, services, o);
  return { observed: { services, networks, secrets, configs, resolvedImages: resolved }, warnings };
}

/** --resolve-image: pin each image to its registry digest where the flag asks for it; a warning per image the registry cannot tell. */
async function resolveImages(cli: Cli, stack: StackPlan, services: Service[], o: DeployOptions): Promise<{ resolved: Map<string, string>; warnings: string[] }> {
  const resolved = new Map<string, string>();
  const warnings: string[] = [];
  if (o.resolveImage === 'never') return { resolved, warnings };
  const cache = new Map<string, string | undefined>();
  const auth = o.withRegistryAuth ? EMPTY_AUTH : undefined;
  for (const s of stack.services) {
    const image = s.spec.TaskTemplate?.ContainerSpec?.Image ?? '';
    const current = services.find((x) => x.Spec.Name === s.name);
    if (o.resolveImage === 'changed' && current?.Spec.Labels?.[IMAGE_LABEL] === image) continue;
    if (!cache.has(image)) {
      try {
        const d = await cli.client.get<{ Descriptor: { digest: string } }>(`/distribution/${seg(image)}/json`, { headers: auth });
        cache.set(image, image.includes('@') ? image : `${image}@${d.Descriptor.digest}`);
      } catch {
        cache.set(image, undefined);
        warnings.push(digestWarning(image));
      }
    }
    const pinned = cache.get(image);
    if (pinned) resolved.set(s.name, pinned);
  }
  return { resolved, warnings };
}

/** Polls a service until it is ready, fails for good, or the time is up. */
export async function waitReady(cli: Cli, name: string, id: string, o: Pick<DeployOptions, 'waitTimeoutMs' | 'pollMs'>): Promise<Readiness> {
  const end = Date.now() + o.waitTimeoutMs;
  let last: Readiness | undefined;
  for (;;) {
    const service = await cli.client.get<Service>(`/services/${seg(id)}`);
    const tasks = await cli.client.get<Task[]>('/tasks', { query: filters({ service: [id] }) });
    const current = await cli.client.get<Task[]>('/tasks', { query: filters({ service: [id], '_up-to-date': ['true'] }) });
    last = serviceReadiness(service, tasks, new Set(current.map((t) => t.ID)));
    if (last.ready) return last;
    if (last.failed || Date.now() >= end) throw new Error(notReadyMessage(name, last, goDuration(o.waitTimeoutMs * 1e6)));
    await delay(o.pollMs ?? 250);
  }
}

class Applier {
  readonly ids = new Map<string, string>();
  private readonly ready = new Set<string>();
  private readonly changed = new Set<string>();
  readonly journal: DeployJournal;

  constructor(
    private readonly cli: Cli,
    private readonly plan: DeployPlan,
    private readonly observed: ObservedStack,
    private readonly o: DeployOptions,
  ) {
    this.journal = new DeployJournal(planSteps(plan));
    for (const s of plan.services) if (s.current) this.ids.set(s.name, s.current.ID);
  }

  private say(line: string): void {
    this.cli.line(line);
  }

  async run(): Promise<void> {
    const c = this.cli.client;
    const j = this.journal;
    for (const s of this.plan.prune) {
      await j.step(`remove service ${s.Spec.Name}`, async () => {
        this.say(`Removing service ${s.Spec.Name}`);
        await c.delete(`/services/${seg(s.ID)}`).catch((e) => this.fail(`failed to remove service ${s.Spec.Name}`, e));
      });
    }
    const made = { secret: new Map<string, string>(), config: new Map<string, string>() };
    for (const p of this.plan.payloads) {
      await j.step(`${p.action} ${p.kind} ${p.name}`, async () => {
        const plural = `/${p.kind}s`;
        if (p.action === 'create') {
          this.say(`Creating ${p.kind} ${p.name}`);
          const r = await c.post<{ ID: string }>(`${plural}/create`, { body: p.spec }).catch((e) => this.fail(`failed to create ${p.kind} ${p.name}`, e));
          made[p.kind].set(p.name, r.ID);
        } else {
          await c.post(`${plural}/${seg(p.existing!.ID)}/update`, { query: { version: p.existing!.Version?.Index ?? 0 }, body: p.spec }).catch((e) => this.fail(`failed to update ${p.kind} ${p.name}`, e));
        }
      });
    }
    const networks = new Map(this.observed.networks);
    for (const n of this.plan.networks) {
      await j.step(`create network ${n.name}`, async () => {
        this.say(`Creating network ${n.name}`);
        const r = await c.post<{ Id: string }>('/networks/create', { body: n.create }).catch((e) => this.fail(`failed to create network ${n.name}`, e));
        networks.set(n.name, r.Id);
      });
    }
    const id = (m: Map<string, string>, have: Map<string, Existing>) => (name: string) => m.get(name) ?? have.get(name)?.ID;
    const refs: RefIds = { network: (n) => networks.get(n), secret: id(made.secret, this.observed.secrets), config: id(made.config, this.observed.configs) };
    for (const s of this.plan.services) await this.service(s, refs);
    if (this.o.detach) return;
    for (const s of this.plan.services) if (this.changed.has(s.name)) await this.await(s.name);
  }

  private fail(what: string, e: unknown): never {
    throw new Error(`${what}: ${daemonMessage(e)}`);
  }

  /** Wait until a service this deploy created or changed is ready (once). */
  private async await(name: string, neededBy?: string): Promise<void> {
    if (this.ready.has(name)) return;
    if (!this.o.quiet) this.say(`Waiting for service ${name} to be ready${neededBy ? ` (${neededBy} depends on it)` : ''}`);
    const r = await waitReady(this.cli, name, this.ids.get(name)!, this.o);
    if (!this.o.quiet) this.say(`Service ${name} is ready: ${r.done}/${r.wanted} tasks`);
    this.ready.add(name);
  }

  private async service(s: ServiceStep, refs: RefIds): Promise<void> {
    const c = this.cli.client;
    if (s.action === 'unchanged') {
      this.say(`Service ${s.name} is up to date (id: ${s.current!.ID})`);
      return;
    }
    const step = `${s.action} service ${s.name}`;
    const spec: ServiceSpec = wantedSpec(s.planned, refs, s.current, this.o.resolveImage, this.observed.resolvedImages.get(s.name));
    const headers = this.o.withRegistryAuth ? EMPTY_AUTH : undefined;
    this.journal.current = step;
    // Only dependencies this deploy created or changed are waited for; -d waits for none.
    if (!this.o.detach) for (const d of s.dependsOn) if (this.changed.has(d)) await this.await(d, s.name);
    await this.journal.step(step, async () => {
      if (s.action === 'create') {
        this.say(`Creating service ${s.name}`);
        const r = await c.post<{ ID: string; Warnings?: string[] | null }>('/services/create', { body: spec, headers }).catch((e) => this.fail(`failed to create service ${s.name}`, e));
        this.ids.set(s.name, r.ID);
        for (const w of r.Warnings ?? []) this.cli.err(`${w}\n`);
      } else {
        const cur = s.current!;
        this.say(`Updating service ${s.name} (id: ${cur.ID})`);
        const r = await c.post<{ Warnings?: string[] | null } | undefined>(`/services/${seg(cur.ID)}/update`, { query: { version: cur.Version?.Index ?? 0 }, body: spec, headers }).catch((e) => this.fail(`failed to update service ${s.name}`, e));
        for (const w of r?.Warnings ?? []) this.cli.err(`${w}\n`);
      }
    });
    this.changed.add(s.name);
  }
}

/** The whole deploy; throws ExitError with what to print when it fails. */
export async function deployStack(cli: Cli, o: DeployOptions): Promise<void> {
  const stack = await load(cli, o);
  const w = formatStackWarnings(stack.warnings);
  if (w) cli.err(`${w}\n`);
  const { observed, warnings } = await observe(cli, stack, o);
  for (const x of warnings) cli.err(x);
  const plan = planDeploy(stack, observed, { prune: o.prune, resolveImage: o.resolveImage });
  const applier = new Applier(cli, plan, observed, o);
  try {
    await applier.run();
  } catch (e) {
    if (e instanceof ExitError) throw e;
    throw new ExitError(1, formatDeploySummary(stack.namespace, applier.journal, (e as Error).message).trimEnd());
  }
}
