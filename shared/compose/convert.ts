// The validated model -> the Engine API objects `docker stack deploy NAME` sends, with
// names scoped to the stack (`<stack>_<name>`) and the namespace label on everything.
import { isAbsolute, join } from 'node:path';
import type { ConfigReference, Labels, Mount, NetworkAttachmentConfig, SecretReference, ServiceSpec } from '../swarm/types';
import type { FileObjectModel, FileRefModel, ServiceModel, StackModel } from './model';
import { comparePorts } from './ports';
import type { PlannedConfig, PlannedNetwork, PlannedSecret, PlannedService, PlannedVolume, StackPlan } from './types';
import type { StackWarning } from './warnings';

export const NAMESPACE_LABEL = 'com.docker.stack.namespace';
export const IMAGE_LABEL = 'com.docker.stack.image';
const DEFAULT_NETWORK = 'default';

export interface ConvertInput {
  namespace: string;
  /** Directory of the first stack file: relative bind sources are resolved against it. */
  workingDir: string;
  lookup: (name: string) => string | undefined;
  /** Variables from each service's env_file entries, in order (already read and parsed). */
  envFiles: Map<string, Record<string, string | null>>;
  /** Contents of secret and config files, by the path written in the file. */
  fileData: Map<string, Buffer>;
  warnings: StackWarning[];
}

