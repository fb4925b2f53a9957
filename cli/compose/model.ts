// The stack plan (the shared parser's output) turned into what `compose up` creates on one
// node: bridge networks, local volumes, and per service one container create request that
// every replica shares, with docker compose's names, labels and config hash. Pure.
import { isAbsolute, join, posix } from 'node:path';
import type { PlannedService, StackPlan, StackIssue, StackWarning } from '../../shared/compose';
import { NAMESPACE_LABEL } from '../../shared/compose';
import type { NetworkCreateRequest } from '../../shared/net/request';
import type { EndpointPortConfig, Mount } from '../../shared/swarm';
import { containerConfigFor } from '../../worker/agent/tasks/config';
import type { AgentTask } from '../../worker/agent/tasks/types';
import type { CreateRequest, RestartPolicy } from '../../worker/engine/containers/types';
import type { EndpointSettings } from '../../worker/engine/contracts';
import { oneNodeErrors, oneNodeWarnings, type ComposeExtras, type DependsCondition } from './extras';
import { configHash } from './hash';
import * as L from './labels';

export interface ComposeNetwork {
  key: string;
  name: string;
  external: boolean;
  /** POST /networks/create body, for networks the project owns. */
  create?: NetworkCreateRequest;
}

export interface VolumeCreateRequest {
  Name: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels: Record<string, string>;
}

export interface ComposeVolume {
  key: string;
  name: string;
  external: boolean;
  create?: VolumeCreateRequest;
}

export interface ComposeService {
  name: string;
  replicas: number;
  dependsOn: Array<{ service: string; condition: DependsCondition }>;
  /** The create body every replica shares (number and hash labels are added per container). */
  body: CreateRequest;
  /** Over `body`: equal on a container means it runs what the file asks. */
  hash: string;
}

export interface ComposeProject {
  name: string;
  workingDir: string;
  configFiles: string[];
  /** In name order. */
  services: ComposeService[];
  networks: ComposeNetwork[];
  volumes: ComposeVolume[];
  warnings: StackWarning[];
}

export interface ProjectInput {
  plan: StackPlan;
  extras: ComposeExtras;
  workingDir: string;
  configFiles: string[];
}

/** Thrown for files that are valid stack files but ask for what one node cannot do. */
export class OneNodeError extends Error {
  constructor(readonly issues: StackIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'OneNodeError';
  }
}

function withoutNamespace(labels: Record<string, string> | null | undefined): Record<string, string> {
  const out = { ...(labels ?? {}) };
  delete out[NAMESPACE_LABEL];
  return out;
}

