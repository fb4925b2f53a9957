// What `stack deploy` will do, decided before anything is written: services to prune, secrets
// and configs to create or update (docker updates existing ones with the file's spec; the
// daemon refuses a change of data), networks to create, and for each service create, update
// or nothing, in dependency order. Pure: the caller lists what exists and applies the plan.
import { IMAGE_LABEL, type PlannedConfig, type PlannedSecret, type PlannedService, type StackPlan } from '../../shared/compose';
import type { NetworkCreateRequest } from '../../shared/net/request';
import type { Service, ServiceSpec } from '../../shared/swarm/types';
import { specDifferences } from './compare';
import { dependencyLevels } from './order';

export type ResolveImage = 'always' | 'changed' | 'never';
export const RESOLVE_IMAGE: readonly ResolveImage[] = ['always', 'changed', 'never'];

/** An object that exists under a name. */
export interface Existing {
  ID: string;
  Version?: { Index?: number };
}

/** What exists in the cluster, as the deploy's reads found it. */
export interface ObservedStack {
  /** Services labelled with the stack's namespace. */
  services: Service[];
  /** Networks by name: the stack's own (labelled) and the external ones it uses. */
  networks: Map<string, string>;
  /** Secrets and configs by name (any, as docker inspects them by name). */
  secrets: Map<string, Existing>;
  configs: Map<string, Existing>;
  /** Images resolved to a digest through the registry, by scoped service name. */
  resolvedImages: Map<string, string>;
}

/** IDs of the objects a spec refers to; undefined leaves the name for the daemon to resolve. */
export interface RefIds {
  network(name: string): string | undefined;
  secret(name: string): string | undefined;
  config(name: string): string | undefined;
}

export interface PayloadStep {
  kind: 'secret' | 'config';
  name: string;
  action: 'create' | 'update';
  existing?: Existing;
  spec: NonNullable<PlannedSecret['spec'] | PlannedConfig['spec']>;
}

export interface NetworkStep {
  name: string;
  create: NetworkCreateRequest;
}

export interface ServiceStep {
  name: string;
  action: 'create' | 'update' | 'unchanged';
  level: number;
  dependsOn: string[];
  planned: PlannedService;
  current?: Service;
  /** For updates: what differs (dotted spec paths). */
  differences: string[];
}

export interface DeployPlan {
  namespace: string;
  prune: Service[];
  payloads: PayloadStep[];
  networks: NetworkStep[];
  /** Level by level, by name within a level. */
  services: ServiceStep[];
}

/** The ID a name will have once created: the plan compares with it, so a new object always differs. */
export const pendingId = (name: string) => `<new ${name}>`;

/**
 * The spec to send for a planned service: references turned into IDs, the image as docker's
 * --resolve-image decides it, and the current ForceUpdate kept (a deploy never forces).
 */
export function wantedSpec(planned: PlannedService, ids: RefIds, current: Service | undefined, resolveImage: ResolveImage, resolved: string | undefined): ServiceSpec {
  const spec = structuredClone(planned.spec);
  const task = spec.TaskTemplate!;
  for (const n of task.Networks ?? []) n.Target = ids.network(n.Target!) ?? n.Target;
  const cs = task.ContainerSpec!;
  for (const s of cs.Secrets ?? []) s.SecretID = ids.secret(s.SecretName!) ?? s.SecretID;
  for (const c of cs.Configs ?? []) c.ConfigID = ids.config(c.ConfigName!) ?? c.ConfigID;
  const image = cs.Image ?? '';
  const sameAsDeployed = current !== undefined && current.Spec.Labels?.[IMAGE_LABEL] === image;
  const query = resolveImage === 'always' || (resolveImage === 'changed' && !sameAsDeployed);
  if (query && resolved) cs.Image = resolved;
  // The image as written has not changed: keep what a previous deploy's resolution pinned.
  else if (!query && sameAsDeployed) cs.Image = current.Spec.TaskTemplate?.ContainerSpec?.Image ?? image;
  if (current) task.ForceUpdate = current.Spec.TaskTemplate?.ForceUpdate ?? 0;
  return spec;
}

/** IDs from what exists, with pending IDs for what the plan creates. */
export function plannedIds(stack: StackPlan, observed: ObservedStack): RefIds {
  const owned = new Set([...stack.networks.filter((n) => !n.external).map((n) => n.name), ...stack.secrets.map((s) => s.name), ...stack.configs.map((c) => c.name)]);
  const pick = (m: Map<string, string | Existing>, name: string) => {
    const v = m.get(name);
    if (v !== undefined) return typeof v === 'string' ? v : v.ID;
    return owned.has(name) ? pendingId(name) : undefined;
  };
  return { network: (n) => pick(observed.networks, n), secret: (n) => pick(observed.secrets, n), config: (n) => pick(observed.configs, n) };
}

export function planDeploy(stack: StackPlan, observed: ObservedStack, opts: { prune: boolean; resolveImage: ResolveImage }): DeployPlan {
  const ns = stack.namespace;
  const wantedNames = new Set(stack.services.map((s) => s.name));
  const byName = new Map(observed.services.map((s) => [s.Spec.Name ?? '', s]));
  const prune = opts.prune ? observed.services.filter((s) => !wantedNames.has(s.Spec.Name ?? '')).sort((a, b) => cmp(a.Spec.Name ?? '', b.Spec.Name ?? '')) : [];

  const payloads: PayloadStep[] = [];
  const payload = (kind: 'secret' | 'config', objs: Array<PlannedSecret | PlannedConfig>, existing: Map<string, Existing>) => {
    for (const o of objs) {
      if (o.external || !o.spec) continue;
      const e = existing.get(o.name);
      payloads.push({ kind, name: o.name, action: e ? 'update' : 'create', existing: e, spec: o.spec });
    }
  };
  payload('secret', stack.secrets, observed.secrets);
  payload('config', stack.configs, observed.configs);

  const networks: NetworkStep[] = stack.networks.filter((n) => !n.external && !observed.networks.has(n.name)).map((n) => ({ name: n.name, create: { ...n.create!, Driver: n.create!.Driver || 'overlay' } }));

  const ids = plannedIds(stack, observed);
  const levels = dependencyLevels(stack.services);
  const planned = new Map(stack.services.map((s) => [s.name, s]));
  const services: ServiceStep[] = [];
  levels.forEach((names, level) => {
    for (const name of names) {
      const p = planned.get(name)!;
      const current = byName.get(name);
      const spec = wantedSpec(p, ids, current, opts.resolveImage, observed.resolvedImages.get(name));
      const differences = current ? specDifferences(spec, current.Spec) : [];
      const action = !current ? 'create' : differences.length ? 'update' : 'unchanged';
      services.push({ name, action, level, dependsOn: p.dependsOn.filter((d) => wantedNames.has(d)), planned: p, current, differences });
    }
  });
  return { namespace: ns, prune, payloads, networks, services };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One line per write the plan makes, in order ("create network app_front"). */
export function planSteps(plan: DeployPlan): string[] {
  return [
    ...plan.prune.map((s) => `remove service ${s.Spec.Name}`),
    ...plan.payloads.map((p) => `${p.action} ${p.kind} ${p.name}`),
    ...plan.networks.map((n) => `create network ${n.name}`),
    ...plan.services.filter((s) => s.action !== 'unchanged').map((s) => `${s.action} service ${s.name}`),
  ];
}