export function scope(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

function withStackLabel(namespace: string, labels: Labels | undefined): Labels {
  return { ...labels, [NAMESPACE_LABEL]: namespace };
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function convertStack(model: StackModel, input: ConvertInput): StackPlan {
  const ns = input.namespace;
  const services: PlannedService[] = [];
  for (const s of model.services.values()) {
    services.push({
      shortName: s.name,
      name: scope(ns, s.name),
      spec: serviceSpec(model, s, input),
      dependsOn: [...new Set(s.dependsOn.map((d) => scope(ns, d.name)))],
    });
  }
  return {
    namespace: ns,
    services: services.sort(byName),
    networks: networks(model, ns),
    volumes: volumes(model, ns),
    secrets: fileObjects(model.secrets, ns, input) as PlannedSecret[],
    configs: fileObjects(model.configs, ns, input) as PlannedConfig[],
    warnings: input.warnings,
  };
}

function serviceSpec(model: StackModel, s: ServiceModel, input: ConvertInput): ServiceSpec {
  const ns = input.namespace;
  const container = { ...s.container, Labels: withStackLabel(ns, s.labels) };
  const env = environment(s, input);
  if (env.length) container.Env = env;
  const mounts = s.mounts.map((m) => mount(model, m.spec, input));
  if (mounts.length) container.Mounts = mounts;
  const secrets = s.secrets.map((ref): SecretReference => ({ File: fileTarget(ref), SecretName: objectName(model.secrets.get(ref.source), ref.source, ns) }));
  if (secrets.length) container.Secrets = secrets.sort((a, b) => cmp(a.SecretName!, b.SecretName!));
  const configs = s.configs.map((ref): ConfigReference => ({ File: fileTarget(ref), ConfigName: objectName(model.configs.get(ref.source), ref.source, ns) }));
  if (configs.length) container.Configs = configs.sort((a, b) => cmp(a.ConfigName!, b.ConfigName!));

  const spec: ServiceSpec = {
    Name: scope(ns, s.name),
    Labels: { ...withStackLabel(ns, s.deployLabels), [IMAGE_LABEL]: s.image ?? '' },
    TaskTemplate: {
      ContainerSpec: container,
      Resources: s.resources,
      Placement: s.placement,
      Networks: serviceNetworks(model, s, ns),
    },
    Mode: s.mode,
    EndpointSpec: {},
  };
  const task = spec.TaskTemplate!;
  if (s.restartPolicy) task.RestartPolicy = s.restartPolicy;
  if (s.logDriver) task.LogDriver = s.logDriver;
  if (s.endpointMode) spec.EndpointSpec!.Mode = s.endpointMode;
  if (s.ports.length) spec.EndpointSpec!.Ports = [...s.ports].sort(comparePorts);
  if (s.updateConfig) spec.UpdateConfig = s.updateConfig;
  if (s.rollbackConfig) spec.RollbackConfig = s.rollbackConfig;
  return spec;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** env_file entries, then environment over them; a bare or empty value comes from the environment. */
function environment(s: ServiceModel, input: ConvertInput): string[] {
  const vars: Record<string, string | null> = {};
  for (const f of s.envFiles) Object.assign(vars, input.envFiles.get(f.path));
  Object.assign(vars, s.environment);
  const out: string[] = [];
  for (const [k, v] of Object.entries(vars)) {
    const fromEnv = v === null || v === '' ? input.lookup(k) : undefined;
    const value = fromEnv ?? v;
    out.push(value === null ? k : `${k}=${value}`);
  }
  return out.sort();
}

function fileTarget(ref: FileRefModel): SecretReference['File'] {
  return { Name: ref.target ?? ref.source, UID: ref.uid ?? '0', GID: ref.gid ?? '0', Mode: ref.mode ?? 0o444 };
}

/** An object's name in the cluster: the `name:` given, else the key, scoped unless external (as docker names them). */
function objectName(obj: { name?: string; external?: boolean } | undefined, key: string, ns: string): string {
  return obj?.name ?? (obj?.external ? key : scope(ns, key));
}

function mount(model: StackModel, spec: ServiceModel['mounts'][number]['spec'], input: ConvertInput): Mount {
  const m: Mount = { Type: spec.type, Target: spec.target };
  if (spec.readOnly) m.ReadOnly = true;
  if (spec.consistency) m.Consistency = spec.consistency;
  switch (spec.type) {
    case 'volume': {
      if (spec.source === undefined) break; // anonymous volume
      const vol = model.volumes.get(spec.source)!;
      m.Source = vol.name ?? (vol.external ? spec.source : scope(input.namespace, spec.source));
      m.VolumeOptions = {};
      if (spec.noCopy) m.VolumeOptions.NoCopy = true;
      if (vol.external) break;
      m.VolumeOptions.Labels = withStackLabel(input.namespace, vol.labels);
      if (vol.driver !== undefined || vol.driverOpts !== undefined) {
        m.VolumeOptions.DriverConfig = {};
        if (vol.driver !== undefined) m.VolumeOptions.DriverConfig.Name = vol.driver;
        if (vol.driverOpts !== undefined) m.VolumeOptions.DriverConfig.Options = vol.driverOpts;
      }
      break;
    }
    case 'bind':
      m.Source = hostPath(spec.source!, input);
      if (spec.propagation) m.BindOptions = { Propagation: spec.propagation };
      break;
    case 'tmpfs':
      if (spec.tmpfsSize !== undefined) m.TmpfsOptions = { SizeBytes: spec.tmpfsSize };
      break;
  }
  return m;
}

function hostPath(source: string, input: ConvertInput): string {
  let p = source;
  if (p.startsWith('~')) {
    const home = input.lookup('HOME');
    if (home !== undefined) p = home + p.slice(1);
  }
  return isAbsolute(p) ? p : join(input.workingDir, p);
}

/** Not a network a container joins by name (bridge, host, none): no aliases there. */
function isUserDefined(target: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(target) && !target.startsWith('container:');
}

function networkName(model: StackModel, key: string, ns: string): string {
  const nw = model.networks.get(key);
  return nw?.name ?? (nw?.external ? key : scope(ns, key));
}

function serviceNetworks(model: StackModel, s: ServiceModel, ns: string): NetworkAttachmentConfig[] {
  const nets = s.networks ?? [{ pos: s.pos, name: DEFAULT_NETWORK, aliases: [] }];
  return nets
    .map((n) => {
      const target = networkName(model, n.name, ns);
      const a: NetworkAttachmentConfig = { Target: target };
      const aliases = isUserDefined(target) ? [...n.aliases, s.name] : n.aliases;
      if (aliases.length) a.Aliases = aliases;
      if (n.driverOpts) a.DriverOpts = n.driverOpts;
      return a;
    })
    .sort((a, b) => cmp(a.Target!, b.Target!));
}

function networks(model: StackModel, ns: string): PlannedNetwork[] {
  const used = new Set<string>();
  for (const s of model.services.values()) for (const n of s.networks ?? [{ name: DEFAULT_NETWORK }]) used.add(n.name);
  const out: PlannedNetwork[] = [];
  for (const key of used) {
    const nw = model.networks.get(key);
    const name = networkName(model, key, ns);
    if (nw?.external) {
      out.push({ key, name, external: true });
      continue;
    }
    const create: NonNullable<PlannedNetwork['create']> = { Name: name, Driver: nw?.driver ?? 'overlay', Labels: withStackLabel(ns, nw?.labels) };
    if (nw?.driverOpts) create.Options = nw.driverOpts;
    if (nw?.internal) create.Internal = true;
    if (nw?.attachable) create.Attachable = true;
    if (nw?.ipam && (nw.ipam.driver !== undefined || nw.ipam.subnets.length)) {
      create.IPAM = {};
      if (nw.ipam.driver !== undefined) create.IPAM.Driver = nw.ipam.driver;
      if (nw.ipam.subnets.length) create.IPAM.Config = nw.ipam.subnets.map((Subnet) => ({ Subnet }));
    }
    out.push({ key, name, external: false, create });
  }
  return out.sort(byName);
}

function volumes(model: StackModel, ns: string): PlannedVolume[] {
  const used = new Set<string>();
  for (const s of model.services.values()) for (const m of s.mounts) if (m.spec.type === 'volume' && m.spec.source !== undefined) used.add(m.spec.source);
  const out: PlannedVolume[] = [];
  for (const key of used) {
    const vol = model.volumes.get(key)!;
    const v: PlannedVolume = { key, name: vol.name ?? (vol.external ? key : scope(ns, key)), external: vol.external };
    if (!vol.external) {
      v.labels = withStackLabel(ns, vol.labels);
      if (vol.driver !== undefined) v.driver = vol.driver;
      if (vol.driverOpts !== undefined) v.driverOpts = vol.driverOpts;
    }
    out.push(v);
  }
  return out.sort(byName);
}

function fileObjects(objs: Map<string, FileObjectModel>, ns: string, input: ConvertInput): Array<PlannedSecret | PlannedConfig> {
  const out: Array<PlannedSecret | PlannedConfig> = [];
  for (const [key, o] of objs) {
    if (o.external) {
      out.push({ key, name: o.name ?? key, external: true });
      continue;
    }
    const name = o.name ?? scope(ns, key);
    const data = o.file ? input.fileData.get(o.file.path) ?? Buffer.alloc(0) : Buffer.alloc(0);
    const spec: NonNullable<PlannedSecret['spec']> = { Name: name, Labels: withStackLabel(ns, o.labels), Data: data.toString('base64') };
    if (o.kind === 'secret' && o.driver !== undefined) spec.Driver = o.driverOpts ? { Name: o.driver, Options: o.driverOpts } : { Name: o.driver };
    if (o.templateDriver !== undefined) spec.Templating = { Name: o.templateDriver };
    out.push({ key, name, external: false, spec });
  }
  return out.sort(byName);
}

/** Where a secret/config file is read from: relative to the first stack file's directory. */
export function objectFilePath(o: FileObjectModel, workingDir: string): string | undefined {
  return o.file ? (isAbsolute(o.file.path) ? o.file.path : join(workingDir, o.file.path)) : undefined;
}