/** docker's RestartPolicy for a container: deploy.restart_policy wins over restart:, as in compose. */
export function restartPolicy(restart: string | undefined, deploy: { Condition?: string; MaxAttempts?: number } | undefined): RestartPolicy {
  if (deploy) {
    const name = deploy.Condition === 'none' ? 'no' : deploy.Condition === 'on-failure' ? 'on-failure' : 'always';
    return { Name: name, MaximumRetryCount: name === 'on-failure' ? deploy.MaxAttempts ?? 0 : 0 };
  }
  if (restart === undefined || restart === '' || restart === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const [policy, count] = restart.split(':');
  if (policy === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: count ? Number(count) : 0 };
  return { Name: policy as RestartPolicy['Name'], MaximumRetryCount: 0 };
}

/** Where a secret (under /run/secrets) or a config (at /) lands when its target is relative. */
export function fileTarget(kind: 'secret' | 'config', name: string): string {
  if (name.startsWith('/')) return name;
  return kind === 'secret' ? posix.join('/run/secrets', name) : posix.join('/', name);
}

/** Secrets and configs as read-only bind mounts of their files, as docker compose mounts them. */
function fileMounts(p: PlannedService, input: ProjectInput, used: { secrets: Set<string>; configs: Set<string> }): Mount[] {
  const cs = p.spec.TaskTemplate!.ContainerSpec!;
  const out: Mount[] = [];
  const refs = [
    ...(cs.Secrets ?? []).map((r) => ({ kind: 'secret' as const, name: r.SecretName!, target: r.File?.Name ?? '' })),
    ...(cs.Configs ?? []).map((r) => ({ kind: 'config' as const, name: r.ConfigName!, target: r.File?.Name ?? '' })),
  ];
  for (const r of refs) {
    // The loader scopes references to external objects too (`<ns>_<key>`), unlike their own names.
    const planned = (r.kind === 'secret' ? input.plan.secrets : input.plan.configs).find((o) => o.name === r.name || L.scopedName(input.plan.namespace, o.key) === r.name);
    if (!planned) continue;
    (r.kind === 'secret' ? used.secrets : used.configs).add(planned.key);
    const file = (r.kind === 'secret' ? input.extras.secrets : input.extras.configs).get(planned.key)?.file;
    if (file === undefined) continue; // external or driver-made: reported by oneNodeErrors
    const source = isAbsolute(file) ? file : join(input.workingDir, file);
    out.push({ Type: 'bind', Source: source, Target: fileTarget(r.kind, r.target), ReadOnly: true });
  }
  return out;
}

function dependsLabel(deps: ComposeService['dependsOn']): string {
  return deps.map((d) => `${d.service}:${d.condition}:false`).join(',');
}

function serviceModel(project: string, p: PlannedService, input: ProjectInput, used: { secrets: Set<string>; configs: Set<string> }): ComposeService {
  const tmpl = p.spec.TaskTemplate!;
  const cs = tmpl.ContainerSpec!;
  const extras = input.extras.services.get(p.shortName);
  const dependsOn = [...(extras?.dependsOn ?? new Map<string, DependsCondition>())].map(([service, condition]) => ({ service, condition })).sort((a, b) => (a.service < b.service ? -1 : 1));

  // Env and Hostname bypass the agent's mapping: swarm expands {{...}} templates there, compose does not.
  const { Env, Hostname, Labels, Secrets: _s, Configs: _c, ...rest } = cs;
  const mounts = [...(cs.Mounts ?? []), ...fileMounts(p, input, used)];
  const endpoints: Record<string, EndpointSettings> = {};
  for (const n of tmpl.Networks ?? []) endpoints[n.Target!] = { Aliases: n.Aliases ?? [p.shortName] };
  const ports: EndpointPortConfig[] = (p.spec.EndpointSpec?.Ports ?? []).map((port) => ({ ...port, PublishMode: 'host' }));
  const task: AgentTask = {
    ID: '',
    ServiceID: '',
    Name: p.shortName,
    Slot: 1,
    Spec: { ...tmpl, ContainerSpec: { ...rest, ...(mounts.length ? { Mounts: mounts } : {}) } },
    Status: { State: 'new' },
    DesiredState: 'running',
    ServiceAnnotations: { Name: p.shortName },
    Endpoint: { Ports: ports },
  };
  const networkNames = Object.keys(endpoints);
  const { body } = containerConfigFor(task, { ID: '' }, { NetworkMode: networkNames[0] ?? 'default', EndpointsConfig: endpoints });
  body.Labels = {
    ...withoutNamespace(Labels),
    [L.PROJECT_LABEL]: project,
    [L.SERVICE_LABEL]: p.shortName,
    [L.ONEOFF_LABEL]: 'False',
    [L.DEPENDS_LABEL]: dependsLabel(dependsOn),
  };
  if (Env?.length) body.Env = [...Env];
  if (Hostname) body.Hostname = Hostname;
  body.HostConfig!.RestartPolicy = restartPolicy(extras?.restart, extras?.deployRestart ? tmpl.RestartPolicy : undefined);
  const mode = p.spec.Mode;
  const replicas = mode?.Replicated ? mode.Replicated.Replicas ?? 1 : mode?.ReplicatedJob ? mode.ReplicatedJob.TotalCompletions ?? 1 : 1;
  return { name: p.shortName, replicas, dependsOn, body, hash: configHash(body) };
}

/** Labels every object of the project carries (on top of the file's own). */
function ownLabels(project: string, kind: string, key: string, labels: Record<string, string> | null | undefined): Record<string, string> {
  return { ...withoutNamespace(labels), [L.PROJECT_LABEL]: project, [kind]: key, [L.VERSION_LABEL]: L.COMPOSE_VERSION };
}

function networkModel(project: string, n: StackPlan['networks'][number], input: ProjectInput): ComposeNetwork {
  if (n.external || !n.create) return { key: n.key, name: n.name, external: true };
  const written = input.extras.networkDrivers.get(n.key)?.driver;
  const driver = written === undefined || written === 'overlay' ? 'bridge' : written;
  const create: NetworkCreateRequest = { Name: n.name, Driver: driver, Labels: ownLabels(project, L.NETWORK_LABEL, n.key, n.create.Labels) };
  if (n.create.Internal) create.Internal = true;
  if (n.create.IPAM) create.IPAM = n.create.IPAM;
  // Options of an overlay (encrypted, vxlan ids) mean nothing to a bridge.
  if (n.create.Options && written !== 'overlay') create.Options = n.create.Options;
  return { key: n.key, name: n.name, external: false, create };
}

function volumeModel(project: string, v: StackPlan['volumes'][number]): ComposeVolume {
  if (v.external) return { key: v.key, name: v.name, external: true };
  const create: VolumeCreateRequest = { Name: v.name, Labels: ownLabels(project, L.VOLUME_LABEL, v.key, v.labels) };
  if (v.driver !== undefined) create.Driver = v.driver;
  if (v.driverOpts !== undefined) create.DriverOpts = v.driverOpts;
  return { key: v.key, name: v.name, external: false, create };
}

/**
 * The project for one node. Throws OneNodeError (file:line:col for each) when a service uses
 * a secret or config that only a swarm holds.
 */
export function composeProject(name: string, input: ProjectInput): ComposeProject {
  const used = { secrets: new Set<string>(), configs: new Set<string>() };
  const services = input.plan.services.map((p) => serviceModel(name, p, input, used));
  const errors = oneNodeErrors(input.extras, used);
  if (errors.length) throw new OneNodeError(errors);
  // The swarm's view of `restart` (ignored there) does not hold here: compose honours it.
  const warnings = input.plan.warnings.filter((w) => !(w.kind === 'unsupported' && w.key === 'restart'));
  warnings.push(...oneNodeWarnings(input.extras));
  return {
    name,
    workingDir: input.workingDir,
    configFiles: input.configFiles,
    services,
    networks: input.plan.networks.map((n) => networkModel(name, n, input)),
    volumes: input.plan.volumes.map((v) => volumeModel(name, v)),
    warnings,
  };
}

/** The create request for replica `n` of a service: its name and per-container labels. */
export function containerRequest(project: ComposeProject, s: ComposeService, n: number, imageId?: string): { name: string; body: CreateRequest } {
  const labels: Record<string, string> = {
    ...s.body.Labels,
    [L.NUMBER_LABEL]: String(n),
    [L.HASH_LABEL]: s.hash,
    [L.WORKING_DIR_LABEL]: project.workingDir,
    [L.CONFIG_FILES_LABEL]: project.configFiles.join(','),
    [L.VERSION_LABEL]: L.COMPOSE_VERSION,
  };
  if (imageId) labels[L.IMAGE_LABEL] = imageId;
  return { name: L.containerName(project.name, s.name, n), body: { ...s.body, Labels: labels } };
}
