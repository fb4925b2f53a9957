// Service spec validation: what POST /services/create and /services/{id}/update accept,
// normalized with Docker's defaults filled in, so everything past the API handler can rely
// on a complete spec. Rules follow Docker's daemon (swarmkit's controlapi) and its CLI
// defaults; unknown fields are refused rather than dropped.

import { errorMessage } from '../../shared/errors';
import {
  DEFAULT_JOB_RESTART_CONDITION,
  DEFAULT_RESTART_POLICY,
  DEFAULT_ROLLBACK_CONFIG,
  DEFAULT_UPDATE_CONFIG,
  checkAttributeKey,
  parseConstraint,
  serviceModeKind,
  type ContainerSpec,
  type EndpointPortConfig,
  type EndpointSpec,
  type HealthConfig,
  type Mount,
  type NetworkAttachmentConfig,
  type ServiceMode,
  type ServiceSpec,
  type TaskSpec,
} from '../../shared/swarm';
import { parseNormalized } from '../../worker/engine/images/reference';
import { SpecChecker, isPlainObject, join, type Check } from './schema';

export interface ServiceSpecOptions {
  /** Names a spec that has none (docker service create without --name); otherwise a name is required. */
  newName?: () => string;
}

/** Docker's rule for service names: a DNS label of letters, digits, '-' and '_'. */
const SERVICE_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
const MAX_NAME = 63;
const MIN_NANO_CPUS = 1_000_000; // 0.001 CPU
const MIN_MEMORY = 4 * 1024 * 1024;
const MIN_HEALTH_DURATION = 1_000_000; // 1 ms
const MODES = ['Replicated', 'Global', 'ReplicatedJob', 'GlobalJob'] as const;

const c: SpecChecker = new SpecChecker('invalid spec');

/** Validates a service spec and returns it normalized; throws INVALID_ARGUMENT naming the field. */
export function validateServiceSpec(input: unknown, opts: ServiceSpecOptions = {}): ServiceSpec {
  const spec = c.object<ServiceSpec>(input, '', {
    Name: c.string,
    Labels: c.stringMap,
    TaskTemplate: taskSpec,
    Mode: mode,
    UpdateConfig: updateConfig(['continue', 'pause', 'rollback']),
    RollbackConfig: updateConfig(['continue', 'pause']),
    Networks: networks,
    EndpointSpec: endpointSpec,
  });

  spec.Name = serviceName(spec.Name, opts);
  spec.Labels ??= {};
  spec.Mode ??= { Replicated: { Replicas: 1 } };
  const kind = serviceModeKind(spec.Mode);
  const isJob = kind === 'replicated-job' || kind === 'global-job';

  if (!spec.TaskTemplate?.ContainerSpec) c.fail('TaskTemplate.ContainerSpec', 'must be provided (shoal runs containers)');
  const task = spec.TaskTemplate;
  if (spec.Networks) {
    if (task.Networks) c.fail('Networks', 'is deprecated and TaskTemplate.Networks is also set; use TaskTemplate.Networks only');
    task.Networks = spec.Networks;
    delete spec.Networks;
  }
  task.RestartPolicy = {
    ...DEFAULT_RESTART_POLICY,
    ...(isJob ? { Condition: DEFAULT_JOB_RESTART_CONDITION } : {}),
    ...task.RestartPolicy,
  };
  task.ForceUpdate ??= 0;
  task.Runtime ??= 'container';
  if ((kind === 'global' || kind === 'global-job') && (task.Placement?.MaxReplicas ?? 0) > 0) {
    c.fail('TaskTemplate.Placement.MaxReplicas', `can only be used with replicated modes, not ${kind}`);
  }

  spec.UpdateConfig = { ...DEFAULT_UPDATE_CONFIG, ...spec.UpdateConfig };
  spec.RollbackConfig = { ...DEFAULT_ROLLBACK_CONFIG, ...spec.RollbackConfig };
  spec.EndpointSpec = checkEndpoint(spec.EndpointSpec ?? {});
  return spec;
}

function serviceName(name: string | undefined, opts: ServiceSpecOptions): string {
  if (!name) {
    if (opts.newName) return opts.newName();
    return c.fail('Name', 'must be provided');
  }
  if (name.length > MAX_NAME) c.fail('Name', `must be ${MAX_NAME} characters or fewer`, name);
  if (!SERVICE_NAME.test(name)) c.fail('Name', "must be a valid DNS name component (letters, digits, '-' and '_', starting and ending with a letter or digit)", name);
  return name;
}

