// service create's flags into the ServiceSpec docker sends: only what was given, plus the
// handful of fields docker always sends (Labels, Init, DNSConfig, Resources, Placement,
// ForceUpdate, EndpointSpec.Mode). Pure: files and the caller's environment come in as deps.
import { FlagError, OptionError } from '../errors';
import { buildEnv, type LookupEnv, type ReadFile } from '../env';
import { effectiveCaps, parseExtraHost, parseHealth, parseUlimits, validateIp } from '../policy';
import { parseCpus, parseInteger, parseKeyValues, parseSize } from '../values';
import { parseMount } from '../volumes';
import { familiarString, parseRef, withDefaultTag } from '../../reference';
import type { ContainerSpec, HealthConfig, RestartPolicy, ServiceMode, RollbackConfig, ServiceSpec, TaskSpec, UpdateConfig } from '../../format/swarm-types';
import type { Mount as SwarmMount } from '../../../shared/swarm/types';
import type { CommonServiceFlags, CreateServiceFlags } from './flags';
import { parseFileRef } from './secrets';
import { oneOf, parseDuration, parseFloat32, parseNetwork, parsePlacementPref, parsePublish, parseShellWords, parseUint } from './values';

export interface SpecDeps {
  readFile: ReadFile;
  lookupEnv: LookupEnv;
}

export const RESTART_CONDITIONS = ['none', 'on-failure', 'any'] as const;
export const FAILURE_ACTIONS = ['pause', 'continue', 'rollback'] as const;
export const ROLLBACK_FAILURE_ACTIONS = ['pause', 'continue'] as const;
export const ORDERS = ['stop-first', 'start-first'] as const;
export const ENDPOINT_MODES = ['vip', 'dnsrr'] as const;
export const MODES = ['replicated', 'global', 'replicated-job', 'global-job'] as const;