// --- Mode -------------------------------------------------------------------------------

const mode: Check<ServiceMode> = (v, path) => {
  if (isPlainObject(v)) {
    for (const key of Object.keys(v)) {
      if (!MODES.some((m) => m.toLowerCase() === key.toLowerCase())) c.fail(join(path, key), `unknown mode (expected one of ${MODES.join(', ')})`);
    }
  }
  const m = c.object<ServiceMode>(v, path, {
    Replicated: (x, p) => c.object(x, p, { Replicas: c.int(0) }),
    Global: c.empty,
    ReplicatedJob: (x, p) => c.object(x, p, { MaxConcurrent: c.int(0), TotalCompletions: c.int(0) }),
    GlobalJob: c.empty,
  });
  const set = MODES.filter((k) => m[k] !== undefined);
  if (set.length > 1) c.fail(path, `only one of ${MODES.join(', ')} may be set, got ${set.join(' and ')}`);
  if (set.length === 0) return { Replicated: { Replicas: 1 } };
  if (m.Replicated) m.Replicated.Replicas ??= 1;
  if (m.ReplicatedJob) {
    // Go's omitempty makes 0 and absent the same on the wire: both mean the default.
    const max = m.ReplicatedJob.MaxConcurrent || 1;
    m.ReplicatedJob = { MaxConcurrent: max, TotalCompletions: m.ReplicatedJob.TotalCompletions || max };
  }
  return m;
};

// --- Update and rollback settings ---------------------------------------------------------

function updateConfig(actions: string[]): Check {
  return (v, path) =>
    c.object(v, path, {
      Parallelism: c.int(0),
      Delay: c.duration,
      FailureAction: c.oneOf(...actions),
      Monitor: c.duration,
      MaxFailureRatio: c.ratio,
      Order: c.oneOf('stop-first', 'start-first'),
    });
}

// --- Task template ------------------------------------------------------------------------

const driver: Check = (v, path) => c.object(v, path, { Name: c.nonEmptyString, Options: c.stringMap });

const unsupported = (what: string): Check => (_v, path) => c.fail(path, `is not supported (${what})`);

const taskSpec: Check<TaskSpec> = (v, path) =>
  c.object<TaskSpec>(v, path, {
    ContainerSpec: containerSpec,
    PluginSpec: unsupported('shoal runs containers, not plugins'),
    NetworkAttachmentSpec: unsupported('it is set by the engine for attachments, never by users'),
    Resources: (x, p) =>
      c.object(x, p, {
        Limits: (y, q) => c.object(y, q, { NanoCPUs: nanoCpus, MemoryBytes: memory, Pids: c.int(0) }),
        Reservations: (y, q) => c.object(y, q, { NanoCPUs: nanoCpus, MemoryBytes: memory, GenericResources: c.arrayOf(genericResource) }),
      }),
    RestartPolicy: (x, p) =>
      c.object(x, p, {
        Condition: c.oneOf('none', 'on-failure', 'any'),
        Delay: c.duration,
        MaxAttempts: c.int(0),
        Window: c.duration,
      }),
    Placement: (x, p) =>
      c.object(x, p, {
        Constraints: c.arrayOf(constraint),
        Preferences: c.arrayOf(preference),
        MaxReplicas: c.int(0),
        Platforms: c.arrayOf((y, q) => c.object(y, q, { Architecture: c.string, OS: c.string })),
      }),
    ForceUpdate: c.int(0),
    Runtime: (x, p) => (x === '' || x === 'container' ? 'container' : c.fail(p, "must be 'container' (the only runtime shoal has)", x)),
    Networks: networks,
    LogDriver: driver,
  });

const nanoCpus: Check<number> = (v, path) => {
  const n = c.int(0)(v, path);
  return n === 0 || n >= MIN_NANO_CPUS ? n : c.fail(path, `must be 0 or at least ${MIN_NANO_CPUS} (0.001 CPU)`, v);
};

const memory: Check<number> = (v, path) => {
  const n = c.bytes(v, path);
  return n === 0 || n >= MIN_MEMORY ? n : c.fail(path, 'must be 0 or at least 4MiB (4194304 bytes)', v);
};

const genericResource: Check = (v, path) => {
  const r = c.object<Record<string, unknown>>(v, path, {
    NamedResourceSpec: (x, p) => c.object(x, p, { Kind: c.nonEmptyString, Value: c.string }),
    DiscreteResourceSpec: (x, p) => c.object(x, p, { Kind: c.nonEmptyString, Value: c.int(0) }),
  });
  if (Object.keys(r).length !== 1) c.fail(path, 'must set exactly one of NamedResourceSpec, DiscreteResourceSpec');
  return r;
};

const constraint: Check<string> = (v, path) => {
  const expr = c.string(v, path);
  try {
    parseConstraint(expr);
  } catch (err) {
    c.fail(path, errorMessage(err));
  }
  return expr;
};

const preference: Check = (v, path) => {
  const pref = c.object<{ Spread?: { SpreadDescriptor?: string } }>(v, path, {
    Spread: (x, p) => c.object(x, p, { SpreadDescriptor: c.nonEmptyString }),
  });
  const descriptor = pref.Spread?.SpreadDescriptor;
  if (descriptor === undefined) c.fail(join(path, 'Spread.SpreadDescriptor'), 'must be provided');
  const bad = checkAttributeKey(descriptor);
  if (bad) c.fail(join(path, 'Spread.SpreadDescriptor'), bad);
  return pref;
};

const networks: Check<NetworkAttachmentConfig[]> = (v, path) => {
  const list = c.arrayOf<NetworkAttachmentConfig>((x, p) => {
    const n = c.object<NetworkAttachmentConfig>(x, p, { Target: c.nonEmptyString, Aliases: c.strings, DriverOpts: c.stringMap });
    if (!n.Target) c.fail(join(p, 'Target'), 'must be provided');
    return n;
  })(v, path);
  const seen = new Set<string>();
  list.forEach((n, i) => {
    if (seen.has(n.Target!)) c.fail(`${path}[${i}].Target`, `duplicate network '${n.Target}'`);
    seen.add(n.Target!);
  });
  return list;
};

// --- Container spec -----------------------------------------------------------------------

const absolutePath: Check<string> = (v, path) => {
  const s = c.string(v, path);
  return s.startsWith('/') ? s : c.fail(path, 'must be an absolute path', s);
};

const fileTarget: Check = (v, path) =>
  c.object(v, path, { Name: c.nonEmptyString, UID: c.string, GID: c.string, Mode: c.int(0, 0o7777) });

const containerSpec: Check<ContainerSpec> = (v, path) => {
  const spec = c.object<ContainerSpec>(v, path, {
    Image: image,
    Labels: c.stringMap,
    Command: c.strings,
    Args: c.strings,
    Hostname: c.string,
    Env: c.arrayOf(envVar),
    Dir: absolutePath,
    User: c.string,
    Groups: c.strings,
    Privileges: privileges,
    TTY: c.bool,
    OpenStdin: c.bool,
    ReadOnly: c.bool,
    Mounts: mounts,
    StopSignal: c.nonEmptyString,
    StopGracePeriod: c.duration,
    Healthcheck: healthcheck,
    Hosts: c.arrayOf(hostEntry),
    DNSConfig: (x, p) => c.object(x, p, { Nameservers: c.strings, Search: c.strings, Options: c.strings }),
    Secrets: c.arrayOf((x, p) => c.object(x, p, { File: fileTarget, SecretID: c.string, SecretName: c.string })),
    OomScoreAdj: c.int(-1000, 1000),
    Configs: c.arrayOf(configRef),
    Isolation: c.oneOf('default', 'process', 'hyperv', ''),
    Init: c.bool,
    Sysctls: c.stringMap,
    CapabilityAdd: c.strings,
    CapabilityDrop: c.strings,
    Ulimits: c.arrayOf(ulimit),
  });
  if (spec.Image === undefined) c.fail(join(path, 'Image'), 'must be provided');
  checkFileTargets(spec.Secrets, 'secret', (r) => r.SecretName, join(path, 'Secrets'));
  checkFileTargets(spec.Configs, 'config', (r) => r.ConfigName, join(path, 'Configs'));
  return spec;
};