/** swarmkit's defaults, which docker fills in when any flag of a group is given. */
export const DEFAULT_RESTART: RestartPolicy = { Condition: 'any', Delay: 5e9, MaxAttempts: 0 };
export const DEFAULT_UPDATE: UpdateConfig = { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' };

const given = (...vs: unknown[]) => vs.some((v) => v !== undefined);

/** "busybox" -> "busybox:latest", as the docker client tags the image before sending. */
export function taggedImage(image: string): string {
  try {
    return familiarString(withDefaultTag(parseRef(image)));
  } catch {
    return image;
  }
}

/** Env files then -e values, later values of a key replacing earlier ones (docker's makeEnv). */
export function serviceEnv(envFiles: string[], env: string[], deps: SpecDeps): string[] {
  const out: string[] = [];
  for (const e of buildEnv(envFiles, env, deps.readFile, deps.lookupEnv)) {
    if (out.includes(e)) continue;
    const key = e.split('=')[0];
    const i = out.findIndex((x) => x.startsWith(`${key}=`));
    if (i >= 0) out.splice(i, 1);
    out.push(e);
  }
  return out;
}

/** -l/--label values (docker's ValidateLabel), as a map. */
export function parseLabels(values: string[], flag: string): Record<string, string> {
  for (const v of values) {
    const key = v.split('=')[0].replace(/^[ \t\n\r\f\v]+/, '');
    if (!key) throw new FlagError(flag, v, `invalid label '${v}': empty name`);
    if (/\s/.test(key)) throw new FlagError(flag, v, `label '${key}' contains whitespaces`);
  }
  return parseKeyValues(values, flag);
}

/** host:ip values into swarmkit's "ip host" lines. */
export function swarmHosts(values: string[], flag: string): string[] {
  return values.map((v) => {
    let h: string;
    try {
      h = parseExtraHost(v);
    } catch (e) {
      if (e instanceof FlagError) throw new FlagError(flag, v, e.reason);
      throw e;
    }
    const i = h.indexOf(':');
    return `${h.slice(i + 1)} ${h.slice(0, i)}`;
  });
}

/** create: the --health-* flags as docker run reads them. */
function healthConfig(f: CommonServiceFlags): HealthConfig | undefined {
  return parseHealth({ cmd: f.healthCmd, interval: f.healthInterval, timeout: f.healthTimeout, startPeriod: f.healthStartPeriod, startInterval: f.healthStartInterval, retries: f.healthRetries, none: f.healthcheck === false });
}

/** --restart-* into a RestartPolicy on top of swarmkit's defaults; undefined when none is given. */
export function restartPolicy(f: CommonServiceFlags, base?: RestartPolicy): RestartPolicy | undefined {
  if (!given(f.restartCondition, f.restartDelay, f.restartMaxAttempts, f.restartWindow)) return base;
  const rp: RestartPolicy = { ...(base ?? DEFAULT_RESTART) };
  if (f.restartCondition !== undefined) rp.Condition = oneOf(f.restartCondition, '--restart-condition', RESTART_CONDITIONS);
  if (f.restartDelay !== undefined) rp.Delay = parseDuration(f.restartDelay, '--restart-delay');
  if (f.restartMaxAttempts !== undefined) rp.MaxAttempts = parseUint(f.restartMaxAttempts, '--restart-max-attempts');
  if (f.restartWindow !== undefined) rp.Window = parseDuration(f.restartWindow, '--restart-window');
  return rp;
}

/** --update-* or --rollback-* into an UpdateConfig on top of `base` (swarmkit's defaults); undefined when none is given. */
export function updateConfig(f: CommonServiceFlags, which: 'update', base?: UpdateConfig): UpdateConfig | undefined;
export function updateConfig(f: CommonServiceFlags, which: 'rollback', base?: RollbackConfig): RollbackConfig | undefined;
export function updateConfig(f: CommonServiceFlags, which: 'update' | 'rollback', base?: UpdateConfig): UpdateConfig | undefined {
  const p = which === 'update' ? { par: f.updateParallelism, delay: f.updateDelay, mon: f.updateMonitor, fail: f.updateFailureAction, ratio: f.updateMaxFailureRatio, order: f.updateOrder } : { par: f.rollbackParallelism, delay: f.rollbackDelay, mon: f.rollbackMonitor, fail: f.rollbackFailureAction, ratio: f.rollbackMaxFailureRatio, order: f.rollbackOrder };
  if (!given(p.par, p.delay, p.mon, p.fail, p.ratio, p.order)) return base;
  const uc: UpdateConfig = { ...(base ?? DEFAULT_UPDATE) };
  if (p.par !== undefined) uc.Parallelism = parseUint(p.par, `--${which}-parallelism`);
  if (p.delay !== undefined) uc.Delay = parseDuration(p.delay, `--${which}-delay`);
  if (p.mon !== undefined) uc.Monitor = parseDuration(p.mon, `--${which}-monitor`);
  if (p.fail !== undefined) uc.FailureAction = oneOf(p.fail, `--${which}-failure-action`, which === 'update' ? FAILURE_ACTIONS : ROLLBACK_FAILURE_ACTIONS);
  if (p.ratio !== undefined) {
    const r = parseFloat32(p.ratio, `--${which}-max-failure-ratio`);
    if (!(r >= 0 && r <= 1)) throw new FlagError(`--${which}-max-failure-ratio`, p.ratio, 'must be between 0 and 1');
    uc.MaxFailureRatio = r;
  }
  if (p.order !== undefined) uc.Order = oneOf(p.order, `--${which}-order`, ORDERS);
  return stripZeroDurations(uc);
}

/** Go omits a zero Delay or Monitor from the JSON. */
function stripZeroDurations(uc: UpdateConfig): UpdateConfig {
  const out = { ...uc };
  if (!out.Delay) delete out.Delay;
  if (!out.Monitor) delete out.Monitor;
  return out;
}

function serviceMode(f: CreateServiceFlags): ServiceMode {
  const mode = f.mode ?? 'replicated';
  const replicas = f.replicas === undefined ? undefined : parseUint(f.replicas, '--replicas');
  const concurrent = f.maxConcurrent === undefined ? undefined : parseUint(f.maxConcurrent, '--max-concurrent');
  const maxPerNode = f.replicasMaxPerNode === undefined ? 0 : parseUint(f.replicasMaxPerNode, '--replicas-max-per-node');
  const noReplicas = () => {
    if (replicas !== undefined) throw new OptionError('replicas can only be used with replicated or replicated-job mode');
  };
  const noMaxPerNode = () => {
    if (maxPerNode > 0) throw new OptionError('replicas-max-per-node can only be used with replicated or replicated-job mode');
  };
  const noConcurrent = () => {
    if (concurrent !== undefined) throw new OptionError('max-concurrent can only be used with replicated-job mode');
  };
  switch (mode) {
    case 'global':
      noReplicas();
      noMaxPerNode();
      noConcurrent();
      return { Global: {} };
    case 'replicated':
      noConcurrent();
      return { Replicated: replicas === undefined ? {} : { Replicas: replicas } };
    case 'replicated-job': {
      const job: NonNullable<ServiceMode['ReplicatedJob']> = {};
      const mc = concurrent ?? replicas;
      if (mc !== undefined) job.MaxConcurrent = mc;
      if (replicas !== undefined) job.TotalCompletions = replicas;
      return { ReplicatedJob: job };
    }
    case 'global-job':
      noMaxPerNode();
      noConcurrent();
      noReplicas();
      return { GlobalJob: {} };
    default:
      throw new OptionError(`unknown mode: ${mode}, only replicated and global supported`);
  }
}

/** --limit-* and --reserve-* (docker always sends both objects, empty when unset). */
export function resourceValues(f: CommonServiceFlags): { limits: Record<string, number>; reservations: Record<string, number> } {
  const limits: Record<string, number> = {};
  const reservations: Record<string, number> = {};
  if (f.limitCpu !== undefined) limits.NanoCPUs = parseCpus(f.limitCpu, '--limit-cpu');
  if (f.limitMemory !== undefined) limits.MemoryBytes = parseSize(f.limitMemory, '--limit-memory');
  if (f.limitPids !== undefined) limits.Pids = parseInteger(f.limitPids, '--limit-pids');
  if (f.reserveCpu !== undefined) reservations.NanoCPUs = parseCpus(f.reserveCpu, '--reserve-cpu');
  if (f.reserveMemory !== undefined) reservations.MemoryBytes = parseSize(f.reserveMemory, '--reserve-memory');
  return { limits, reservations };
}

const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0));