/** swarmkit's checks: a secret needs a file target; two references of a kind cannot share one (a config without one is not mounted). */
function checkFileTargets<R extends { File?: { Name?: string } }>(refs: R[] | undefined, noun: string, name: (r: R) => string | undefined, path: string): void {
  const seen = new Map<string, string | undefined>();
  (refs ?? []).forEach((r, i) => {
    if (!r.File) {
      if (noun === 'secret') c.fail(`${path}[${i}]`, `malformed ${noun} reference, no target provided`);
      return;
    }
    const target = r.File.Name;
    if (!target) c.fail(`${path}[${i}].File.Name`, `malformed file ${noun} reference, invalid target file name provided`);
    if (seen.has(target)) c.fail(`${path}[${i}]`, `${noun} references '${seen.get(target)}' and '${name(r)}' have a conflicting target: '${target}'`);
    seen.set(target, name(r));
  });
}

const image: Check<string> = (v, path) => {
  const ref = c.string(v, path);
  if (!ref.trim()) c.fail(path, 'must not be empty');
  try {
    parseNormalized(ref);
  } catch (err) {
    c.fail(path, `is not a valid image reference: ${errorMessage(err)}`, ref);
  }
  return ref;
};

const envVar: Check<string> = (v, path) => {
  const s = c.string(v, path);
  return s && !s.startsWith('=') ? s : c.fail(path, "must be 'NAME=value' (or 'NAME')", s);
};

const hostEntry: Check<string> = (v, path) => {
  const s = c.string(v, path);
  return s.trim().split(/\s+/).length >= 2 ? s : c.fail(path, "must be 'IP_address hostname [aliases...]'", s);
};

const configRef: Check = (v, path) => {
  const ref = c.object<Record<string, unknown>>(v, path, { File: fileTarget, Runtime: c.anyObject, ConfigID: c.string, ConfigName: c.string });
  if (ref.File && ref.Runtime) c.fail(path, 'File and Runtime are mutually exclusive');
  return ref;
};

const ulimit: Check = (v, path) => {
  const u = c.object<{ Name?: string; Soft?: number; Hard?: number }>(v, path, { Name: c.nonEmptyString, Soft: c.int(0), Hard: c.int(0) });
  if (!u.Name) c.fail(join(path, 'Name'), 'must be provided');
  if (u.Soft !== undefined && u.Hard !== undefined && u.Soft > u.Hard) c.fail(path, `soft limit ${u.Soft} exceeds hard limit ${u.Hard}`);
  return u;
};

const privileges: Check = (v, path) =>
  c.object(v, path, {
    CredentialSpec: (x, p) => c.object(x, p, { Config: c.string, File: c.string, Registry: c.string }),
    SELinuxContext: (x, p) => c.object(x, p, { Disable: c.bool, User: c.string, Role: c.string, Type: c.string, Level: c.string }),
    Seccomp: (x, p) => c.object(x, p, { Mode: c.oneOf('default', 'unconfined', 'custom'), Profile: c.string }),
    AppArmor: (x, p) => c.object(x, p, { Mode: c.oneOf('default', 'disabled') }),
    NoNewPrivileges: c.bool,
  });

const healthDuration: Check<number> = (v, path) => {
  const n = c.duration(v, path);
  return n === 0 || n >= MIN_HEALTH_DURATION ? n : c.fail(path, `must be 0 (inherit) or at least ${MIN_HEALTH_DURATION} ns (1ms)`, v);
};

const healthcheck: Check<HealthConfig> = (v, path) => {
  const h = c.object<HealthConfig>(v, path, {
    Test: c.strings,
    Interval: healthDuration,
    Timeout: healthDuration,
    Retries: c.int(0),
    StartPeriod: healthDuration,
    StartInterval: healthDuration,
  });
  const test = h.Test ?? [];
  if (test.length > 0) {
    const kind = test[0];
    if (!['NONE', 'CMD', 'CMD-SHELL'].includes(kind)) c.fail(join(path, 'Test[0]'), 'must be NONE, CMD or CMD-SHELL', kind);
    if (kind !== 'NONE' && test.length < 2) c.fail(join(path, 'Test'), `${kind} needs a command after it`);
  }
  return h;
};

const mounts: Check<Mount[]> = (v, path) => {
  const list = c.arrayOf(mount)(v, path);
  const targets = new Set<string>();
  list.forEach((m, i) => {
    const target = m.Target!.replace(/\/+$/, '') || '/';
    if (targets.has(target)) c.fail(`${path}[${i}].Target`, 'duplicate mount point', m.Target);
    targets.add(target);
  });
  return list;
};