/**
 * The ServiceSpec for `service create [flags] IMAGE [COMMAND] [ARG...]`. Network names are
 * left as given: the command resolves them to IDs (GET /networks/{name}) before sending.
 */
export function buildServiceSpec(f: CreateServiceFlags, image: string, args: string[], deps: SpecDeps): ServiceSpec {
  const mode = serviceMode(f);
  const update = updateConfig(f, 'update');
  const rollback = updateConfig(f, 'rollback');
  if ((mode.ReplicatedJob || mode.GlobalJob) && (update || rollback)) throw new OptionError('update and rollback configuration is not supported for jobs');

  const env = serviceEnv(f.envFile ?? [], f.env ?? [], deps);
  const { limits, reservations } = resourceValues(f);
  const caps = effectiveCaps(f.capAdd ?? [], f.capDrop ?? []);
  const containerLabels = parseLabels(f.containerLabel ?? [], '--container-label');
  const sysctls = parseKeyValues(f.sysctl ?? [], '--sysctl');
  const ulimits = parseUlimits(f.ulimit ?? []);
  const dns = (f.dns ?? []).map((d) => validateIp(d, '--dns'));
  const hc = healthConfig(f);
  const oom = f.oomScoreAdj === undefined ? 0 : parseInteger(f.oomScoreAdj, '--oom-score-adj');

  const cs: ContainerSpec = { Image: taggedImage(image) };
  if (Object.keys(containerLabels).length) cs.Labels = containerLabels;
  if (f.entrypoint !== undefined) {
    const words = parseShellWords(f.entrypoint, '--entrypoint');
    if (words.length) cs.Command = words;
  }
  if (args.length) cs.Args = args;
  if (f.hostname) cs.Hostname = f.hostname;
  if (env.length) cs.Env = env;
  if (f.workdir) cs.Dir = f.workdir;
  if (f.user) cs.User = f.user;
  if (f.group?.length) cs.Groups = f.group;
  cs.Init = f.init === true;
  if (f.stopSignal) cs.StopSignal = f.stopSignal;
  if (f.tty) cs.TTY = true;
  if (f.readOnly) cs.ReadOnly = true;
  const mounts = (f.mount ?? []).map(parseMount);
  if (mounts.length) cs.Mounts = mounts as SwarmMount[]; // parseMount admits only the API's mount types
  if (f.stopGracePeriod !== undefined) cs.StopGracePeriod = parseDuration(f.stopGracePeriod, '--stop-grace-period');
  if (hc) cs.Healthcheck = hc;
  const hosts = swarmHosts(f.host ?? [], '--host');
  if (hosts.length) cs.Hosts = hosts;
  cs.DNSConfig = {
    ...(dns.length ? { Nameservers: dns } : {}),
    ...(f.dnsSearch?.length ? { Search: f.dnsSearch } : {}),
    ...(f.dnsOption?.length ? { Options: f.dnsOption } : {}),
  };
  if (f.isolation) cs.Isolation = f.isolation as ContainerSpec['Isolation']; // the daemon checks it
  if (Object.keys(sysctls).length) cs.Sysctls = sysctls;
  if (caps.CapAdd) cs.CapabilityAdd = caps.CapAdd;
  if (caps.CapDrop) cs.CapabilityDrop = caps.CapDrop;
  if (ulimits.length) cs.Ulimits = ulimits;
  if (oom) cs.OomScoreAdj = oom;
  // By name here: the command fills SecretID/ConfigID (resolveFileRefs) before sending.
  const secrets = (f.secret ?? []).map((v) => parseFileRef(v, 'secret', '--secret'));
  if (secrets.length) cs.Secrets = secrets.map((r) => ({ File: r.file, SecretName: r.name }));
  const configs = (f.config ?? []).map((v) => parseFileRef(v, 'config', '--config'));
  if (configs.length) cs.Configs = configs.map((r) => ({ File: r.file, ConfigName: r.name }));

  const task: TaskSpec = { ContainerSpec: cs };
  const networks = (f.network ?? []).map((n) => parseNetwork(n, '--network'));
  if (networks.length) task.Networks = networks;
  task.Resources = { Limits: nonZero(limits), Reservations: nonZero(reservations) };
  const rp = restartPolicy(f);
  if (rp) task.RestartPolicy = rp;
  const maxPerNode = f.replicasMaxPerNode === undefined ? 0 : parseUint(f.replicasMaxPerNode, '--replicas-max-per-node');
  task.Placement = {
    ...(f.constraint?.length ? { Constraints: f.constraint } : {}),
    ...(f.placementPref?.length ? { Preferences: f.placementPref.map((p) => parsePlacementPref(p, '--placement-pref')) } : {}),
    ...(maxPerNode ? { MaxReplicas: maxPerNode } : {}),
  };
  if (f.logDriver) task.LogDriver = { Name: f.logDriver, ...(f.logOpt?.length ? { Options: parseKeyValues(f.logOpt, '--log-opt') } : {}) };
  task.ForceUpdate = 0;

  const ports = (f.publish ?? []).flatMap((p) => parsePublish(p));
  const spec: ServiceSpec = {
    ...(f.name ? { Name: f.name } : {}),
    Labels: parseLabels(f.label ?? [], '-l, --label'),
    TaskTemplate: task,
    Mode: mode,
  };
  if (update) spec.UpdateConfig = update;
  if (rollback) spec.RollbackConfig = rollback;
  spec.EndpointSpec = { Mode: oneOf((f.endpointMode ?? 'vip').toLowerCase(), '--endpoint-mode', ENDPOINT_MODES), ...(ports.length ? { Ports: ports } : {}) };
  return spec;
}