const mount: Check<Mount> = (v, path) => {
  const m = c.object<Mount>(v, path, {
    Target: absolutePath,
    Source: c.string,
    Type: c.oneOf('bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'),
    ReadOnly: c.bool,
    Consistency: c.oneOf('default', 'consistent', 'cached', 'delegated'),
    BindOptions: (x, p) =>
      c.object(x, p, {
        Propagation: c.oneOf('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'),
        NonRecursive: c.bool,
        CreateMountpoint: c.bool,
        ReadOnlyNonRecursive: c.bool,
        ReadOnlyForceRecursive: c.bool,
      }),
    VolumeOptions: (x, p) => c.object(x, p, { NoCopy: c.bool, Labels: c.stringMap, DriverConfig: driver, Subpath: subpath }),
    ImageOptions: (x, p) => c.object(x, p, { Subpath: subpath }),
    TmpfsOptions: (x, p) =>
      c.object(x, p, {
        SizeBytes: c.bytes,
        Mode: c.int(0, 0o7777),
        Options: c.arrayOf((y, q) => {
          const opt = c.strings(y, q);
          return opt.length === 1 || opt.length === 2 ? opt : c.fail(q, 'must be ["flag"] or ["key", "value"]', y);
        }),
      }),
    ClusterOptions: c.anyObject,
  });
  if (!m.Type) c.fail(join(path, 'Type'), 'must be provided (bind, volume, tmpfs or image)');
  if (m.Target === undefined) c.fail(join(path, 'Target'), 'must be provided');
  const optionsFor: Record<string, keyof Mount> = { bind: 'BindOptions', volume: 'VolumeOptions', tmpfs: 'TmpfsOptions', image: 'ImageOptions' };
  for (const [type, field] of Object.entries(optionsFor)) {
    if (m[field] !== undefined && m.Type !== type) c.fail(join(path, field), `can only be used with Type ${type}, not ${m.Type}`);
  }
  switch (m.Type) {
    case 'bind':
      if (!m.Source) c.fail(join(path, 'Source'), 'must be provided for a bind mount');
      absolutePath(m.Source, join(path, 'Source'));
      break;
    case 'image':
      if (!m.Source) c.fail(join(path, 'Source'), 'must name an image for an image mount');
      break;
    case 'tmpfs':
      if (m.Source) c.fail(join(path, 'Source'), 'must be empty for a tmpfs mount', m.Source);
      break;
    case 'npipe':
      c.fail(join(path, 'Type'), 'npipe mounts exist on Windows only');
      break;
    case 'cluster':
      c.fail(join(path, 'Type'), 'cluster volumes are not supported by shoal');
      break;
  }
  return m;
};

const subpath: Check<string> = (v, path) => {
  const s = c.string(v, path);
  if (s.startsWith('/') || s.split('/').includes('..')) c.fail(path, 'must be a relative path without ..', s);
  return s;
};

// --- Endpoint -----------------------------------------------------------------------------

const endpointSpec: Check<EndpointSpec> = (v, path) =>
  c.object<EndpointSpec>(v, path, {
    Mode: c.oneOf('vip', 'dnsrr'),
    Ports: c.arrayOf<EndpointPortConfig>((x, p) => {
      const port = c.object<EndpointPortConfig>(x, p, {
        Name: c.string,
        Protocol: c.oneOf('tcp', 'udp', 'sctp'),
        TargetPort: c.int(1, 65535),
        PublishedPort: c.int(0, 65535),
        PublishMode: c.oneOf('ingress', 'host'),
      });
      if (port.TargetPort === undefined) c.fail(join(p, 'TargetPort'), 'must be provided');
      return { ...port, Protocol: port.Protocol ?? 'tcp', PublishMode: port.PublishMode ?? 'ingress' };
    }),
  });

function checkEndpoint(ep: EndpointSpec): EndpointSpec {
  const out: EndpointSpec = { ...ep, Mode: ep.Mode ?? 'vip' };
  const published = new Set<string>();
  (out.Ports ?? []).forEach((port, i) => {
    const at = `EndpointSpec.Ports[${i}]`;
    if (out.Mode === 'dnsrr' && port.PublishMode === 'ingress') c.fail(at, 'a port published in ingress mode cannot be used with EndpointSpec.Mode dnsrr (use PublishMode host)');
    if (port.PublishMode === 'ingress' && port.PublishedPort) {
      const key = `${port.PublishedPort}/${port.Protocol}`;
      if (published.has(key)) c.fail(join(at, 'PublishedPort'), `duplicate published port ${key}`);
      published.add(key);
    }
  });
  return out;
}
